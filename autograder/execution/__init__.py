"""Execution: what runs for a submission, and running it (in-process or sandboxed)."""
