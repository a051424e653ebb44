"""Hidden checks for Week 11 (``week11_gated``): decide from probe data, on the trusted side.

Every check is independent of the student's parameter layout (one fused 4H matrix,
one nn.Linear per gate, a Linear on [x, h], one or two bias vectors) and of the
initialisation: gate equations are verified by least-squares fits over many random
inputs, the gradient-ratio checks re-draw every weight matrix from a fixed
distribution (probes.py), and the runners and Seq2Seq are driven with probe-made
test cells and spy modules whose recorded traffic is replayed here.

Thresholds of the gradient-ratio checks come from ``thresholds.yaml`` (written by
``calibrate_thresholds.py``); nothing else here is a calibrated number.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import yaml

from autograder.scoring.checks import (
    CheckFailed, ProbeFailed, affine_fit, describe, expect, fmt, max_abs_diff, meta_tensor, result, shape_text,
    tensor, tensor_dtype,
)

THRESHOLDS = yaml.safe_load(Path(__file__).with_name("thresholds.yaml").read_text())

EQ_TOL = 1e-3         # max |residual| of an affine fit on the logit/atanh scale (float32 noise is ~1e-5)
DEP_TOL = 1e-3        # a fitted coefficient block below this means "does not depend on it at all"
ATOL = 1e-5           # float32 agreement of recomputed values
META_ONLY = ("cannot be called on meta tensors", "Cannot copy out of meta tensor")


# =========================================================================== helpers

def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _close(a: np.ndarray, b: np.ndarray, atol: float = ATOL, rtol: float = 1e-4) -> bool:
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and bool(np.allclose(a, b, atol=atol, rtol=rtol))


def _finite(arr: np.ndarray, what: str) -> None:
    expect(bool(np.all(np.isfinite(arr))), f"{what} contains NaN or inf values.")


def _shaped(value, shape, what: str) -> np.ndarray:
    arr = tensor(value, what)
    expect(arr.shape == tuple(shape), f"{what} should have shape {shape_text(shape)}; yours has shape {shape_text(arr.shape)}.")
    _finite(arr, what)
    return arr


def _pair(value, shape, what: str) -> tuple[np.ndarray, np.ndarray]:
    """An LSTM state: a tuple (h, c) of two tensors of ``shape``."""
    expect(isinstance(value, list) and len(value) == 2,
           f"{what} should be a tuple (h, c) of two tensors; yours is {describe(value)}.")
    return _shaped(value[0], shape, f"The h part of {what[0].lower() + what[1:]}"), \
        _shaped(value[1], shape, f"The c part of {what[0].lower() + what[1:]}")


def _gates(value, keys, shape, call: str) -> dict[str, np.ndarray]:
    expect(isinstance(value, dict), f"{call} should return a dict with keys {_keys_text(keys)}; yours returns {describe(value)}.")
    missing = [k for k in keys if k not in value]
    expect(not missing, f"{call} should return a dict with keys {_keys_text(keys)}; yours has {_keys_text(list(value))} (missing {_keys_text(missing)}).")
    return {k: _shaped(value[k], shape, f"The '{k}' gate from {call}") for k in keys}


def _keys_text(keys) -> str:
    return ", ".join(repr(k) for k in keys) if keys else "no keys"


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


def _fit_residual(features: np.ndarray, target: np.ndarray, valid: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Max |residual| of an affine least-squares fit of one output unit, and its coefficients."""
    if valid is not None:
        features, target = features[valid], target[valid]
    if len(target) < features.shape[1] + 5:
        return math.inf, np.zeros(features.shape[1] + 1)
    coef, residual = affine_fit(features, target)
    return float(np.max(np.abs(residual))), coef[:, 0] if coef.ndim == 2 else coef


def _check_sigmoid_affine(gate: np.ndarray, x: np.ndarray, h: np.ndarray, name: str, call: str) -> None:
    """gate = sigmoid(W x + U h + b), unit by unit, depending on both x and h."""
    for j in range(gate.shape[1]):
        p = gate[:, j]
        valid = (p > 1e-4) & (p < 1 - 1e-4)
        res, coef = _fit_residual(np.concatenate([x, h], axis=1), _logit(np.clip(p, 1e-12, 1 - 1e-12)), valid)
        expect(res < EQ_TOL,
               f"The '{name}' gate from {call} should be sigmoid of an affine function of x and h "
               f"(sigmoid(W x + U h + b)); for unit {j}, logit(gate) is not affine in (x, h) "
               f"(least-squares misfit {fmt(res)} over 160 random inputs).")
        _depends(coef, x.shape[1], name, call)


def _depends(coef: np.ndarray, d: int, name: str, call: str) -> None:
    wx, wh = np.abs(coef[:d]).max(), np.abs(coef[d:-1]).max()
    expect(wx > DEP_TOL, f"The '{name}' gate from {call} does not depend on the input x at all; it should be a function of both x and h.")
    expect(wh > DEP_TOL, f"The '{name}' gate from {call} does not depend on the hidden state h at all; it should be a function of both x and h.")


def _check_tanh_affine(gate: np.ndarray, x: np.ndarray, h: np.ndarray, name: str, call: str) -> None:
    for j in range(gate.shape[1]):
        g = gate[:, j]
        valid = np.abs(g) < 1 - 1e-4
        res, coef = _fit_residual(np.concatenate([x, h], axis=1), np.arctanh(np.clip(g, -1 + 1e-12, 1 - 1e-12)), valid)
        expect(res < EQ_TOL,
               f"The '{name}' candidate from {call} should be tanh of an affine function of x and h "
               f"(tanh(W x + U h + b)); for unit {j}, atanh(candidate) is not affine in (x, h) "
               f"(least-squares misfit {fmt(res)} over 160 random inputs).")
        _depends(coef, x.shape[1], name, call)


def _ranges(gates: dict[str, np.ndarray], sig: tuple[str, ...], tanh: tuple[str, ...], call: str) -> None:
    for k in sig:
        g = gates[k]
        expect(bool(np.all((g > 0) & (g < 1))),
               f"The '{k}' gate from {call} should lie in (0, 1) (a sigmoid); yours ranges over [{fmt(g.min())}, {fmt(g.max())}].")
    for k in tanh:
        g = gates[k]
        expect(bool(np.all((g > -1) & (g < 1))),
               f"The '{k}' values from {call} should lie in (-1, 1) (a tanh); yours range over [{fmt(g.min())}, {fmt(g.max())}].")
        expect(bool(g.min() < 0 < g.max()),
               f"The '{k}' values from {call} should take both signs on random inputs (a tanh); yours range over [{fmt(g.min())}, {fmt(g.max())}].")


def _meta(value, shape, what: str) -> None:
    mt = meta_tensor(value, what)
    expect(mt.shape == tuple(shape), f"{what} on the meta device should have shape {shape_text(shape)}; yours has {shape_text(mt.shape)}.")


def _meta_result(probes, name: str):
    try:
        return result(probes, name)
    except ProbeFailed as exc:
        if "device" in exc.message or "meta" in exc.message:
            raise ProbeFailed(exc.status, exc.message + " Create new tensors on the device of the inputs "
                              "(device=x.device) or of the parameters, never on the CPU by default.") from None
        raise


def _median(values, what: str) -> float:
    numbers = []
    for v in values:
        if isinstance(v, dict):
            first, last = v.get("first"), v.get("last")
            if first == 0.0:
                raise CheckFailed(f"{what}, no gradient at all reached h_1 from the loss at step 50 (||dL/dh_1|| = 0): "
                                  f"the later steps should depend on h_1 through the gates' recurrent term (U h).")
            raise CheckFailed(f"{what}, the gradient norm at step 1 is {fmt(first)} and at step 50 {fmt(last)}, "
                              "so their ratio is undefined (a zero, NaN or inf gradient).")
        numbers.append(float(v))
    return float(np.median(numbers))


# =========================================================================== w11_lstm_cell

LSTM_KEYS = ("input", "forget", "cell", "output")


def test_lstm_state_shapes(probes):
    init = result(probes, "lstm_init")
    expect(init["hidden_size"] == 4, f"LSTMCell(3, 4) should store the attribute hidden_size = 4; yours has {describe(init['hidden_size']) if init['hidden_size'] is not None else 'no hidden_size'}.")
    h0, c0 = _pair(init["state"], (5, 4), "LSTMCell(3, 4).initial_state(5)")
    expect(not h0.any() and not c0.any(), "LSTMCell.initial_state should return zeros (h, c); yours has non-zero entries.")
    fwd = result(probes, "lstm_forward")
    _pair(fwd["out"], (6, 4), "The output of LSTMCell(3, 4) on a batch of 6")


def _check_param_count(data, blocks: int, cls: str, names: str) -> None:
    for (d, h), count in zip(data["sizes"], data["counts"]):
        weights = blocks * (h * d + h * h)
        bias = count - weights
        lo, hi = weights + blocks * h, weights + 2 * blocks * h
        expect(bias % h == 0 and blocks * h <= bias <= 2 * blocks * h,
               f"{cls}({d}, {h}) has {count} parameters. {'An LSTM' if blocks == 4 else 'A GRU'} has {blocks} blocks "
               f"({names}), each with an H x D input matrix and an H x H recurrent matrix ({weights} weights), plus "
               f"one or two bias vectors of size H per block: {lo} to {hi} parameters in all. Yours does not fit.")


def test_lstm_parameter_count(probes):
    _check_param_count(result(probes, "lstm_params"), 4, "LSTMCell", "input, forget, candidate, output")


def test_lstm_gate_shapes_and_ranges(probes):
    data = result(probes, "lstm_gates")
    gates = _gates(data["gates"], LSTM_KEYS, (160, 4), "LSTMCell(3, 4).gates(x, (h, c))")
    _ranges(gates, ("input", "forget", "output"), ("cell",), "LSTMCell.gates")


def test_lstm_gate_equations(probes):
    data = result(probes, "lstm_gates")
    gates = _gates(data["gates"], LSTM_KEYS, (160, 4), "LSTMCell(3, 4).gates(x, (h, c))")
    x, h = tensor(data["x"], "x"), tensor(data["h"], "h")
    for k in ("input", "forget", "output"):
        _check_sigmoid_affine(gates[k], x, h, k, "LSTMCell.gates")
    _check_tanh_affine(gates["cell"], x, h, "cell", "LSTMCell.gates")


def _check_lstm_update(gates, c, out, call: str) -> None:
    h_t, c_t = _pair(out, c.shape, f"The output of {call}")
    f, i, g, o = gates["forget"], gates["input"], gates["cell"], gates["output"]
    want_c = f * c + i * g
    if not _close(c_t, want_c):
        hint = ""
        if _close(c_t, f * c + g):
            hint = " Yours equals f*c + g: the input gate i is missing."
        elif _close(c_t, i * g):
            hint = " Yours equals i*g: the old cell state f*c is missing."
        expect(False, f"{call} should return c_t = f*c + i*g with the gates from .gates() "
                      f"(forget f, input i, candidate g); yours differs by up to {fmt(max_abs_diff(c_t, want_c))}.{hint}")
    want_h = o * np.tanh(c_t)
    if not _close(h_t, want_h):
        hint = ""
        if _close(h_t, o * c_t):
            hint = " Yours equals o*c_t: tanh is missing."
        elif _close(h_t, np.tanh(c_t)):
            hint = " Yours equals tanh(c_t): the output gate o is missing."
        elif _close(h_t, np.tanh(o * c_t)):
            hint = " Yours equals tanh(o*c_t): the output gate belongs outside the tanh."
        expect(False, f"{call} should return h_t = o*tanh(c_t) with the output gate o from .gates(); "
                      f"yours differs by up to {fmt(max_abs_diff(h_t, want_h))}.{hint}")


def test_lstm_forward_matches_gates(probes):
    data = result(probes, "lstm_gates")
    gates = _gates(data["gates"], LSTM_KEYS, (160, 4), "LSTMCell(3, 4).gates(x, (h, c))")
    _check_lstm_update(gates, tensor(data["c"], "c"), data["out"], "LSTMCell(3, 4).forward(x, (h, c))")


def test_lstm_forget_bias(probes):
    runs = result(probes, "lstm_forget_bias")
    for run in runs:
        fb = float(run["forget_bias"])
        call = "LSTMCell(3, 4)" + (" (default forget_bias)" if run["default"] else f" with forget_bias={fb:g}")
        gates = _gates(run["gates"], LSTM_KEYS, (5, 4), f"{call}.gates")
        want = _sigmoid(fb)
        f = gates["forget"]
        expect(_close(f, np.full_like(f, want)),
               f"With zero input and zero state, the forget gate of {call} should equal sigmoid({fb:g}) = {fmt(want)} "
               f"(its total bias is forget_bias{'; the default is 1.0' if run['default'] else ''}); "
               f"yours gives {fmt(np.median(f))}.")
        for k, value, fn in (("input", 0.5, "sigmoid(0)"), ("output", 0.5, "sigmoid(0)"), ("cell", 0.0, "tanh(0)")):
            g = gates[k]
            expect(_close(g, np.full_like(g, value)),
                   f"With zero input and zero state, the '{k}' gate of {call} should equal {fn} = {fmt(value)} "
                   f"(every bias other than the forget gate's starts at zero, or sums to zero with two bias vectors); "
                   f"yours gives {fmt(np.median(g))}.")


def test_lstm_cell_state_decay(probes):
    runs = result(probes, "lstm_forget_bias")
    for run in runs:
        fb = float(run["forget_bias"])
        call = "LSTMCell(3, 4)" + (" (default forget_bias)" if run["default"] else f" with forget_bias={fb:g}")
        c0 = tensor(run["c0"], "c")
        _, c1 = _pair(run["out"], (5, 4), f"The output of {call}")
        want = _sigmoid(fb)
        expect(_close(c1, want * c0),
               f"A cell state carried one step by {call} with zero input and h = 0 should shrink by exactly "
               f"sigmoid(forget_bias) = {fmt(want)} (c_t = f*c + i*g with g = tanh(0) = 0); "
               f"yours gives c_t / c = {fmt(np.median(c1 / c0))}.")


def test_lstm_ablation(probes):
    runs = result(probes, "lstm_ablation")
    for run in runs:
        which = run["ablate"]
        call = f"LSTMCell(3, 4, ablate='{which}')"
        gates = _gates(run["gates"], LSTM_KEYS, (64, 4), f"{call}.gates")
        g = gates[which]
        expect(bool(np.all(g == 1.0)),
               f"With ablate='{which}' the {which} gate should be fixed to 1 (always open) in .gates(); "
               f"yours ranges over [{fmt(g.min())}, {fmt(g.max())}].")
        x, h, c = tensor(run["x"], "x"), tensor(run["h"], "h"), tensor(run["c"], "c")
        for k in ("input", "forget", "output"):
            if k != which:
                expect(bool(np.all((gates[k] > 0) & (gates[k] < 1))),
                       f"With ablate='{which}' the '{k}' gate should still be a sigmoid in (0, 1); yours ranges over "
                       f"[{fmt(gates[k].min())}, {fmt(gates[k].max())}].")
                _check_sigmoid_affine(gates[k], x, h, k, f"{call}.gates")
        _check_tanh_affine(gates["cell"], x, h, "cell", f"{call}.gates")
        _check_lstm_update(gates, c, run["out"], f"{call}.forward(x, (h, c))")


def _grad_rows(probes):
    data = result(probes, "lstm_grad_ratio")
    rows = dict(zip((float(fb) for fb in data["forget_biases"]), data["log10_ratio"]))
    return {fb: _median(values, f"With forget_bias={fb:g}") for fb, values in rows.items()}, len(data["seeds"])


def test_lstm_gradient_flow(probes):
    medians, n = _grad_rows(probes)
    thr = float(THRESHOLDS["lstm_fb1_min_log10_ratio"])
    med = medians[1.0]
    expect(med > thr,
           f"With forget_bias=1 the gradient reaching step 1 of a 50-step recall sequence should be at least "
           f"10^{thr:g} of the gradient at step 50 (median over {n} seeds, every weight matrix re-drawn from "
           f"U(-1/sqrt(H), 1/sqrt(H))); yours is 10^{med:.1f}, no better than a plain RNN. The additive update "
           f"c_t = f*c + i*g should let the gradient pass along the cell state.")


def test_lstm_forget_bias_carries_gradient(probes):
    medians, n = _grad_rows(probes)
    margin = float(THRESHOLDS["lstm_fb_min_increase"])
    fbs = sorted(medians)
    text = ", ".join(f"{medians[fb]:.1f} at forget_bias={fb:g}" for fb in fbs)
    for lo, hi in zip(fbs, fbs[1:]):
        expect(medians[hi] > medians[lo] + margin,
               f"A larger forget_bias should carry the gradient further back: log10(||dL/dh_1|| / ||dL/dh_50||) "
               f"should grow by more than {margin:g} from forget_bias={lo:g} to {hi:g} (median over {n} seeds); "
               f"yours: {text}.")


def test_lstm_meta_device(probes):
    data = _meta_result(probes, "lstm_meta")
    expect(isinstance(data["state"], list) and len(data["state"]) == 2,
           f"LSTMCell.initial_state(5, device='meta') should return a tuple (h, c); yours is {describe(data['state'])}.")
    for part, value in zip("hc", data["state"]):
        _meta(value, (5, 4), f"The {part} part of LSTMCell.initial_state(5, device='meta')")
    expect(isinstance(data["out"], list) and len(data["out"]) == 2,
           f"LSTMCell.forward on the meta device should return a tuple (h_t, c_t); yours is {describe(data['out'])}.")
    for part, value in zip(("h_t", "c_t"), data["out"]):
        _meta(value, (5, 4), f"{part} from LSTMCell.forward")
    expect(isinstance(data["gates"], dict), "LSTMCell.gates should return a dict.")
    for k in LSTM_KEYS:
        expect(k in data["gates"], f"LSTMCell.gates should return the key '{k}'.")
        _meta(data["gates"][k], (5, 4), f"The '{k}' gate from LSTMCell.gates")


# =========================================================================== w11_gru_cell

GRU_KEYS = ("reset", "update", "candidate")


def test_gru_state_shapes(probes):
    init = result(probes, "gru_init")
    expect(init["hidden_size"] == 4, f"GRUCell(3, 4) should store the attribute hidden_size = 4; yours has {describe(init['hidden_size']) if init['hidden_size'] is not None else 'no hidden_size'}.")
    h0 = _shaped(init["state"], (5, 4), "GRUCell(3, 4).initial_state(5)")
    expect(not h0.any(), "GRUCell.initial_state should return zeros; yours has non-zero entries.")
    fwd = result(probes, "gru_forward")
    _shaped(fwd["out"], (6, 4), "The output of GRUCell(3, 4) on a batch of 6")


def test_gru_parameter_count(probes):
    _check_param_count(result(probes, "gru_params"), 3, "GRUCell", "reset, update, candidate")


def test_gru_gate_shapes_and_ranges(probes):
    data = result(probes, "gru_gates")
    gates = _gates(data["gates"], GRU_KEYS, (160, 4), "GRUCell(3, 4).gates(x, h)")
    _ranges(gates, ("reset", "update"), ("candidate",), "GRUCell.gates")


def _gru_candidate_fits(data):
    """Misfits of atanh(candidate) under PyTorch's convention and under the paper's, unit by unit."""
    gates = _gates(data["gates"], GRU_KEYS, (160, 4), "GRUCell(3, 4).gates(x, h)")
    x, h = tensor(data["x"], "x"), tensor(data["h"], "h")
    r, n = gates["reset"], gates["candidate"]
    torch_fit, paper_fit = [], []
    for j in range(n.shape[1]):
        valid = np.abs(n[:, j]) < 1 - 1e-4
        target = np.arctanh(np.clip(n[:, j], -1 + 1e-12, 1 - 1e-12))
        rj = r[:, j:j + 1]
        # PyTorch: a_j.x + b_in + r_j * (w_j.h + b_hn): affine in [x, r_j, r_j * h]
        torch_fit.append(_fit_residual(np.concatenate([x, rj, rj * h], axis=1), target, valid))
        # paper: a_j.x + w_j.(r * h) + b: affine in [x, r * h]
        paper_fit.append(_fit_residual(np.concatenate([x, r * h], axis=1), target, valid))
    return x.shape[1], torch_fit, paper_fit


def test_gru_gate_equations(probes):
    data = result(probes, "gru_gates")
    gates = _gates(data["gates"], GRU_KEYS, (160, 4), "GRUCell(3, 4).gates(x, h)")
    x, h = tensor(data["x"], "x"), tensor(data["h"], "h")
    for k in ("reset", "update"):
        _check_sigmoid_affine(gates[k], x, h, k, "GRUCell.gates")
    d, torch_fit, paper_fit = _gru_candidate_fits(data)
    for j, ((rt, ct), (rp, cp)) in enumerate(zip(torch_fit, paper_fit)):
        expect(min(rt, rp) < EQ_TOL,
               f"The candidate from GRUCell.gates should be n = tanh(W_in x + b_in + r*(W_hn h + b_hn)), with r the "
               f"reset gate from .gates(); for unit {j}, atanh(candidate) is not of that form "
               f"(least-squares misfit {fmt(min(rt, rp))} over 160 random inputs). Check the tanh, and that the "
               f"reset gate multiplies the recurrent term.")
        coef = ct if rt <= rp else cp
        expect(np.abs(coef[:d]).max() > DEP_TOL, "The GRU candidate does not depend on the input x at all.")
        h_block = coef[d + 1:-1] if rt <= rp else coef[d:-1]
        expect(np.abs(h_block).max() > DEP_TOL, "The GRU candidate does not depend on the hidden state h at all.")


def test_gru_reset_convention(probes):
    data = result(probes, "gru_gates")
    _, torch_fit, paper_fit = _gru_candidate_fits(data)
    for j, ((rt, _), (rp, _)) in enumerate(zip(torch_fit, paper_fit)):
        if rt < EQ_TOL:
            continue
        if rp < EQ_TOL:
            expect(False, "Your GRU applies the reset gate to h before the matrix product, n = tanh(W_in x + W_hn (r*h) + b) "
                          "(the original paper's variant). This lab uses PyTorch's convention, stated in the notebook: "
                          "n = tanh(W_in x + b_in + r*(W_hn h + b_hn)), the reset gate multiplying the recurrent term "
                          "after the matrix product and its bias.")
        expect(False, f"The candidate from GRUCell.gates should follow PyTorch's convention "
                      f"n = tanh(W_in x + b_in + r*(W_hn h + b_hn)); for unit {j} it does not "
                      f"(least-squares misfit {fmt(rt)} over 160 random inputs).")


def test_gru_forward_matches_gates(probes):
    data = result(probes, "gru_gates")
    gates = _gates(data["gates"], GRU_KEYS, (160, 4), "GRUCell(3, 4).gates(x, h)")
    h = tensor(data["h"], "h")
    out = _shaped(data["out"], h.shape, "The output of GRUCell(3, 4).forward(x, h)")
    z, n = gates["update"], gates["candidate"]
    want = (1 - z) * n + z * h
    if not _close(out, want):
        hint = ""
        if _close(out, z * n + (1 - z) * h):
            hint = " Yours computes z*n + (1 - z)*h: the roles of z and 1 - z are swapped (this lab uses PyTorch's convention)."
        expect(False, f"GRUCell.forward should return h_t = (1 - z)*n + z*h with the update gate z and candidate n from "
                      f".gates(); yours differs by up to {fmt(max_abs_diff(out, want))}.{hint}")


def test_gru_meta_device(probes):
    data = _meta_result(probes, "gru_meta")
    _meta(data["state"], (5, 4), "GRUCell.initial_state(5, device='meta')")
    _meta(data["out"], (5, 4), "The output of GRUCell.forward")
    expect(isinstance(data["gates"], dict), "GRUCell.gates should return a dict.")
    for k in GRU_KEYS:
        expect(k in data["gates"], f"GRUCell.gates should return the key '{k}'.")
        _meta(data["gates"][k], (5, 4), f"The '{k}' gate from GRUCell.gates")


# =========================================================================== runners

def _result_map(entries, what: str) -> dict:
    expect(isinstance(entries, list), f"{what} should return a dict; yours returns {entries.get('not_a_dict', 'something else') if isinstance(entries, dict) else describe(entries)}.")
    return {(tuple(e["key"]) if isinstance(e["key"], list) else e["key"]): e for e in entries}


def _accuracies(entry, n_seeds: int, what: str) -> list[float]:
    values = entry["values"]
    expect(isinstance(values, list),
           f"{what} should be a list with one held-out accuracy per seed; yours is {values.get('not_a_list', 'something else') if isinstance(values, dict) else describe(values)}.")
    expect(len(values) == n_seeds, f"{what} should hold one held-out accuracy per seed ({n_seeds} seeds); yours holds {len(values)}.")
    for v in values:
        expect(isinstance(v, float), f"{what} should hold numbers (held-out accuracies); yours holds a {v.get('not_a_number') if isinstance(v, dict) else describe(v)}.")
        expect(0.0 <= v <= 1.0, f"{what} should hold held-out accuracies as fractions in [0, 1]; yours holds {fmt(v)}.")
    return values


def test_compare_keys_and_values(probes):
    data = result(probes, "compare_runs")
    got = _result_map(data["runs"][0]["result"], "compare_cells")
    want = [(name, T) for name in data["names"] for T in data["seq_lens"]]
    missing = [k for k in want if k not in got]
    extra = [e["key_text"] for k, e in got.items() if k not in want]
    expect(not missing and not extra,
           f"compare_cells([3, 5], {{'toy_tanh': ..., 'toy_pair': ...}}, seeds=[0, 1]) should return the keys "
           f"{', '.join(repr(k) for k in want)} (one (name, T) tuple per cell and length); "
           f"yours returns {', '.join(e['key_text'] for e in got.values()) or 'no keys'}.")
    for key in want:
        _accuracies(got[key], len(data["seeds"]), f"compare_cells(...)[{key!r}]")


def test_compare_deterministic(probes):
    data = result(probes, "compare_runs")
    first, second = data["runs"]
    expect(first["result"] == second["result"],
           "compare_cells returned different numbers when run twice with the same seeds: seed the data, the "
           "initialisation and the shuffling from each run's seed (set_seed(seed) before building the model).")
    expect([b["fingerprint"] for b in first["builds"]] == [b["fingerprint"] for b in second["builds"]],
           "compare_cells initialised its models differently when run twice with the same seeds: call "
           "set_seed(seed) before building each model.")


def test_compare_seeds_control_the_runs(probes):
    data = result(probes, "compare_runs")
    run = data["runs"][0]
    n_seeds, n_lens = len(data["seeds"]), len(data["seq_lens"])
    for name in data["names"]:
        builds = [b for b in run["builds"] if b["cell"] == name]
        expect(len(builds) >= n_seeds * n_lens,
               f"compare_cells should train a fresh model for every cell, length and seed ({n_seeds * n_lens} for "
               f"'{name}'); it built {len(builds)}.")
        distinct = len({round(b["fingerprint"], 9) for b in builds})
        expect(distinct >= n_seeds,
               f"compare_cells gave every seed the same initial weights for '{name}': the initialisation "
               f"should come from each run's seed (set_seed(seed) before building the model).")


def test_compare_held_out_data(probes):
    data = result(probes, "compare_runs")
    calls = data["runs"][0]["data_calls"]
    for T in data["seq_lens"]:
        at_t = [c for c in calls if c["seq_len"] == T]
        n_train = max((c["n"] for c in at_t), default=0)
        train = {c["seed"] for c in at_t if c["n"] == n_train}
        test = {c["seed"] for c in at_t if c["n"] < n_train}
        expect(train and test,
               f"compare_cells should generate a training set and a (smaller) held-out set for T = {T} with "
               f"make_recall_dataset (or recall_split) and RECALL_DEFAULTS['n_train'] / ['n_test']; "
               f"{'no such call was seen' if not at_t else 'only one set size was seen'}.")
        both = sorted(train & test)
        expect(not both,
               f"compare_cells generated held-out data with the same seed as training data (seed {both[0] if both else ''}): "
               f"the held-out accuracy then measures memorised sequences. Generate the held-out set with a different "
               f"seed (recall_split uses seed + RECALL_DEFAULTS['test_seed_offset']).")
        expect(len(train) >= len(data["seeds"]),
               f"compare_cells used the same training data for every seed at T = {T}: the data should come from each "
               f"run's seed.")


ABLATION_KEYS = ("none", "input", "forget", "output")


def test_ablation_keys_and_values(probes):
    data = result(probes, "ablation_runs")
    got = _result_map(data["runs"][0]["result"], "ablation_study")
    expect(set(got) == set(ABLATION_KEYS),
           f"ablation_study should return the keys {_keys_text(ABLATION_KEYS)}; yours returns "
           f"{', '.join(e['key_text'] for e in got.values()) or 'no keys'}.")
    for key in ABLATION_KEYS:
        _accuracies(got[key], len(data["seeds"]), f"ablation_study(...)[{key!r}]")


def test_ablation_builds_each_variant(probes):
    data = result(probes, "ablation_runs")
    builds = data["runs"][0]["builds"]
    n = len(data["seeds"])
    expect(builds, "ablation_study should build its models from LSTMCell(input_size, hidden_size, ablate=...); "
                   "no LSTMCell was built.")
    seen = {}
    for b in builds:
        key = "none" if b["ablate"] in (None, "none") else b["ablate"]
        seen[key] = seen.get(key, 0) + 1
    wrong = [k for k in seen if k not in ABLATION_KEYS]
    if wrong:
        expect(False, f"ablation_study built LSTMCell with ablate={wrong[0]!r}; use None, 'input', 'forget' or 'output'.")
    for key in ABLATION_KEYS:
        arg = "None" if key == "none" else repr(key)
        expect(seen.get(key, 0) >= n,
               f"ablation_study should train one LSTMCell(..., ablate={arg}) per seed ({n} seeds); it built "
               f"{seen.get(key, 0)}.")


def test_ablation_deterministic(probes):
    data = result(probes, "ablation_runs")
    first, second = data["runs"]
    expect(first["result"] == second["result"] and
           [b["fingerprint"] for b in first["builds"]] == [b["fingerprint"] for b in second["builds"]],
           "ablation_study returned different numbers (or initial weights) when run twice with the same seeds: "
           "seed each run from its seed.")


# =========================================================================== w11_encoder

def _state(value, B: int, H: int, what: str) -> list[np.ndarray]:
    """A recurrent state: a tensor (B, H) or a tuple (h, c) of two."""
    if isinstance(value, list):
        expect(len(value) == 2, f"{what} should be a tensor (B, H) or a tuple (h, c); yours is a tuple of {len(value)} items.")
        return [_shaped(v, (B, H), f"{what} ({part} part)") for v, part in zip(value, "hc")]
    return [_shaped(value, (B, H), what)]


def _differs(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return max(max_abs_diff(x, y) for x, y in zip(a, b)) > 1e-6


def test_encoder_state_shape(probes):
    data = result(probes, "encoder_states")
    _state(data["full"], data["B"], data["H"], "The state returned by Encoder(10, 5, 6) on a (4, 7) source")


def test_encoder_final_state(probes):
    data = result(probes, "encoder_states")
    B, H = data["B"], data["H"]
    full = _state(data["full"], B, H, "The encoder state")
    last = _state(data["last_changed"], B, H, "The encoder state")
    first = _state(data["first_changed"], B, H, "The encoder state")
    prefix = _state(data["prefix"], B, H, "The encoder state")
    row0 = _state(data["row0_changed"], B, H, "The encoder state")
    expect(len(full) == len(last) == len(first) == len(prefix) == len(row0),
           "Encoder.forward should always return the same kind of state.")
    expect(_differs(full, last),
           "Changing the last source token did not change the state returned by Encoder.forward: it should return the "
           "final state, after the last token.")
    expect(_differs(full, prefix),
           "Encoder.forward returned the same state for a source and for that source without its last token: it "
           "should return the state after the last token.")
    expect(_differs(full, first),
           "Changing the first source token did not change the state returned by Encoder.forward: the state should "
           "carry information from every token (pass each step's state on to the next).")
    expect(all(max_abs_diff(a[1:], b[1:]) <= 1e-6 for a, b in zip(full, row0)),
           "Changing one source sequence changed the encoder state of the other sequences in the batch: each state "
           "should depend on its own sequence only.")


def test_encoder_meta_device(probes):
    data = _meta_result(probes, "encoder_meta")
    value = data["state"]
    parts = value if isinstance(value, list) else [value]
    expect(len(parts) in (1, 2), f"Encoder.forward should return a tensor or a tuple (h, c); yours is {describe(value)}.")
    for part in parts:
        _meta(part, (4, 6), "The state returned by Encoder.forward")


# =========================================================================== w11_decoder

def test_decoder_step_shapes(probes):
    data = result(probes, "decoder_step")
    B, V, H = data["B"], data["V"], data["H"]
    _shaped(data["logits"], (B, V), "The logits returned by Decoder(11, 5, 6) for 3 tokens")
    kind = data["kind"]
    new = _state(data["new_state"], B, H, "The state returned by Decoder.forward")
    expect(len(new) == (1 if kind == "tensor" else 2),
           f"Decoder.forward should return a new state of the same kind as the state it receives "
           f"({'a tensor (B, H)' if kind == 'tensor' else 'a tuple (h, c)'}).")


def test_decoder_returns_new_state(probes):
    data = result(probes, "decoder_step")
    B, H = data["B"], data["H"]
    old = _state(data["state"], B, H, "The state given to Decoder.forward")
    new = _state(data["new_state"], B, H, "The state returned by Decoder.forward")
    expect(len(old) == len(new), "Decoder.forward should return a new state of the same kind as the state it receives.")
    expect(_differs(old, new),
           "Decoder.forward returned the state it was given: it should return the new state after this step, so "
           "that the next step continues from it.")


def test_decoder_uses_token_and_state(probes):
    data = result(probes, "decoder_step")
    B, V = data["B"], data["V"]
    logits = _shaped(data["logits"], (B, V), "The logits returned by Decoder.forward")
    again = _shaped(data["logits_again"], (B, V), "The logits returned by Decoder.forward")
    expect(max_abs_diff(logits, again) <= 1e-6,
           "Decoder.forward gave different logits for the same token and state (in eval mode): one step should be a "
           "deterministic function of its inputs.")
    other_token = _shaped(data["logits_other_token"], (B, V), "The logits returned by Decoder.forward")
    other_state = _shaped(data["logits_other_state"], (B, V), "The logits returned by Decoder.forward")
    expect(all(max_abs_diff(logits[b], other_token[b]) > 1e-6 for b in range(B)),
           "Decoder.forward gave the same logits for different input tokens: the step should embed the token and "
           "feed it to the cell.")
    expect(all(max_abs_diff(logits[b], other_state[b]) > 1e-6 for b in range(B)),
           "Decoder.forward gave the same logits for different incoming states: the step should continue from the "
           "state it receives (the encoder's final state at step 0).")


def test_decoder_meta_device(probes):
    data = _meta_result(probes, "decoder_meta")
    _meta(data["logits"], (3, 11), "The logits returned by Decoder.forward")
    parts = data["new_state"] if isinstance(data["new_state"], list) else [data["new_state"]]
    for part in parts:
        _meta(part, (3, 6), "The state returned by Decoder.forward")


# =========================================================================== w11_seq2seq

def _calls(data, T: int, what: str):
    calls = data["calls"]
    expect(len(calls) == T, f"{what} should call the decoder once per target position ({T} steps); yours called it {len(calls)} times.")
    tokens = [tensor(c["token"], "the decoder's input token").reshape(-1) for c in calls]
    return calls, tokens


def _token_text(arr: np.ndarray) -> str:
    return "[" + ", ".join(str(int(v)) if float(v).is_integer() else fmt(v) for v in arr) + "]"


def test_seq2seq_teacher_forcing_inputs(probes):
    data = result(probes, "seq2seq_forced")
    tgt = tensor(data["tgt"], "tgt")
    B, T = tgt.shape
    calls, tokens = _calls(data, T, "Seq2Seq.forward(src, tgt, 1.0)")
    expect(tokens[0].shape == (B,) and bool(np.all(tokens[0] == data["sos"])),
           f"With teacher forcing, step 0's decoder input should be sos_index = {data['sos']} for every sequence; "
           f"yours is {_token_text(tokens[0])}.")
    for t in range(1, T):
        tok = tokens[t]
        if tok.shape == (B,) and np.array_equal(tok, tgt[:, t - 1]):
            continue
        if tok.shape == (B,) and np.array_equal(tok, tgt[:, t]):
            expect(False, f"With teacher_forcing_ratio=1.0, step {t}'s decoder input should be tgt[:, {t - 1}] (the "
                          f"previous target); yours is tgt[:, {t}], the very token step {t} must predict: a look-ahead "
                          f"leak.")
        expect(False, f"With teacher_forcing_ratio=1.0, step {t}'s decoder input should be tgt[:, {t - 1}] = "
                      f"{_token_text(tgt[:, t - 1])}; yours is {_token_text(tok)}.")


def _check_chain(data, T: int, what: str) -> None:
    calls = data["calls"]
    enc = data["encoder_states"]
    expect(len(enc) >= 1, f"{what} should encode the source with the encoder.")
    start = tensor(calls[0]["state_in"], "the decoder's first state") if not isinstance(calls[0]["state_in"], list) else None
    expect(start is not None and _close(start, tensor(enc[-1], "the encoder state"), atol=1e-6),
           f"{what}: the decoder should start from the encoder's final state; the state it received at step 0 differs.")
    for t in range(1, T):
        s_in = calls[t]["state_in"]
        expect(not isinstance(s_in, list) and _close(tensor(s_in, "state"), tensor(calls[t - 1]["state_out"], "state"), atol=1e-6),
               f"{what}: at step {t} the decoder should receive the state it returned at step {t - 1}; yours passed a "
               f"different state.")


def _check_logits(data, out_key: str, B: int, T: int, V: int, what: str) -> np.ndarray:
    out = _shaped(data[out_key], (B, T, V), f"The logits from {what}")
    for t, call in enumerate(data["calls"]):
        step = tensor(call["logits"], "the decoder's logits")
        expect(_close(out[:, t], step, atol=1e-6),
               f"The logits from {what} at step {t} should be the decoder's output at that step (stacked along "
               f"dim 1 into (B, T, V)); yours differ.")
    return out


def test_seq2seq_state_and_logits(probes):
    data = result(probes, "seq2seq_forced")
    tgt = tensor(data["tgt"], "tgt")
    B, T = tgt.shape
    _calls(data, T, "Seq2Seq.forward(src, tgt, 1.0)")
    _check_chain(data, T, "Seq2Seq.forward")
    _check_logits(data, "out", B, T, 11, "Seq2Seq.forward(src, tgt, 1.0)")


def test_seq2seq_no_lookahead(probes):
    data = result(probes, "seq2seq_lookahead")
    k = data["changed_from"]
    B, T = tensor(data["tgt"], "tgt").shape
    out1 = _shaped(data["out1"], (B, T, 11), "The logits from Seq2Seq.forward(src, tgt, 1.0)")
    out2 = _shaped(data["out2"], (B, T, 11), "The logits from Seq2Seq.forward(src, tgt, 1.0)")
    for t in range(k + 1):
        expect(max_abs_diff(out1[:, t], out2[:, t]) <= 1e-6,
               f"Changing the targets from position {k} on changed the logits at step {t}: step t may only see "
               f"tgt[:, :t] (the targets before it), never the target it must predict or later ones.")


def test_seq2seq_free_running(probes):
    data = result(probes, "seq2seq_free")
    tgt = tensor(data["tgt"], "tgt")
    B, T = tgt.shape
    calls, tokens = _calls(data, T, "Seq2Seq.forward(src, tgt, 0.0)")
    expect(tokens[0].shape == (B,) and bool(np.all(tokens[0] == data["sos"])),
           f"Step 0's decoder input should be sos_index = {data['sos']}; yours is {_token_text(tokens[0])}.")
    for t in range(1, T):
        want = tensor(calls[t - 1]["logits"], "logits").argmax(axis=-1)
        tok = tokens[t]
        if tok.shape == (B,) and np.array_equal(tok, want):
            continue
        if tok.shape == (B,) and np.array_equal(tok, tgt[:, t - 1]):
            expect(False, f"With teacher_forcing_ratio=0.0, step {t}'s decoder input should be the argmax of step "
                          f"{t - 1}'s logits; yours fed the target tgt[:, {t - 1}] (ratio 0.0 must never force).")
        expect(False, f"With teacher_forcing_ratio=0.0, step {t}'s decoder input should be the argmax of step "
                      f"{t - 1}'s logits, {_token_text(want)}; yours is {_token_text(tok)}.")
    _check_chain(data, T, "Seq2Seq.forward(src, tgt, 0.0)")
    _check_logits(data, "out", B, T, 11, "Seq2Seq.forward(src, tgt, 0.0)")


def test_seq2seq_one_draw_per_step(probes):
    data = result(probes, "seq2seq_mixed")
    forced_steps = free_steps = 0
    for run in data["runs"]:
        tgt = tensor(run["tgt"], "tgt")
        B, T = tgt.shape
        calls, tokens = _calls(run, T, "Seq2Seq.forward(src, tgt, 0.5)")
        for t in range(1, T):
            tok = tokens[t]
            prev = tensor(calls[t - 1]["pred"], "the decoder's prediction")
            expect(tok.shape == (B,), f"The decoder input at each step should be a LongTensor of shape ({B},).")
            forced, free = tok == tgt[:, t - 1], tok == prev
            expect(bool(np.all(forced | free)),
                   f"With teacher_forcing_ratio=0.5, every decoder input at step {t} should be either tgt[:, {t - 1}] "
                   f"or the argmax of step {t - 1}'s logits; yours is neither for some sequences.")
            expect(bool(np.all(forced)) or bool(np.all(free)),
                   f"With teacher_forcing_ratio=0.5, step {t} forced some sequences of the batch and not others: "
                   f"draw one coin flip per step for the whole batch (e.g. torch.rand(1).item() < ratio), not one per "
                   f"sequence.")
            forced_steps += bool(np.all(forced))
            free_steps += bool(np.all(free))
    expect(forced_steps > 0 and free_steps > 0,
           f"With teacher_forcing_ratio=0.5 over {forced_steps + free_steps} decoding steps, yours "
           f"{'always' if free_steps == 0 else 'never'} fed the target: each step should force with probability 0.5.")


def test_seq2seq_generate(probes):
    data = result(probes, "seq2seq_generate")
    B, L = data["B"], data["max_len"]
    gen = _shaped(data["generated"], (B, L), "The output of Seq2Seq.generate(src, max_len=9)")
    expect(tensor_dtype(data["generated"]) == "int64",
           f"Seq2Seq.generate should return a LongTensor (int64) of token indices; yours has dtype {tensor_dtype(data['generated'])}.")
    calls, tokens = _calls(data, L, "Seq2Seq.generate(src, max_len=9)")
    expect(tokens[0].shape == (B,) and bool(np.all(tokens[0] == data["sos"])),
           f"generate's first decoder input should be sos_index = {data['sos']}; yours is {_token_text(tokens[0])}.")
    _check_chain(data, L, "Seq2Seq.generate")
    path = np.stack([tensor(c["logits"], "logits").argmax(axis=-1) for c in calls], axis=1)
    for t in range(1, L):
        expect(tokens[t].shape == (B,) and np.array_equal(tokens[t], path[:, t - 1]),
               f"generate should feed back its own prediction: step {t}'s decoder input should be the argmax of step "
               f"{t - 1}'s logits, {_token_text(path[:, t - 1])}; yours is {_token_text(tokens[t])}.")
    expect(np.array_equal(gen, path),
           "generate should return the argmax token of every step (greedy decoding); yours returns different tokens.")
    free = tensor(data["free_logits"], "The logits from Seq2Seq.forward(src, tgt, 0.0)")
    expect(free.shape[:2] == (B, L) and np.array_equal(free.argmax(axis=-1), gen),
           "generate(src, max_len) should equal forward(src, tgt, 0.0) taken by argmax; yours differs.")
    _shaped(data["short"], (B, 3), "The output of Seq2Seq.generate(src, max_len=3)")


def test_seq2seq_meta_device(probes):
    data = _meta_result(probes, "seq2seq_meta")
    mt = meta_tensor(data["generated"], "The output of Seq2Seq.generate")
    expect(mt.shape == (3, 4) and mt.dtype == "int64",
           f"Seq2Seq.generate(src, 4) on the meta device should return an int64 tensor (3, 4); yours is {mt.dtype} {shape_text(mt.shape)}.")
    if "forward_error" in data:
        err = data["forward_error"]
        expect(any(m in err for m in META_ONLY),
               f"Seq2Seq.forward(src, tgt, 1.0) failed on the meta device (a stand-in for a GPU) with {err!r}. Create new "
               f"tensors (e.g. the sos tokens) on src.device, never on the CPU by default.")
    else:
        _meta(data["forward"], (3, 4, 11), "The logits from Seq2Seq.forward")
