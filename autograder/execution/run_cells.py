"""Run a program's cells in a fresh namespace, the way a kernel would, but without one.

A Jupyter kernel costs seconds to start; a namespace dict costs nothing. IPython
syntax (``%matplotlib inline``, ``!pip install``) is translated by IPython's own
transformer and then ignored by a stub ``get_ipython()``. A cell that raises is
recorded and the next cell still runs (like ``--allow-errors``), so one broken
answer does not cost the points of the others. This module runs *inside* the
process that executes student code; it decides nothing.
"""
from __future__ import annotations

import builtins
import time
import types
from dataclasses import dataclass
from typing import Any, Callable

from autograder.execution.program import CellRun, Program


@dataclass(frozen=True)
class CellOutcome:
    index: int
    grade_id: str
    origin: str
    ok: bool
    error_type: str = ""
    error_message: str = ""
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _IPythonStub:
    """Accepts the calls IPython's transformer emits and does nothing."""

    def run_line_magic(self, *args: Any, **kwargs: Any) -> None:
        return None

    def run_cell_magic(self, *args: Any, **kwargs: Any) -> None:
        return None

    def system(self, *args: Any, **kwargs: Any) -> None:
        return None

    def getoutput(self, *args: Any, **kwargs: Any) -> list:
        return []

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *a, **k: None


_STUB = _IPythonStub()


def safe_text(value: Any, limit: int = 500) -> str:
    """str() of an untrusted object that may raise, loop or be huge."""
    try:
        text = value if type(value) is str else str(value)
        if type(text) is not str:
            text = "<unprintable>"
    except BaseException:  # noqa: BLE001 - anything a student object can throw
        text = "<unprintable>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def translate(source: str) -> str:
    """IPython syntax -> plain Python (magics become get_ipython() calls)."""
    if "%" not in source and "!" not in source:
        return source
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        return "\n".join(l for l in source.splitlines() if not l.lstrip().startswith(("%", "!")))
    return TransformerManager().transform_cell(source)


def new_namespace(module_name: str = "__main__") -> dict[str, Any]:
    """A fresh module namespace, as in a new kernel."""
    module = types.ModuleType(module_name)
    ns = module.__dict__
    ns["__builtins__"] = builtins
    ns["get_ipython"] = lambda: _STUB
    return ns


def run_cell(cell: CellRun, ns: dict[str, Any]) -> CellOutcome:
    start = time.perf_counter()
    try:
        code = compile(translate(cell.source), f"<cell {cell.grade_id}>", "exec")
        exec(code, ns)  # noqa: S102 - this is the point of the module
    except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt too
        return CellOutcome(cell.index, cell.grade_id, cell.origin, False, type(exc).__name__, safe_text(exc), time.perf_counter() - start)
    return CellOutcome(cell.index, cell.grade_id, cell.origin, True, seconds=time.perf_counter() - start)


def run_program(program: Program, ns: dict[str, Any], on_cell: Callable[[CellOutcome], None] | None = None) -> list[CellOutcome]:
    outcomes = []
    for cell in program.cells:
        outcome = run_cell(cell, ns)
        outcomes.append(outcome)
        if on_cell is not None:
            on_cell(outcome)
    return outcomes
