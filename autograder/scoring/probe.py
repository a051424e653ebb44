"""Probes: trusted code that runs beside the student's objects and returns plain data.

A probe never decides anything. It calls the student's objects on inputs it
makes itself and returns numbers, strings, lists and tensors, encoded as JSON.
Checks, on the trusted side, decide from that data (see ``checks.py``). Probes
hold no solutions and no thresholds: only fixtures (spy decoders, toy models)
and the questions asked.

A lab's ``hidden/probes.py`` declares its probes::

    PROBES = ProbeSet("week10_rnn")

    @PROBES.probe("rnn_cell_shapes", doing="calling RNNCell(5, 7) on a batch of 4")
    def rnn_cell_shapes(ns):
        cell = ns["RNNCell"](5, 7)
        ...
        return {"h": h}           # tensors are fine, objects are not
"""
from __future__ import annotations

import importlib.util
import math
import random
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable

from autograder.execution.run_cells import safe_text

MAX_TENSOR_ELEMENTS = 200_000
PROBE_SEED = 20251122


class ProbeTimeout(BaseException):
    """Raised inside a probe that ran past its time budget (BaseException: a student's
    ``except Exception`` cannot swallow it)."""


class NotPlainData(TypeError):
    pass


@dataclass(frozen=True)
class Probe:
    name: str
    fn: Callable[[dict[str, Any]], Any]
    doing: str  # student-facing: "calling RNNCell(5, 7) on a batch of 4"
    timeout_s: float


class ProbeSet:
    def __init__(self, lab: str) -> None:
        self.lab = lab
        self.probes: dict[str, Probe] = {}

    def probe(self, name: str, *, doing: str, timeout_s: float = 10.0) -> Callable:
        def register(fn: Callable[[dict[str, Any]], Any]) -> Callable:
            if name in self.probes:
                raise ValueError(f"probe {name!r} declared twice")
            self.probes[name] = Probe(name, fn, doing, timeout_s)
            return fn

        return register


def load_module_file(path: Path) -> ModuleType:
    """Import a hidden-suite file by path, once per process, under a private name.

    Hidden suites are folders of loose files (run with ``--noconftest`` and
    ``--import-mode=importlib``, never installed as a package), so probes, checks
    and plots reach their sibling modules (``reference.py``, ``probes.py``) this way.
    """
    path = Path(path).resolve()
    name = f"_autograder_hidden_{abs(hash(str(path)))}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_probes(path: Path) -> ProbeSet:
    """Import a lab's ``hidden/probes.py`` under a private module name."""
    return load_module_file(path).PROBES


def to_plain(obj: Any, _depth: int = 0) -> Any:
    """Convert probe output to JSON-able data; anything else is refused.

    Tensors become ``{"__tensor__": {"dtype", "shape", "data"}}`` with float64
    values (NaN and inf allowed). Only exact built-in types pass: a student's
    object with a lying ``__eq__`` never leaves the sandbox as an object.
    """
    if _depth > 20:
        raise NotPlainData("data nested too deeply")
    kind = type(obj)
    if obj is None or kind is bool or kind is str:
        return obj
    if kind is int:
        return obj
    if kind is float:
        return obj
    try:
        import torch
    except ImportError:  # pragma: no cover
        torch = None  # type: ignore[assignment]
    if torch is not None and isinstance(obj, torch.Tensor):
        t = torch.Tensor.detach(obj)
        if t.device.type == "meta":
            return {"__meta_tensor__": {"dtype": str(t.dtype).replace("torch.", ""), "shape": [int(s) for s in t.shape]}}
        if t.numel() > MAX_TENSOR_ELEMENTS:
            raise NotPlainData(f"tensor with {t.numel()} elements is too large")
        dtype = str(t.dtype).replace("torch.", "")
        values = t.to("cpu").to(torch.float64).reshape(-1).tolist() if t.numel() else []
        return {"__tensor__": {"dtype": dtype, "shape": [int(s) for s in t.shape], "data": values}}
    if kind is tuple or kind is list:
        return [to_plain(v, _depth + 1) for v in obj]
    if kind is dict:
        out = {}
        for key, value in obj.items():
            if type(key) is not str:
                key = safe_text(key, 200)
            out[key] = to_plain(value, _depth + 1)
        return out
    if isinstance(obj, float) and not isinstance(obj, bool):  # numpy floats
        return float(obj)
    if isinstance(obj, int) and not isinstance(obj, bool):
        return int(obj)
    raise NotPlainData(f"probe returned a {kind.__name__}, which is not plain data")


def _reseed() -> None:
    random.seed(PROBE_SEED)
    try:
        import numpy as np

        np.random.seed(PROBE_SEED % (2**32))
    except ImportError:  # pragma: no cover
        pass
    try:
        import torch

        torch.manual_seed(PROBE_SEED)
        torch.set_grad_enabled(True)
    except ImportError:  # pragma: no cover
        pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise ProbeTimeout()


def run_probe(probe: Probe, ns: dict[str, Any]) -> dict[str, Any]:
    """One probe -> ``{"ok": True, "data": ...}`` or ``{"ok": False, "status", "error"}``."""
    _reseed()
    start = time.perf_counter()
    use_alarm = hasattr(signal, "setitimer")
    try:
        if use_alarm:
            signal.signal(signal.SIGALRM, _on_alarm)
            signal.setitimer(signal.ITIMER_REAL, probe.timeout_s)
        try:
            data = to_plain(probe.fn(ns))
        finally:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except ProbeTimeout:
        return {"ok": False, "status": "timeout", "error": {"type": "Timeout", "message": f"did not finish within {probe.timeout_s:g} s"}, "doing": probe.doing}
    except NotPlainData as exc:
        return {"ok": False, "status": "error", "error": {"type": "NotPlainData", "message": safe_text(exc)}, "doing": probe.doing}
    except MemoryError:
        return {"ok": False, "status": "memory", "error": {"type": "MemoryError", "message": "ran out of memory"}, "doing": probe.doing}
    except BaseException as exc:  # noqa: BLE001 - the student's code may raise anything
        return {"ok": False, "status": "error", "error": {"type": safe_text(type(exc).__name__, 100), "message": safe_text(exc)}, "doing": probe.doing}
    return {"ok": True, "data": data, "seconds": round(time.perf_counter() - start, 4)}


def run_probes(
    probes: ProbeSet,
    ns: dict[str, Any],
    names: Iterable[str] | None = None,
    emit: Callable[[str, dict[str, Any]], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run probes in declaration order; ``emit`` streams each result as it completes,
    so a later crash or kill loses only what had not finished."""
    wanted = list(names) if names is not None else list(probes.probes)
    results: dict[str, dict[str, Any]] = {}
    for name in wanted:
        result = run_probe(probes.probes[name], ns)
        results[name] = result
        if emit is not None:
            emit(name, result)
    return results


def is_finite_number(x: Any) -> bool:
    return type(x) in (int, float) and math.isfinite(x)
