"""Authoring: reading the nbgrader metadata of solution notebooks."""
