"""Helpers for writing checks: trusted pytest tests that decide from probe data.

A check receives the fixture ``probes`` (the plain data its lab's probes
returned for one submission) and raises :class:`CheckFailed` with a message in
course language: what was expected and what was observed. That message is all
the student sees; the test's source and thresholds never leave the grader.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Mapping

import numpy as np


class CheckFailed(AssertionError):
    """The student's code behaved differently from the contract (student-facing message)."""


class ProbeFailed(Exception):
    """The probe this check needs did not return data (the student's code raised,
    timed out or ran out of memory)."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class MetaTensor:
    shape: tuple[int, ...]
    dtype: str


def result(probes: Mapping[str, Any], name: str) -> Any:
    """The data of probe ``name``, or :class:`ProbeFailed` explaining what went wrong."""
    entry = probes.get(name)
    if not isinstance(entry, dict):
        raise ProbeFailed("error", "This test could not run: your notebook stopped before it was reached (see the errors above).")
    if entry.get("ok") is True:
        return entry.get("data")
    status = entry.get("status", "error")
    err = entry.get("error") or {}
    doing = entry.get("doing", "running this test")
    if status == "timeout":
        return _raise(ProbeFailed("timeout", f"While {doing}, your code did not finish in time (an infinite loop, or far too slow)."))
    if status == "memory":
        return _raise(ProbeFailed("memory", f"While {doing}, your code ran out of memory."))
    etype = str(err.get("type", "Error"))
    emsg = str(err.get("message", ""))
    if etype == "NotImplementedError":
        return _raise(ProbeFailed("error", f"While {doing}, your code raised NotImplementedError: this part is not implemented yet."))
    if etype == "NotPlainData":
        return _raise(ProbeFailed("error", f"While {doing}, your code returned something that is not a tensor, number or list ({emsg})."))
    detail = f"{etype}: {emsg}" if emsg else etype
    return _raise(ProbeFailed("error", f"While {doing}, your code raised {detail}"))


def _raise(exc: Exception) -> Any:
    raise exc


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def is_tensor(value: Any) -> bool:
    return isinstance(value, dict) and ("__tensor__" in value or "__meta_tensor__" in value)


def tensor(value: Any, what: str) -> np.ndarray:
    """Decode a probe tensor; a non-tensor is a student-facing failure."""
    if isinstance(value, dict) and "__tensor__" in value:
        enc = value["__tensor__"]
        shape = tuple(int(s) for s in enc.get("shape", []))
        data = enc.get("data", [])
        if not isinstance(data, list) or len(data) != math.prod(shape):
            raise CheckFailed(f"{what} could not be read back from your code.")
        return np.asarray(data, dtype=np.float64).reshape(shape)
    raise CheckFailed(f"{what} should be a torch tensor; yours is {describe(value)}.")


def meta_tensor(value: Any, what: str) -> MetaTensor:
    if isinstance(value, dict) and "__meta_tensor__" in value:
        enc = value["__meta_tensor__"]
        return MetaTensor(tuple(int(s) for s in enc.get("shape", [])), str(enc.get("dtype", "")))
    if isinstance(value, dict) and "__tensor__" in value:
        raise CheckFailed(f"{what} ended up on the CPU although the input was on another device: create new tensors with device=x.device (or the parameters' device), never on the CPU by default.")
    raise CheckFailed(f"{what} should be a torch tensor; yours is {describe(value)}.")


def tensor_dtype(value: Any) -> str:
    if isinstance(value, dict) and "__tensor__" in value:
        return str(value["__tensor__"].get("dtype", ""))
    return ""


def describe(value: Any) -> str:
    if value is None:
        return "None"
    if is_tensor(value):
        return "a tensor"
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, (int, float)):
        return f"the number {fmt(value)}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    if isinstance(value, dict):
        return "a dict"
    return type(value).__name__


def shape_text(shape: Any) -> str:
    dims = tuple(int(s) for s in shape)
    return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


def fmt(x: Any, digits: int = 3) -> str:
    """Numbers the way a student reads them: 0.731, 1.2e-07, nan."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.{max(digits - 1, 1)}e}"
    return f"{x:.{digits}f}"


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        return math.inf
    if a.size == 0:
        return 0.0
    diff = np.abs(a - b)
    return float(np.nanmax(diff)) if not np.isnan(diff).all() else math.inf


def close(a: np.ndarray, b: np.ndarray, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def affine_fit(inputs: np.ndarray, outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares fit ``outputs ~ [inputs, 1] @ coef`` (rows are samples).

    Returns ``(coef, residual)``: ``coef`` of shape ``(inputs.shape[1] + 1, k)`` (the
    last row is the constant term) and the residual ``outputs - fit`` of the
    outputs' shape. Layout-independent evidence that a map is affine: a small
    residual on many random samples, whatever the parameters look like.
    """
    inputs = np.asarray(inputs, dtype=np.float64)
    outputs = np.asarray(outputs, dtype=np.float64)
    squeeze = outputs.ndim == 1
    y = outputs[:, None] if squeeze else outputs
    z = np.concatenate([inputs.reshape(len(inputs), -1), np.ones((len(inputs), 1))], axis=1)
    coef, *_ = np.linalg.lstsq(z, y, rcond=None)
    residual = y - z @ coef
    return coef, (residual[:, 0] if squeeze else residual)


def number(value: Any) -> float | None:
    """A probe value that is a plain number or a one-element tensor, as a float; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict) and "__tensor__" in value:
        data = value["__tensor__"].get("data", [])
        if isinstance(data, list) and len(data) == 1 and isinstance(data[0], (int, float)):
            return float(data[0])
    return None


def sibling(file: str, stem: str) -> ModuleType:
    """The module ``<stem>.py`` next to ``file`` (e.g. a suite's ``reference.py``), imported once."""
    from autograder.scoring.probe import load_module_file

    return load_module_file(Path(file).resolve().with_name(f"{stem}.py"))
