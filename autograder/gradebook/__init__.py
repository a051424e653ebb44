"""The gradebook (SQLite): submissions, runs, per-item results and append-only TA decisions."""
from autograder.gradebook.store import (
    SCHEMA_VERSION,
    CurrentRun,
    Decision,
    Gradebook,
    GradebookError,
    ResultRow,
    RunRecord,
    SubmissionInfo,
)

__all__ = ["SCHEMA_VERSION", "CurrentRun", "Decision", "Gradebook", "GradebookError", "ResultRow", "RunRecord", "SubmissionInfo"]
