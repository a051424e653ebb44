"""Every file in OUT, regenerated from the gradebook (never from a run's memory).

``export_outputs(gradebook, lab, out)`` writes, atomically:

* ``grades.csv``: one row per student, the spec's columns first (see
  docs/grading.md), sorted by student id, no timestamps: grading the same
  folder twice gives byte-identical files;
* ``results.jsonl``: one JSON object per graded item, same order;
* ``feedback/<student_id>.html`` and ``report.html`` (:func:`write_pages`, also
  used alone by the ``report`` verb);
* ``review_queue.csv``: the written items waiting for a TA (for ``autograder review``).

With ``extra=True`` (the ``export`` verb) also ``items.csv`` (every item with
its part and title) and ``canvas_import.csv`` (Canvas gradebook import).
"""
from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from autograder.gradebook import Gradebook
from autograder.labs import Lab
from autograder.reports.atomic import clean_stale, write_text
from autograder.reports.class_report import render_class_report
from autograder.reports.feedback import write_feedback
from autograder.reports.model import StudentView, fmt_points, view_of

GRADES_COLUMNS = ["student_id", "assignment", "status", "code_points", "code_max", "written_points", "written_max",
                  "total_points", "max_points", "needs_review"]
GRADES_EXTRA = ["issues", "late", "attempt", "message"]
RESULT_KEYS = ["student_id", "assignment", "item", "kind", "grade_id", "points", "max_points", "status", "message"]
ITEMS_COLUMNS = ["student_id", "assignment", "item", "kind", "grade_id", "part", "title", "points", "max_points",
                 "status", "ta_decided", "message"]
REVIEW_COLUMNS = ["student_id", "item", "question", "criterion", "proposed_points", "max_points", "reason", "answer",
                  "points", "comment"]
CANVAS_FIXED = ["Student", "ID", "SIS User ID", "Section"]


@dataclass
class ExportResult:
    statuses: dict[str, int]
    review_queue: int
    files: list[Path] = field(default_factory=list)


def _csv(rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    return buf.getvalue()


def _num(x: float) -> float:
    return round(float(x), 4) + 0.0


def grades_csv(views: Sequence[StudentView]) -> str:
    rows: list[list[Any]] = [GRADES_COLUMNS + GRADES_EXTRA]
    for v in views:
        rows.append([v.student_id, v.assignment, v.status, fmt_points(v.code_points), fmt_points(v.code_max),
                     fmt_points(v.written_points), fmt_points(v.written_max), fmt_points(v.total_points),
                     fmt_points(v.max_points), str(v.needs_review), str(len(v.issues)), "1" if v.late else "0",
                     str(v.attempt), v.message.replace("\n", " ")])
    return _csv(rows)


def results_jsonl(views: Sequence[StudentView]) -> str:
    lines = []
    for v in views:
        for r in v.tests + v.rubric:
            obj = {"student_id": v.student_id, "assignment": v.assignment, "item": r.item, "kind": r.kind,
                   "grade_id": r.grade_id, "points": _num(r.points), "max_points": _num(r.max_points),
                   "status": r.status, "message": r.message}
            lines.append(json.dumps(obj, ensure_ascii=False, allow_nan=False))
    return "".join(line + "\n" for line in lines)


def items_csv(views: Sequence[StudentView]) -> str:
    rows: list[list[Any]] = [ITEMS_COLUMNS]
    for v in views:
        for r in v.tests + v.rubric:
            rows.append([v.student_id, v.assignment, r.item, r.kind, r.grade_id, r.part, r.title, fmt_points(r.points),
                         fmt_points(r.max_points), r.status, "1" if "ta" in r.detail else "0", r.message])
    return _csv(rows)


def review_queue_csv(views: Sequence[StudentView]) -> tuple[str, int]:
    rows: list[list[Any]] = [REVIEW_COLUMNS]
    for v in views:
        for r in v.rubric:
            if r.status != "needs_review":
                continue
            rows.append([v.student_id, r.item, r.grade_id, r.title, fmt_points(r.points), fmt_points(r.max_points),
                         r.detail.get("reason", ""), v.answers.get(r.grade_id, ""), "", ""])
    return _csv(rows), len(rows) - 1


def read_roster(path: Path) -> list[dict[str, str]]:
    """A Canvas gradebook export (or any CSV with Student, ID, SIS User ID, SIS Login ID, Section)."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    return [r for r in rows if (r.get("Student") or "").strip() and "Points Possible" not in (r.get("Student") or "")]


def _roster_index(roster: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    from autograder.intake.collect import safe_student_id

    index: dict[str, dict[str, str]] = {}
    for row in roster:
        for key in ("ID", "SIS User ID", "SIS Login ID", "Integration ID"):
            value = (row.get(key) or "").strip()
            if value:
                index.setdefault(f"{key}:{value}", row)
                index.setdefault(f"sid:{safe_student_id(value)}", row)
        name = (row.get("Student") or "").strip()
        if name:  # "Doe, Jane" -> doe_jane (the Canvas file-name slug is last+first)
            slug = safe_student_id("_".join(p.strip().lower().replace(" ", "_") for p in name.split(",")))
            index.setdefault(f"slug:{slug}", row)
            index.setdefault(f"slug:{slug.replace('_', '')}", row)
    return index


def canvas_csv(views: Sequence[StudentView], lab: Lab, *, roster: list[dict[str, str]] | None = None,
               assignment_id: str | None = None) -> str:
    """Canvas gradebook import: Student, ID, SIS User ID, Section, "<Assignment> (<id>)".

    A row's Canvas ``ID`` is the user id from the LMS file name or the roster;
    ``SIS User ID`` comes from the roster, else the student id itself (nbgrader and
    folder layouts use the SIS login as student id). Submissions with status
    ``error`` get an empty score (Canvas leaves the cell unchanged)."""
    header = f"{lab.title} ({assignment_id})" if assignment_id else lab.title
    index = _roster_index(roster or [])
    rows: list[list[Any]] = [CANVAS_FIXED + [header]]
    for v in views:
        match = None
        for key in (f"ID:{v.lms_user_id}" if v.lms_user_id else "", f"sid:{v.student_id}", f"slug:{v.student_id}"):
            if key and key in index:
                match = index[key]
                break
        student = (match or {}).get("Student") or v.display_name or v.student_id
        canvas_id = (match or {}).get("ID") or v.lms_user_id or ""
        sis = (match or {}).get("SIS User ID") or v.sis_user_id or ("" if v.lms_user_id else v.student_id)
        section = (match or {}).get("Section") or v.section or ""
        score = "" if v.status == "error" else fmt_points(v.total_points)
        rows.append([student, canvas_id, sis, section, score])
    return _csv(rows)


def write_pages(gb: Gradebook, lab: Lab, out: Path, views: Sequence[StudentView] | None = None) -> list[Path]:
    """Write ``feedback/<student_id>.html`` and ``report.html`` from the gradebook and
    return the feedback pages written; the ``report`` verb calls only this, so
    regenerating the pages never rewrites grades.csv or the LMS files."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    clean_stale(out)
    if views is None:
        views = [view_of(run, lab) for run in gb.current(lab.name)]
    pages = write_feedback(out, views)
    write_text(out / "report.html", render_class_report(views, lab_title=lab.title, assignment=lab.name,
                                                        batch=gb.last_batch(lab.name)))
    return pages


def export_outputs(gb: Gradebook, lab: Lab, out: Path, *, extra: bool = False, roster: Path | None = None,
                   canvas_assignment_id: str | None = None) -> ExportResult:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    clean_stale(out)
    views = [view_of(run, lab) for run in gb.current(lab.name)]
    files = [out / "grades.csv", out / "results.jsonl", out / "review_queue.csv", out / "report.html"]
    write_text(out / "grades.csv", grades_csv(views))
    write_text(out / "results.jsonl", results_jsonl(views))
    queue_text, queue = review_queue_csv(views)
    write_text(out / "review_queue.csv", queue_text)
    files += write_pages(gb, lab, out, views)
    if extra:
        write_text(out / "items.csv", items_csv(views))
        roster_rows = read_roster(Path(roster)) if roster else None
        write_text(out / "canvas_import.csv", canvas_csv(views, lab, roster=roster_rows, assignment_id=canvas_assignment_id))
        files += [out / "items.csv", out / "canvas_import.csv"]
    return ExportResult(dict(Counter(v.status for v in views)), queue, files)
