"""What every report shows about one student, computed once from the gradebook.

:class:`StudentView` is the input of the feedback page, the class report and
the CSV exports, so every file agrees on every number.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from autograder.gradebook import CurrentRun, ResultRow
from autograder.labs import PART_TITLES, Lab


def fmt_points(x: float) -> str:
    """Deterministic point formatting: 3, 2.5, 0.33 (two decimals at most, no exponent)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "0"
    text = f"{round(float(x) + 0.0, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass
class PartTotal:
    key: str
    title: str
    points: float
    max_points: float


@dataclass
class StudentView:
    student_id: str
    assignment: str
    lab_title: str
    status: str
    message: str
    code_points: float
    code_max: float
    written_points: float
    written_max: float
    needs_review: int
    parts: list[PartTotal]
    tests: list[ResultRow]
    rubric: list[ResultRow]
    issues: list[dict[str, Any]]
    cell_errors: list[dict[str, Any]]
    answers: dict[str, str]
    late: bool = False
    attempt: int = 0
    submitted_at: str | None = None
    source_path: str = ""
    display_name: str | None = None
    lms_user_id: str | None = None
    sis_user_id: str | None = None
    section: str | None = None
    wall_s: float = 0.0
    exec_status: str | None = None
    output_tail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total_points(self) -> float:
        return self.code_points + self.written_points

    @property
    def max_points(self) -> float:
        return self.code_max + self.written_max


def _question_totals(rows: list[ResultRow]) -> dict[str, tuple[float, float, str]]:
    """grade_id -> (points, max, part) over rubric rows (clamped and capped like the scorer)."""
    from autograder.grading.written import question_total

    per_q: dict[str, list[ResultRow]] = {}
    for r in rows:
        per_q.setdefault(r.grade_id, []).append(r)
    return {gid: (*question_total(items), items[0].part) for gid, items in per_q.items()}


def view_of(run: CurrentRun, lab: Lab) -> StudentView:
    tests = [r for r in run.results if r.kind == "test"]
    rubric = [r for r in run.results if r.kind == "rubric"]
    questions = _question_totals(rubric)
    if run.status == "error":
        code_points, code_max = 0.0, run.code_max
        written_points, written_max = 0.0, run.written_max
    else:
        code_points = sum(r.points for r in tests)
        code_max = sum(r.max_points for r in tests) if tests else run.code_max
        written_points = sum(p for p, _, _ in questions.values())
        written_max = sum(m for _, m, _ in questions.values()) if rubric else run.written_max
    parts = []
    for key, title in PART_TITLES.items():
        pts = sum(r.points for r in tests if r.part == key) + sum(p for p, _, part in questions.values() if part == key)
        mx = sum(r.max_points for r in tests if r.part == key) + sum(m for _, m, part in questions.values() if part == key)
        if mx or key in lab.parts:
            parts.append(PartTotal(key, title, pts, mx))
    cell_errors = [c for c in run.cells if isinstance(c, dict) and not c.get("ok", True)]
    return StudentView(
        student_id=run.student_id, assignment=run.assignment, lab_title=lab.title, status=run.status,
        message=run.message, code_points=code_points, code_max=code_max, written_points=written_points,
        written_max=written_max, needs_review=sum(1 for r in rubric if r.status == "needs_review"), parts=parts,
        tests=tests, rubric=rubric, issues=run.issues, cell_errors=cell_errors, answers=run.answers, late=run.late,
        attempt=run.attempt, submitted_at=run.submitted_at, source_path=run.source_path,
        display_name=run.display_name, lms_user_id=run.lms_user_id, sis_user_id=run.sis_user_id, section=run.section,
        wall_s=run.wall_s, exec_status=run.exec_status, output_tail=run.output_tail,
        extra={"plots": list(getattr(run, "plots", []) or [])},
    )
