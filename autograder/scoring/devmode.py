"""pytest fixtures to run a lab's hidden suite in-process, for instructors and TAs
developing checks: ``pytest solutions/week10_rnn/hidden`` grades the solution;
``--submission path/to/notebook.ipynb`` (or a ``.py`` module) grades another.

``solutions/conftest.py`` imports these names. Batch grading never uses this
path: it runs probes in a sandboxed child and checks in a separate pytest session.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from autograder.labs import load_lab
from autograder.scoring.inprocess import program_for, run_in_process

_CACHE: dict[tuple[str, str], dict[str, Any]] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--submission", default=os.environ.get("AUTOGRADER_SUBMISSION"),
                     help="notebook (.ipynb) or module (.py) to run the hidden suite against; default: the lab's solution")


def _lab_name(path: Path) -> str:
    for parent in path.parents:
        if (parent / "lab.yaml").exists():
            return parent.name
    raise pytest.UsageError(f"{path} is not inside a lab folder (no lab.yaml above it)")


@pytest.fixture
def probes(request: pytest.FixtureRequest) -> dict[str, Any]:
    lab = load_lab(_lab_name(Path(str(request.path))))
    chosen = request.config.getoption("--submission")
    submission = Path(chosen) if chosen else lab.notebook
    key = (lab.name, str(submission.resolve()))
    if key not in _CACHE:
        run = run_in_process(lab, program_for(lab, submission))
        broken = [c for c in run.cells if not c.ok and c.origin == "provided"]
        if broken and not chosen:
            raise RuntimeError(f"provided cell {broken[0].grade_id} failed: {broken[0].error_type}: {broken[0].error_message}")
        _CACHE[key] = run.probes
    return _CACHE[key]
