"""Grading: the question bank, the offline rubric engine and its screens, the model grader
behind the same provider interface, feedback, calibration and regrading."""
