"""The contract between the batch grader (trusted) and the executor (runs student code).

The orchestrator hands the executor a :class:`Job` and gets back an
:class:`ExecutionResult` made of plain data only: which cells ran, what the
probes returned (JSON-decoded, size-capped), how the run ended. The executor
never decides a score; the orchestrator never runs student code.

Implementations: ``autograder.execution.pool.WorkerPool`` (warm sandboxed
workers, the default) — anything with the same ``run_many`` works (e.g. a Dask
backend for clusters).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Iterator, Literal, Protocol

from autograder.execution.program import CellRun, Program

EndStatus = Literal["ok", "timeout", "memory", "crash", "output_limit", "sandbox_error"]


@dataclass(frozen=True)
class Job:
    job_id: str  # unique within a batch, e.g. "<student_id>"
    lab: str
    cells: tuple[CellRun, ...]  # from Program.cells: provided (trusted) + student cells

    @classmethod
    def from_program(cls, job_id: str, lab: str, program: Program) -> "Job":
        return cls(job_id, lab, tuple(program.cells))

    def to_json(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "lab": self.lab, "cells": [asdict(c) for c in self.cells]}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> "Job":
        return cls(str(raw["job_id"]), str(raw["lab"]), tuple(CellRun(**c) for c in raw["cells"]))


@dataclass
class ExecutionResult:
    job_id: str
    status: EndStatus  # how the run ended as a whole
    message: str = ""  # for the TA: e.g. "killed after 60 s wall clock"
    cells: list[dict[str, Any]] = field(default_factory=list)  # CellOutcome.as_dict() per cell that finished
    probes: dict[str, dict[str, Any]] = field(default_factory=dict)  # probe name -> run_probe() result
    output_tail: str = ""  # last few KB the student printed (shown to the TA only; never parsed)
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    sandbox: str = ""  # "bubblewrap" or "rlimits" (what isolation was in force)


class Executor(Protocol):
    def run_many(self, jobs: Iterable[Job]) -> Iterator[ExecutionResult]:
        """Run jobs (in parallel where possible) and yield results as they finish,
        in any order. A job whose code crashes, hangs or exhausts memory yields a
        result with that status; it never raises and never stops the others."""
        ...

    def close(self) -> None:
        ...
