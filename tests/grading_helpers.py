"""Submissions for the toy lab (tests/example_course), for the intake and batch tests."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TOY_NOTEBOOK = REPO / "tests" / "example_course" / "solutions" / "toy_affine" / "toy_affine.ipynb"

# cell indices in the toy notebook
SETUP, ANSWER, WRITTEN = 1, 2, 6


def toy_solution() -> dict[str, Any]:
    return json.loads(TOY_NOTEBOOK.read_text())


def variant(answer: str | None = None, *, written: str | None = None, setup: str | None = None,
            delete: tuple[int, ...] = ()) -> dict[str, Any]:
    nb = copy.deepcopy(toy_solution())
    if answer is not None:
        nb["cells"][ANSWER]["source"] = answer
    if written is not None:
        nb["cells"][WRITTEN]["source"] = written
    if setup is not None:
        nb["cells"][SETUP]["source"] = setup
    for index in sorted(delete, reverse=True):
        del nb["cells"][index]
    return nb


def dumps(nb: dict[str, Any]) -> bytes:
    return json.dumps(nb, indent=1).encode()


GOOD = "def affine(x, w, b):\n    return x @ w + b\n"
BUGGY = "def affine(x, w, b):\n    return x @ w\n"
SLOW = "import time\ntime.sleep({s})\ndef affine(x, w, b):\n    return x @ w + b\n"
LOOP = "while True:\n    pass\n"


def class_folder(folder: Path, *, slow: float = 0.0, with_bad: bool = True) -> dict[str, str]:
    """A folder of <student_id>.ipynb covering the main cases; returns sid -> expected status."""
    folder.mkdir(parents=True, exist_ok=True)
    answer = SLOW.format(s=slow) if slow else GOOD
    expected = {}
    for sid, nb in [("alice", variant(answer)), ("bob", variant(BUGGY)), ("carol", variant(answer, setup="import torch\nprint('edited')")),
                    ("dave", variant(answer, written="The bias moves the output away from the origin.")),
                    ("emma", variant(answer, delete=(WRITTEN,)))]:
        (folder / f"{sid}.ipynb").write_bytes(dumps(nb))
        expected[sid] = "graded"
    if with_bad:
        (folder / "zoe_empty.ipynb").write_bytes(b"")
        (folder / "yuri_json.ipynb").write_text('{"cells": [')
        expected.update({"zoe_empty": "error", "yuri_json": "error"})
    return expected
