"""Generate the nbgrader ``source/`` and ``release/`` versions of a lab.

The pipeline is nbgrader's own preprocessors, composed in the order nbgrader's
``generate_assignment`` uses, without its database or traitlets application:
lock cells, clear solutions, clear outputs, compute checksums. Two checks run on
top: every contract ``grade_id`` exists exactly once (nbgrader's v3 metadata
validator plus the lab's own list), and no line of solution code survives in the
student version. Output bytes are a pure function of the solution notebook, so
regenerating never shows up as a diff.
"""
from __future__ import annotations

import copy
import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbgrader.nbgraderformat.v3 import MetadataValidatorV3
from nbgrader.preprocessors.clearmarkingscheme import ClearMarkScheme as ClearMarkingScheme
from nbgrader.preprocessors import (
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    LockCells,
)

from autograder.authoring import cells as C
from autograder.labs import Lab

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_TRIVIAL = re.compile(r"^\s*(#.*|pass|return|\)|\]|\}|else:|try:|\"\"\"|'''|)?\s*$")


class ReleaseError(ValueError):
    """The solution notebook cannot be released as it is (the message says why)."""


@dataclass(frozen=True)
class ReleaseResult:
    lab: str
    source: Path
    release: Path
    public_checks: tuple[str, ...]


def read_notebook(path: Path) -> NotebookNode:
    return nbformat.read(str(path), as_version=4)


def write_notebook(nb: NotebookNode, path: Path) -> None:
    """Write deterministically and atomically (sorted keys, fixed indent, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(nbformat.writes(nb, version=4) + "\n", encoding="utf-8")
    tmp.replace(path)


def validate_solution(nb: NotebookNode, lab: Lab) -> None:
    """nbgrader's v3 validator plus the lab contract: each grade_id exactly once."""
    validator = MetadataValidatorV3()
    for cell in nb.cells:
        meta = C.nbgrader_meta(cell)
        if meta and meta.get("schema_version") != 3:
            raise ReleaseError(f"cell {meta.get('grade_id')!r}: nbgrader schema_version must be 3")
    try:
        validator.validate_nb(nb)
    except Exception as exc:  # nbgrader raises its own ValidationError
        raise ReleaseError(f"{lab.notebook.name}: invalid nbgrader metadata: {exc}") from exc
    found = C.cells_by_grade_id(nb)
    for gid in (*lab.code_items, *lab.written_items):
        count = len(found.get(gid, []))
        if count != 1:
            raise ReleaseError(f"{lab.notebook.name}: contract grade_id {gid!r} appears {count} times (expected once)")
        cell = nb.cells[found[gid][0]]
        if not C.is_solution(cell):
            raise ReleaseError(f"{gid!r} must be a solution cell (solution: true)")
        if gid in lab.written_items and not (cell.cell_type == "markdown" and C.is_graded(cell)):
            raise ReleaseError(f"written answer {gid!r} must be a Markdown cell with grade: true")
    for cell in nb.cells:
        if "BEGIN HIDDEN TESTS" in C.source_text(cell):
            raise ReleaseError("hidden tests never go into a notebook; put them in hidden/ instead")


def _stable_ids(nb: NotebookNode) -> None:
    """Cell ids derived from grade_id or position, so regeneration is byte-identical."""
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        base = C.grade_id(cell) or f"cell-{index:03d}"
        cid = re.sub(r"[^A-Za-z0-9_-]", "-", base)[:64]
        if cid in seen:
            cid = f"{cid[:56]}-{index:03d}"
        seen.add(cid)
        cell["id"] = cid


def _solution_lines(nb: NotebookNode) -> set[str]:
    """Every substantive line of solution code, to prove none reaches students."""
    lines: set[str] = set()
    for cell in nb.cells:
        if not C.is_solution(cell) or cell.cell_type != "code":
            continue
        inside = False
        for line in C.source_text(cell).splitlines():
            if line.strip() == BEGIN:
                inside = True
                continue
            if line.strip() == END:
                inside = False
                continue
            if inside and not _TRIVIAL.match(line) and len(line.strip()) > 12:
                lines.add(line.strip())
    return lines


def find_leaks(solution: NotebookNode, release: NotebookNode) -> list[str]:
    """Solution lines (or written model answers) that appear in the release."""
    leaked = []
    released_lines = {
        line.strip() for cell in release.cells for line in C.source_text(cell).splitlines()
    }
    for line in sorted(_solution_lines(solution)):
        if line in released_lines:
            leaked.append(line)
    release_text = "\n".join(C.source_text(c) for c in release.cells)
    for cell in solution.cells:
        if cell.cell_type == "markdown" and C.is_solution(cell):
            answer = C.source_text(cell).strip()
            if len(answer) > 40 and answer in release_text:
                leaked.append(answer[:60] + "...")
    return leaked


def _run(preprocessors: list, nb: NotebookNode) -> NotebookNode:
    resources: dict = {}
    for pre in preprocessors:
        nb, resources = pre.preprocess(nb, resources)
    return nb


def instructor_version(solution: NotebookNode) -> NotebookNode:
    nb = copy.deepcopy(solution)
    nb = _run([ClearOutput(), ComputeChecksums()], nb)
    _stable_ids(nb)
    return nb


def student_version(solution: NotebookNode) -> NotebookNode:
    nb = copy.deepcopy(solution)
    nb = _run(
        [
            LockCells(),
            ClearSolutions(enforce_metadata=True),
            ClearOutput(),
            ClearMarkingScheme(),
            ComputeChecksums(),
        ],
        nb,
    )
    _stable_ids(nb)
    return nb


def release_lab(lab: Lab) -> ReleaseResult:
    """Write ``assignments/source/<lab>/`` and ``assignments/release/<lab>/``."""
    solution = read_notebook(lab.notebook)
    validate_solution(solution, lab)
    source_nb = instructor_version(solution)
    release_nb = student_version(solution)
    leaks = find_leaks(solution, release_nb)
    if leaks:
        raise ReleaseError(f"{lab.name}: solution text would reach students: {leaks[:3]}")
    write_notebook(source_nb, lab.source_notebook)
    write_notebook(release_nb, lab.release_notebook)
    checks: list[str] = []
    for target in (lab.source_notebook.parent, lab.release_notebook.parent):
        tests_dir = target / "tests"
        if tests_dir.exists():
            shutil.rmtree(tests_dir)
        if lab.public_dir.exists():
            tests_dir.mkdir(parents=True)
            for check in sorted(lab.public_dir.glob("*.py")):
                shutil.copyfile(check, tests_dir / check.name)
                if target == lab.release_notebook.parent:
                    checks.append(check.stem)
    return ReleaseResult(lab.name, lab.source_notebook, lab.release_notebook, tuple(checks))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
