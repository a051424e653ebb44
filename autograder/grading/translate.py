"""ExecutionResult + check outcomes + written results -> one run record for the gradebook.

The only place where how a run ended (ok, timeout, memory, crash, ...) turns
into item statuses and the submission's status:

* ``graded``: everything could be run (a test may still fail or error because
  of the student's code);
* ``partial``: some tests could not run because the notebook hit a limit or
  crashed; those tests get ``timeout``, ``memory`` or ``error`` with a message
  saying what stopped them, the others keep their real outcome;
* ``error``: nothing could be graded (see :func:`error_run`).
"""
from __future__ import annotations

from typing import Any

from autograder.execution.api import ExecutionResult
from autograder.execution.program import Program
from autograder.gradebook import ResultRow, RunRecord
from autograder.labs import Lab
from autograder.scoring.check_runner import TestOutcome

NOT_RUN_PREFIXES = ("This test could not run", "This test did not run")

_STOPPED = {
    "timeout": ("timeout", "your notebook did not finish within the time limit ({detail}). Look for an infinite loop or a much too slow loop (e.g. training for too many epochs)."),
    "memory": ("memory", "your notebook ran out of memory ({detail}). Look for a tensor or list that grows without bound."),
    "crash": ("error", "the process running your notebook crashed ({detail})."),
    "output_limit": ("error", "your notebook printed too much output ({detail}). Remove large prints inside loops."),
    "sandbox_error": ("error", "the grader could not run your notebook ({detail}); this is not your fault and will be retried."),
}


def issues_of(program: Program | None) -> list[dict[str, Any]]:
    if program is None:
        return []
    return [{"kind": i.kind, "grade_id": i.grade_id, "message": i.message} for i in program.issues]


def _part(lab: Lab, gid: str) -> str:
    try:
        return lab.part_of(gid)
    except KeyError:
        return "build"


def test_rows(lab: Lab, program: Program, result: ExecutionResult, outcomes: list[TestOutcome]) -> tuple[list[ResultRow], bool]:
    """Rows for the hidden tests and whether some could not run because of how the run ended."""
    broken = {i.grade_id: i.message for i in program.issues if i.kind in ("missing_cell", "wrong_cell_type")}
    stopped = False
    rows = []
    for o in outcomes:
        status, message, points = o.status, o.message, o.points
        if o.grade_id in broken:
            status, message, points = "fail", broken[o.grade_id], 0.0
        elif status == "error" and message.startswith(NOT_RUN_PREFIXES) and result.status != "ok":
            status, template = _STOPPED.get(result.status, _STOPPED["crash"])
            message = "Grading stopped before this test ran: " + template.format(detail=result.message or result.status)
            points = 0.0
            stopped = True
        rows.append(ResultRow(item=o.test, kind="test", grade_id=o.grade_id, part=_part(lab, o.grade_id), title=o.title,
                              points=float(points), max_points=float(o.max_points), status=status, message=message))
    return rows, stopped


def build_run(lab: Lab, program: Program, result: ExecutionResult, outcomes: list[TestOutcome],
              written: list[ResultRow], *, grader_version: str, rubric_version: str,
              code_max: float, written_max: float) -> RunRecord:
    tests, stopped = test_rows(lab, program, result, outcomes)
    if result.status == "sandbox_error":
        return error_run(f"the grader could not run this notebook: {result.message or 'sandbox error'}",
                         grader_version=grader_version, rubric_version=rubric_version, code_max=code_max,
                         written_max=written_max, retry=True, program=program, result=result)
    limited = any(r.status in ("timeout", "memory") for r in tests)
    status = "partial" if (stopped or limited) else "graded"
    message = ""
    if status == "partial":
        message = result.message if result.status != "ok" else "some tests ran past their time or memory limit"
    return RunRecord(
        status=status, message=message, grader_version=grader_version, rubric_version=rubric_version,
        exec_status=result.status, exec_message=result.message, sandbox=result.sandbox, wall_s=result.wall_s,
        cpu_s=result.cpu_s, peak_rss_mb=result.peak_rss_mb, issues=issues_of(program), cells=list(result.cells),
        answers={gid: text[:20000] for gid, text in program.written.items()},
        output_tail=result.output_tail[-4096:], code_max=code_max, written_max=written_max, results=tests + written,
    )


def error_run(message: str, *, grader_version: str, rubric_version: str, code_max: float, written_max: float,
              retry: bool = False, program: Program | None = None, result: ExecutionResult | None = None) -> RunRecord:
    return RunRecord(
        status="error", message=message, grader_version=grader_version, rubric_version=rubric_version, retry=retry,
        exec_status=result.status if result else None, exec_message=result.message if result else None,
        sandbox=result.sandbox if result else None, wall_s=result.wall_s if result else 0.0,
        issues=issues_of(program), cells=list(result.cells) if result else [],
        output_tail=result.output_tail[-4096:] if result else "", code_max=code_max, written_max=written_max,
    )
