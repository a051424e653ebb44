"""TA review of written answers: record decisions (append-only) and re-export.

The queue is ``OUT/review_queue.csv`` (written by every grade/export run): one
row per rubric item waiting for a TA, with the proposal, the scorer's reason
and the student's answer. A TA fills in the ``points`` column (and optionally
``comment``, shown to the student) and imports the file; each filled row
becomes a TA decision keyed by the answer's hash, so it keeps applying after a
regrade as long as the student's answer is unchanged.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from autograder.gradebook import Gradebook, GradebookError


@dataclass
class ImportResult:
    recorded: int
    skipped_blank: int
    problems: list[str]


def import_decisions(gb: Gradebook, assignment: str, path: Path, *, decided_by: str = "") -> ImportResult:
    recorded = blank = 0
    problems: list[str] = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"student_id", "item", "points"} - set(reader.fieldnames or [])
        if missing:
            raise GradebookError(f"{path}: missing column(s) {sorted(missing)}; start from OUT/review_queue.csv")
        for line, row in enumerate(reader, start=2):
            raw = (row.get("points") or "").strip()
            if not raw:
                blank += 1
                continue
            try:
                points = float(raw)
                gb.record_decision(assignment, row["student_id"].strip(), row["item"].strip(), points,
                                   comment=(row.get("comment") or "").strip(), decided_by=decided_by)
                recorded += 1
            except ValueError:
                problems.append(f"line {line}: points {raw!r} is not a number")
            except GradebookError as exc:
                problems.append(f"line {line}: {exc}")
    return ImportResult(recorded, blank, problems)
