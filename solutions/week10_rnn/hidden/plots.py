"""Feedback plots for Week 10, drawn from the student's own probe data (trusted side).

Called by the grader after the checks (``autograder.reports.plots.lab_plots``)
with the plain probe data of one submission; returns plot specs that the
feedback page draws. Captions are student-facing; no threshold appears here.

* ``grad_norms``: the student's ``hidden_grad_norms`` on the grader's toy model
  (7 steps), on a log scale, next to the expected norms that autograd gives on
  the same model and inputs (``reference.hidden_grad_norms``). The toy model's
  recurrence shrinks the gradient by a roughly constant factor per step back in
  time, so the expected curve is the vanishing-gradient shape of Part B.

Not possible with the current probes: the student's *own* RNN's curve on a long
recall sequence (no probe runs ``RNNCell`` + ``RecurrentClassifier`` through
``hidden_grad_norms``; the Part B experiments are not re-run at grading time).
"""
from __future__ import annotations


import numpy as np

from autograder.scoring.checks import CheckFailed, ProbeFailed, result, sibling, tensor


def grad_norms_plot(probes) -> dict | None:
    try:
        data = result(probes, "grad_norms")
        got = tensor(data["norms"], "norms").reshape(-1)
    except (ProbeFailed, CheckFailed, KeyError, ValueError):
        return None
    ref = sibling(__file__, "reference")
    w = ref.weights(data["weights"], ref.TOY_NAMES)
    expected = np.asarray(ref.hidden_grad_norms(w, ref.as_torch(data["x"], "x"), ref.as_torch(data["y"], "y")))
    T = len(expected)
    steps = list(range(1, T + 1))
    same = got.shape == expected.shape and bool(np.allclose(got, expected, rtol=1e-3, atol=1e-7))
    series = [{"label": "expected: ||dL/dh_t|| by autograd", "x": steps, "y": expected.tolist(), "role": "reference"}]
    if got.size:
        series.append({"label": "your hidden_grad_norms", "x": list(range(1, got.size + 1)), "y": got.tolist(),
                       "role": "student"})
    if same:
        verdict = "Your norms match the expected ones at every step."
    else:
        verdict = ("Your norms differ from the expected ones: compare the two curves step by step "
                   "(order of the steps, the loss's reduction, norm versus squared norm).")
    return {
        "id": "grad_norms", "grade_id": "w10_grad_norms", "kind": "lines", "log_y": True,
        "title": "How much gradient reaches each step",
        "x_label": "time step t", "y_label": "||dL/dh_t|| (log scale)", "x_ticks": steps,
        "series": series,
        "caption": (f"The grader called your hidden_grad_norms on a small test model ({T} steps). Its recurrence "
                    "multiplies the gradient by a factor below 1 at every step back in time, so the gradient that "
                    "reaches step 1 is the smallest, and on a log scale the expected curve is close to a straight "
                    "line: the vanishing-gradient shape you plotted in Part B. " + verdict),
    }


def plots(probes) -> list[dict]:
    return [p for p in (grad_norms_plot(probes),) if p]
