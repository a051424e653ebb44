"""Feedback plots for Week 11, drawn from the student's own probe data (trusted side).

Called by the grader after the checks (``autograder.reports.plots.lab_plots``)
with the plain probe data of one submission; returns plot specs that the
feedback page draws. Captions are student-facing; no threshold appears here.

* ``forget_bias``: the student's own LSTMCell, weight matrices re-drawn, on
  50-step recall sequences: log10 of the fraction of the gradient at step 50
  that reaches step 1, per seed, for forget_bias 0, 1 and 3 (the data of the
  ``lstm_grad_ratio`` probe), next to the same measurement of the reference
  LSTMCell (the same probe run here, on the trusted side, once per process).
* ``gates``: the values of the student's four LSTM gates on random inputs (the
  ``lstm_gates`` probe) against the ranges their activations allow: sigmoid
  gates in (0, 1), the tanh candidate in (-1, 1).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from autograder.scoring.checks import CheckFailed, ProbeFailed, result, sibling, tensor

_HERE = Path(__file__).parent
_REFERENCE_CURVE: dict | None = None


def _reference_curve() -> dict | None:
    """The lstm_grad_ratio probe run on the reference LSTMCell (same seeds, same protocol)."""
    global _REFERENCE_CURVE
    if _REFERENCE_CURVE is None:
        try:
            probes = sibling(__file__, "probes")
            ref = sibling(__file__, "reference")
            _REFERENCE_CURVE = probes.lstm_grad_ratio({"LSTMCell": ref.LSTMCell})
        except Exception:  # noqa: BLE001 - no reference curve, the student's curve still shows
            _REFERENCE_CURVE = {}
    return _REFERENCE_CURVE or None


def _values(row) -> list[float | None]:
    return [float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None for v in row]


def _median(values: list[float | None]) -> float | None:
    finite = [v for v in values if v is not None]
    return float(np.median(finite)) if len(finite) == len(values) and finite else None


def forget_bias_plot(probes) -> dict | None:
    try:
        data = result(probes, "lstm_grad_ratio")
        fbs = [float(fb) for fb in data["forget_biases"]]
        rows = [_values(r) for r in data["log10_ratio"]]
    except (ProbeFailed, CheckFailed, KeyError, TypeError, ValueError):
        return None
    T = data.get("T", 50)
    px, py = [], []
    for fb, row in zip(fbs, rows):
        for v in row:
            if v is not None:
                px.append(fb)
                py.append(v)
    medians = [_median(r) for r in rows]
    series = []
    reference = _reference_curve()
    if reference:
        ref_rows = [_values(r) for r in reference["log10_ratio"]]
        series.append({"label": "reference LSTMCell (median over seeds)", "x": fbs,
                       "y": [_median(r) for r in ref_rows], "role": "reference"})
    series.append({"label": "your LSTMCell, one dot per seed", "x": px, "y": py, "role": "points"})
    series.append({"label": "your LSTMCell (median over seeds)", "x": fbs, "y": medians, "role": "student"})
    undefined = sum(v is None for r in rows for v in r)
    note = (f" {undefined} of your runs gave no usable ratio (a zero, NaN or inf gradient) and are not drawn."
            if undefined else "")
    return {
        "id": "forget_bias", "grade_id": "w11_lstm_cell", "kind": "lines", "log_y": False,
        "title": "How far back the gradient reaches through your LSTM",
        "x_label": "forget_bias", "y_label": f"log10( ||dL/dh_1|| / ||dL/dh_{T}|| )", "x_ticks": fbs,
        "series": series,
        "caption": ("Your LSTMCell on 50-step recall sequences, its weight matrices re-drawn at random for each "
                    "seed, so only its equations matter. Up is better: 0 means the gradient at step 1 is as large "
                    "as at the last step, -6 means a millionth of it. At initialisation the forget gate is about "
                    "sigmoid(forget_bias), and dc_t/dc_{t-1} = f, so a larger forget_bias keeps the cell-state path "
                    "open and the curve should rise from left to right, like the reference." + note),
    }


GATE_RANGES = {"input": (0.0, 1.0), "forget": (0.0, 1.0), "cell": (-1.0, 1.0), "output": (0.0, 1.0)}
BINS = [round(-1.2 + 0.1 * i, 2) for i in range(25)]  # -1.2 .. 1.2


def gates_plot(probes) -> dict | None:
    try:
        data = result(probes, "lstm_gates")
        gates = data["gates"]
        if not isinstance(gates, dict):
            return None
        panels = []
        for key, rng in GATE_RANGES.items():
            if key not in gates:
                continue
            values = tensor(gates[key], key).reshape(-1)
            values = np.clip(values[np.isfinite(values)], BINS[0], BINS[-1])
            counts, _ = np.histogram(values, bins=BINS)
            label = "candidate (cell)" if key == "cell" else f"{key} gate"
            panels.append({"label": label, "counts": counts.tolist(), "expected_range": list(rng)})
    except (ProbeFailed, CheckFailed, KeyError, TypeError, ValueError):
        return None
    if not panels:
        return None
    return {
        "id": "gates", "grade_id": "w11_lstm_cell", "kind": "hist",
        "title": "Your LSTM's gate values on random inputs",
        "x_label": "value (green band: the range the activation allows)", "y_label": "count",
        "bins": BINS, "panels": panels,
        "caption": ("LSTMCell.gates on random inputs and states. The input, forget and output gates are sigmoids, "
                    "so every value lies between 0 and 1 (a valve: 0 closed, 1 open); the candidate is a tanh, "
                    "between -1 and 1, so it can add or subtract from the cell state."),
    }


def plots(probes) -> list[dict]:
    return [p for p in (forget_bias_plot(probes), gates_plot(probes)) if p]
