"""Intake: find every student's submission in a folder or an LMS zip, safely.

``collect(path, lab)`` detects the layout (a folder of ``<student_id>.ipynb``,
an nbgrader ``submitted/`` tree, or a Canvas-style bulk-download zip/folder),
reads each notebook's bytes under a size cap without following symlinks or
extracting anything to disk, and returns one :class:`Candidate` per student.
``parse_submission(data, ...)`` turns those bytes into a clean notebook dict or
an :class:`IntakeError` whose message is recorded as the student's status.
"""
from autograder.intake.collect import Candidate, IntakeResult, collect
from autograder.intake.validate import IntakeError, lab_grade_ids, parse_submission

__all__ = ["Candidate", "IntakeResult", "IntakeError", "collect", "lab_grade_ids", "parse_submission"]
