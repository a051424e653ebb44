"""Batch grading: the ``grade`` verb's orchestrator (intake -> executor -> checks -> gradebook -> reports)."""
