"""A mock interviewer for ML Engineer and AI Engineer interviews."""
