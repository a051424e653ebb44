"""Benchmarks: the project's batch grader against nbgrader autograde, same submissions."""
