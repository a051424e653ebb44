"""Assemble what runs for one submission: trusted provided cells + the student's answers.

The provided (locked) cells come from the trusted release, never from the
submission; the student's solution cells are found by ``grade_id``, never by
position, and run in the release's order. Edits to locked cells are detected
(and ignored), missing and duplicated cells are recorded, and nothing in the
submission's metadata (points, grade flags) is trusted.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from autograder.authoring import cells as C

Origin = Literal["provided", "student"]


@dataclass(frozen=True)
class CellRun:
    index: int  # position in the trusted notebook
    grade_id: str
    origin: Origin
    source: str


@dataclass(frozen=True)
class Issue:
    """Something about the submission a TA should see; ``kind`` is machine-readable."""

    kind: Literal["missing_cell", "duplicate_cell", "tampered_cell", "wrong_cell_type", "not_run"]
    grade_id: str
    message: str


@dataclass
class Program:
    cells: list[CellRun] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    written: dict[str, str] = field(default_factory=dict)  # grade_id -> Markdown answer text

    def student_cells(self) -> list[CellRun]:
        return [c for c in self.cells if c.origin == "student"]

    def missing(self) -> set[str]:
        return {i.grade_id for i in self.issues if i.kind == "missing_cell"}


def _normalise(src: str) -> str:
    return "\n".join(line.rstrip() for line in src.strip().splitlines())


def assemble(trusted: dict[str, Any], submission: dict[str, Any], *, run_experiments: bool = False) -> Program:
    """Build the program for ``submission`` against the ``trusted`` release notebook.

    ``trusted`` may also be the solution notebook itself (development mode): its
    locked cells are the same as the release's.
    """
    program = Program()
    found = C.cells_by_grade_id(submission)
    sub_cells = submission.get("cells", [])
    for index, cell in enumerate(trusted.get("cells", [])):
        gid = C.grade_id(cell)
        if gid is None:
            continue
        if C.is_solution(cell):
            hits = found.get(gid, [])
            if not hits:
                what = "written answer" if cell.get("cell_type") == "markdown" else "code cell"
                program.issues.append(Issue("missing_cell", gid, f"The {what} '{gid}' is missing from your notebook (deleted or its metadata was changed), so it could not be graded."))
                continue
            if len(hits) > 1:
                program.issues.append(Issue("duplicate_cell", gid, f"Your notebook has {len(hits)} cells marked '{gid}'; only the first one was graded."))
            student = sub_cells[hits[0]]
            if student.get("cell_type") != cell.get("cell_type"):
                program.issues.append(Issue("wrong_cell_type", gid, f"The cell '{gid}' should be a {cell.get('cell_type')} cell; yours is {student.get('cell_type')}."))
                continue
            if cell.get("cell_type") == "markdown":
                program.written[gid] = C.source_text(student)
            elif cell.get("cell_type") == "code":
                program.cells.append(CellRun(index, gid, "student", C.source_text(student)))
            continue
        if cell.get("cell_type") != "code" or not C.is_locked(cell):
            continue
        trusted_src = C.source_text(cell)
        hits = found.get(gid, [])
        if not hits:
            program.issues.append(Issue("tampered_cell", gid, f"The provided cell '{gid}' was deleted; the original version was used instead."))
        elif _normalise(C.source_text(sub_cells[hits[0]])) != _normalise(trusted_src):
            program.issues.append(Issue("tampered_cell", gid, f"The provided cell '{gid}' was edited; the original version was used instead."))
        if C.is_public_check(cell) or (C.is_experiment(cell) and not run_experiments):
            continue
        program.cells.append(CellRun(index, gid, "provided", trusted_src))
    return program
