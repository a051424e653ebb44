"""nbgrader cell metadata, read the way nbgrader writes it (schema version 3).

Graders and tools find cells by ``grade_id``, never by position. Two extra roles
are marked with ordinary cell tags so JupyterLab shows them:

* ``experiment``: a long-running experiment (training sweeps, plots); its saved
  output stays for the TA but it is not re-run at grading time;
* ``public-check``: a student-side ``grader.check(...)`` call; never run at grading.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterator

EXPERIMENT_TAG = "experiment"
PUBLIC_CHECK_TAG = "public-check"


def nbgrader_meta(cell: dict[str, Any]) -> dict[str, Any]:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def grade_id(cell: dict[str, Any]) -> str | None:
    gid = nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) else None


def tags(cell: dict[str, Any]) -> set[str]:
    raw = cell.get("metadata", {}).get("tags", [])
    return {t for t in raw if isinstance(t, str)} if isinstance(raw, list) else set()


def is_solution(cell: dict[str, Any]) -> bool:
    return bool(nbgrader_meta(cell).get("solution", False))


def is_graded(cell: dict[str, Any]) -> bool:
    return bool(nbgrader_meta(cell).get("grade", False))


def is_locked(cell: dict[str, Any]) -> bool:
    meta = nbgrader_meta(cell)
    # nbgrader treats graded non-solution cells as locked too
    return bool(meta.get("locked", False)) or (bool(meta.get("grade")) and not meta.get("solution"))


def is_experiment(cell: dict[str, Any]) -> bool:
    return EXPERIMENT_TAG in tags(cell)


def is_public_check(cell: dict[str, Any]) -> bool:
    return PUBLIC_CHECK_TAG in tags(cell)


def source_text(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def iter_graded_cells(nb: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, cell in enumerate(nb.get("cells", [])):
        if isinstance(cell, dict) and grade_id(cell):
            yield index, cell


def cells_by_grade_id(nb: dict[str, Any]) -> dict[str, list[int]]:
    """Every grade_id with the indices of the cells carrying it (duplicates kept)."""
    found: dict[str, list[int]] = defaultdict(list)
    for index, cell in iter_graded_cells(nb):
        found[grade_id(cell)].append(index)  # type: ignore[index]
    return dict(found)
