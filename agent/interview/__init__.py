"""The interview: the LangGraph graph, its nodes and state, the next-step rule, the question
planner, the interviewer that runs it, CV deep-dives, the report and progress over time."""
