"""Run a submission's program and its lab's probes in *this* process.

This is the development path (``pytest solutions/<lab>/hidden``) and the body of
what a sandboxed child runs during batch grading: same assembly, same probes,
same data. Only the trusted grader decides on that data.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from autograder.execution.program import CellRun, Program, assemble
from autograder.execution.run_cells import CellOutcome, new_namespace, run_program
from autograder.labs import Lab
from autograder.scoring.probe import ProbeSet, load_probes, run_probes


@dataclass
class ProbeRun:
    program: Program
    cells: list[CellOutcome] = field(default_factory=list)
    probes: dict[str, dict[str, Any]] = field(default_factory=dict)


def trusted_notebook(lab: Lab) -> dict[str, Any]:
    """The release notebook when generated, else the solution (same locked cells)."""
    path = lab.release_notebook if lab.release_notebook.exists() else lab.notebook
    return nbformat.read(str(path), as_version=4)


def program_for(lab: Lab, submission: Path, trusted: dict[str, Any] | None = None) -> Program:
    """A notebook is assembled by grade_id; a ``.py`` module is taken as all the
    student's code, run after the lab's provided cells (handy for development)."""
    trusted = trusted if trusted is not None else trusted_notebook(lab)
    if submission.suffix == ".py":
        base = assemble(trusted, trusted)
        provided = [c for c in base.cells if c.origin == "provided"]
        last = max((c.index for c in provided), default=0)
        module = CellRun(last + 1, "module", "student", submission.read_text())
        return Program(cells=[*provided, module])
    return assemble(trusted, nbformat.read(str(submission), as_version=4))


def probes_of(lab: Lab) -> ProbeSet:
    return load_probes(lab.hidden_dir / "probes.py")


def run_in_process(lab: Lab, program: Program, probes: ProbeSet | None = None) -> ProbeRun:
    os.environ.setdefault(lab.fast_env, "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    ns = new_namespace()
    run = ProbeRun(program)
    run.cells = run_program(program, ns)
    run.probes = run_probes(probes or probes_of(lab), ns)
    return run
