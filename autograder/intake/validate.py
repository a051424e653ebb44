"""Turn a submission's bytes into a clean notebook, or say clearly why not.

Each problem becomes an :class:`IntakeError` whose message is recorded as the
student's ``error`` status (and shown to the TA and the student); nothing here
raises anything else. The notebook handed on is rebuilt from plain types only
(cell type, source text, the nbgrader/tags metadata), so the later stages never
see a malformed structure.
"""
from __future__ import annotations

import json
from typing import Any

from autograder.authoring import cells as C


class IntakeError(ValueError):
    """The submission cannot be graded at all (message is TA- and student-facing)."""


def lab_grade_ids(trusted: dict[str, Any]) -> set[str]:
    return {gid for _, cell in C.iter_graded_cells(trusted) if (gid := C.grade_id(cell))}


def _decode(data: bytes) -> str:
    if not data:
        raise IntakeError("the notebook file is empty (0 bytes): it was probably not saved before submitting")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IntakeError(f"the file is not a notebook (not UTF-8 text; invalid byte at position {exc.start})") from None


def _load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise IntakeError(f"the file is not a valid notebook: invalid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); "
                          "it may have been edited in a text editor or truncated") from None
    except RecursionError:
        raise IntakeError("the file is not a valid notebook: its JSON is nested too deeply") from None


def _upgrade(raw: dict[str, Any], text: str) -> dict[str, Any]:
    """An nbformat v1-v3 notebook converted with nbformat's own converter."""
    version = raw.get("nbformat")
    try:
        import nbformat

        return json.loads(json.dumps(nbformat.reads(text, as_version=4)))
    except Exception as exc:  # noqa: BLE001 - any converter failure is the student's file
        raise IntakeError(f"the notebook uses an old format (nbformat {version}) that could not be converted ({type(exc).__name__}); "
                          "open it in a current Jupyter, save it and resubmit") from None


def _clean_source(src: Any) -> str:
    if isinstance(src, str):
        return src
    if isinstance(src, list) and all(isinstance(s, str) for s in src):
        return "".join(src)
    if src is None:
        return ""
    raise IntakeError("the notebook is damaged: a cell's source is not text")


def _clean_cell(cell: Any) -> dict[str, Any] | None:
    if not isinstance(cell, dict):
        return None
    ctype = cell.get("cell_type")
    if ctype not in ("code", "markdown", "raw"):
        return None
    meta = cell.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    clean_meta: dict[str, Any] = {}
    nbg = meta.get("nbgrader")
    if isinstance(nbg, dict):
        clean_meta["nbgrader"] = {k: v for k, v in nbg.items() if isinstance(v, (str, bool, int, float)) or v is None}
    tags = meta.get("tags")
    if isinstance(tags, list):
        clean_meta["tags"] = [t for t in tags if isinstance(t, str)]
    return {"cell_type": ctype, "metadata": clean_meta, "source": _clean_source(cell.get("source", ""))}


def parse_submission(data: bytes, lab_ids: set[str], lab: str = "this assignment") -> dict[str, Any]:
    """Bytes -> a clean v4 notebook dict whose cells carry only what grading reads."""
    text = _decode(data)
    raw = _load_json(text)
    if not isinstance(raw, dict):
        raise IntakeError("the file is not a notebook: its JSON is not an object with cells")
    version = raw.get("nbformat")
    if version is None and "cells" not in raw and "worksheets" not in raw:
        raise IntakeError("the file is not a notebook: it has no 'nbformat' version and no cells")
    if isinstance(version, int) and not isinstance(version, bool):
        if version < 4:
            raw = _upgrade(raw, text)
        elif version > 4:
            raise IntakeError(f"the notebook uses nbformat {version}, newer than the grader reads (4)")
    elif version is not None:
        raise IntakeError("the file is not a valid notebook: its 'nbformat' field is not a number")
    cells = raw.get("cells")
    if not isinstance(cells, list):
        raise IntakeError("the file is not a valid notebook: it has no list of cells")
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [c for c in map(_clean_cell, cells) if c is not None]}
    present = lab_grade_ids(nb)
    if not present & lab_ids:
        seen = ", ".join(sorted(present)[:3]) or "none"
        raise IntakeError(f"not this assignment: none of {lab}'s graded cells are in this notebook "
                          f"(its cell ids: {seen}); was the right notebook submitted?")
    return nb
