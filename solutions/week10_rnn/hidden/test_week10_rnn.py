"""Hidden checks for Week 10 (``week10_rnn``): decide from probe data, references computed here.

Every check is independent of the student's parameter layout and initialisation:
equations are verified by least-squares fits on many random inputs, and the
classifier, gradient-norm and training checks drive probe-made toy cells and
toy models (see probes.py) whose behaviour is recomputed in reference.py.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from autograder.scoring.checks import (
    affine_fit, describe, expect, fmt, max_abs_diff, meta_tensor, number, result, shape_text, sibling, tensor,
)


ref = sibling(__file__, "reference")


def _shape_is(value, shape: tuple[int, ...], what: str, call: str) -> np.ndarray:
    arr = tensor(value, what)
    expect(arr.shape == shape, f"{call} should return a tensor of shape {shape_text(shape)}; yours has shape {shape_text(arr.shape)}.")
    return arr


def _finite(arr: np.ndarray, what: str) -> None:
    expect(bool(np.all(np.isfinite(arr))), f"{what} contains NaN or inf values.")


# =========================================================================== w10_rnn_cell

def test_rnn_cell_shape(probes):
    data = result(probes, "rnn_cell_basic")
    out = tensor(data["out"], "The output of RNNCell.forward")
    expect(out.shape == (4, 7), f"RNNCell(5, 7) on x of shape (4, 5) and h_prev of shape (4, 7) should return a hidden state of shape (4, 7); yours returns {shape_text(out.shape)}.")
    _finite(out, "The output of RNNCell(5, 7)")


def test_rnn_cell_initial_state(probes):
    data = result(probes, "rnn_cell_initial_state")
    for key, call, shape in (("default", "initial_state(3)", (3, 7)),
                             ("cpu_string", "initial_state(2, device='cpu')", (2, 7)),
                             ("cpu_device", "initial_state(1, device=torch.device('cpu'))", (1, 7))):
        state = _shape_is(data[key], shape, "The initial state", f"RNNCell(5, 7).{call}")
        expect(bool(np.all(state == 0)), f"RNNCell(5, 7).{call} should be all zeros (the zero state); yours has values up to {fmt(np.abs(state).max())}.")
        dtype = data[key]["__tensor__"]["dtype"]
        expect(dtype == "float32", f"RNNCell(5, 7).{call} should be a float32 tensor (like the parameters); yours is {dtype}.")
    basic = result(probes, "rnn_cell_basic")
    hidden_size = basic["hidden_size"]
    expect(type(hidden_size) is int and hidden_size == 7,
           f"RNNCell(5, 7).hidden_size should be the integer 7; yours is {describe(hidden_size)}.")


def test_rnn_cell_tanh_range(probes):
    data = result(probes, "rnn_cell_equation")
    out = tensor(data["out"], "The output of RNNCell.forward")
    expect(out.shape == (64, 4), f"RNNCell(3, 4) on a batch of 64 should return shape (64, 4); yours returns {shape_text(out.shape)}.")
    _finite(out, "The output of RNNCell(3, 4)")
    lo, hi = float(out.min()), float(out.max())
    expect(-1.0 <= lo and hi <= 1.0, f"RNNCell's output is tanh of an affine map, so every value should lie in (-1, 1); on random inputs yours ranges from {fmt(lo)} to {fmt(hi)}.")
    expect(lo < 0.0 < hi, f"RNNCell's output is tanh of an affine map, so on random inputs it should take both negative and positive values; yours ranges from {fmt(lo)} to {fmt(hi)} (check the activation: tanh, not sigmoid or ReLU).")


def test_rnn_cell_uses_h_prev(probes):
    data = result(probes, "rnn_cell_basic")
    out = tensor(data["out"], "The output of RNNCell.forward")
    other = tensor(data["out_other_h"], "The output of RNNCell.forward")
    expect(out.shape == other.shape, "RNNCell should return the same shape for any h_prev of shape (B, H).")
    expect(max_abs_diff(out, other) > 1e-6, "RNNCell's output should depend on h_prev (the W_hh h_prev term): with the same x_t and a different h_prev, yours returns exactly the same hidden state.")


def test_rnn_cell_equation(probes):
    data = result(probes, "rnn_cell_equation")
    x, h = tensor(data["x"], "x"), tensor(data["h"], "h")
    inputs = np.concatenate([x, h], axis=1)
    for key in ("out", "out_small"):
        out = tensor(data[key], "The output of RNNCell.forward")
        expect(out.shape == (64, 4), f"RNNCell(3, 4) on a batch of 64 should return shape (64, 4); yours returns {shape_text(out.shape)}.")
        _finite(out, "The output of RNNCell(3, 4)")
        expect(bool(np.all(np.abs(out) <= 1.0)), "RNNCell's output should be tanh(W_xh x_t + W_hh h_prev + b), between -1 and 1; some of yours are not.")
        usable = np.all(np.abs(out) < 0.999, axis=1)
        if usable.sum() >= 2 * (inputs.shape[1] + 1):
            break
    coef, _ = affine_fit(inputs[usable], np.arctanh(out[usable]))
    fitted = np.tanh(np.concatenate([inputs, np.ones((len(inputs), 1))], axis=1) @ coef)
    err = max_abs_diff(fitted, out)
    expect(err < 1e-4, f"RNNCell should compute h_t = tanh(W_xh x_t + W_hh h_prev + b): on 64 random (x_t, h_prev) pairs, no choice of W_xh, W_hh and b reproduces your outputs (they differ by up to {fmt(err)} from the best such fit). Check the activation and that x_t and h_prev enter only through one affine map inside tanh.")


def test_rnn_cell_bias(probes):
    data = result(probes, "rnn_cell_parameters")
    expect(data["zero_out_requires_grad"] is True and float(data["zero_input_grad"]) > 0.0,
           "RNNCell should have a trainable bias b: with x_t = 0 and h_prev = 0 the output is tanh(b), but your output does not depend on any trainable parameter there.")


def test_rnn_cell_parameters(probes):
    data = result(probes, "rnn_cell_parameters")
    count = data["count"]
    expected = (5 * 7 + 7 * 7 + 7, 5 * 7 + 7 * 7 + 2 * 7)
    expect(count in expected, f"RNNCell(5, 7) should have trainable parameters W_xh (7 x 5), W_hh (7 x 7) and a bias (7): {expected[0]} numbers, or {expected[1]} with two bias vectors; yours has {count}. Register weights as nn.Parameter or nn.Linear so that they train.")
    out, again = tensor(data["out"], "The output of RNNCell.forward"), tensor(data["again"], "The output of RNNCell.forward")
    expect(out.shape == again.shape and max_abs_diff(out, again) < 1e-6, "Calling the same RNNCell twice on the same x_t and h_prev should give the same output; yours differs between calls (create the weights once, in __init__, not in forward).")
    expect(float(data["grad_norm"]) > 0.0, "Back-propagating through RNNCell should give its parameters gradients; yours received none (is the forward pass detached or run under torch.no_grad?).")


def test_rnn_cell_meta_forward(probes):
    data = result(probes, "rnn_cell_meta_forward")
    out = meta_tensor(data["out"], "RNNCell.forward's output")
    expect(out.shape == (2, 7), f"RNNCell(5, 7) on the 'meta' device should return shape (2, 7); yours returns {shape_text(out.shape)}.")


def test_rnn_cell_meta_initial_state(probes):
    data = result(probes, "rnn_cell_meta_initial_state")
    h0 = meta_tensor(data["h0"], "initial_state(2, device='meta')")
    expect(h0.shape == (2, 7), f"RNNCell(5, 7).initial_state(2, device='meta') should have shape (2, 7); yours has {shape_text(h0.shape)}.")


# =========================================================================== w10_classifier

def _classifier_data(probes, name: str, B: int, T: int, H: int, C: int, replay) -> dict:
    data = dict(result(probes, name))
    expect(data["hidden_is_list"] is True, f"RecurrentClassifier.forward should return (logits, hidden_states) with hidden_states a Python list of T tensors; yours returns {describe(data['hidden_states'])} as hidden_states.")
    logits = tensor(data["logits"], "The logits")
    expect(logits.shape == (B, C), f"RecurrentClassifier(cell, {C}) on x of shape ({B}, {T}, D) should return logits of shape ({B}, {C}); yours has shape {shape_text(logits.shape)}.")
    states = data["hidden_states"]
    expect(len(states) == T, f"On a sequence of {T} steps, hidden_states should hold {T} tensors (h_1 .. h_{T}, not h_0); yours holds {len(states)}.")
    states = [tensor(s, f"hidden_states[{t}]") for t, s in enumerate(states)]
    for t, s in enumerate(states):
        expect(s.shape == (B, H), f"hidden_states[{t}] should have shape ({B}, {H}) (batch, hidden_size); yours has {shape_text(s.shape)}.")
    x = ref.as_torch(data["x"], "x")
    data["_replay"] = [r.numpy() for r in replay(ref.weights(data["weights"], tuple(data["weights"])), x)]
    data["_logits"], data["_states"] = logits, states
    return data


def _sine(probes):
    return _classifier_data(probes, "classifier_sine_cell", 24, 5, 4, 3, ref.sine_cell_replay)


def _check_states(data, T: int) -> None:
    replay, states = data["_replay"], data["_states"]
    err0 = max_abs_diff(states[0], replay[0])
    expect(err0 < 1e-4, f"hidden_states[0] should be cell(x[:, 0], state) with the state from cell.initial_state(B) (zeros); yours differs from that by up to {fmt(err0)}. Start from the zero state, and store the state after each step (not h_0).")
    for t in range(1, T):
        err = max_abs_diff(states[t], replay[t])
        expect(err < 1e-4, f"hidden_states[{t}] should be the cell applied to x[:, {t}] and the previous state (with the cell's current weights); yours differs from that by up to {fmt(err)}.")


def _check_logits_affine(data, C: int) -> None:
    logits, last = data["_logits"], data["_replay"][-1]
    coef, residual = affine_fit(last, logits)
    err = float(np.abs(residual).max())
    expect(err < 1e-4, f"The logits should come from the last hidden state h_T only, through a linear head: on 24 random sequences yours are not a linear function of h_T (off by up to {fmt(err)} from the best fit). Do not use the mean of the states, h_1, or anything but h_T.")
    expect(float(np.abs(coef[:-1]).max()) > 1e-6, "The logits should depend on the last hidden state h_T (a linear head applied to h_T); yours do not change with h_T.")


def test_classifier_shapes(probes):
    data = _sine(probes)
    expect(data["longer_steps"] == 8, f"On a sequence of 8 steps, hidden_states should hold 8 tensors; yours holds {data['longer_steps']}. Loop over x.shape[1], not a fixed length.")


def test_classifier_states_follow_the_cell(probes):
    _check_states(_sine(probes), 5)


def test_classifier_logits_from_last_state(probes):
    data = _sine(probes)
    _check_logits_affine(data, 3)
    again = tensor(data["logits_again"], "The logits")
    expect(max_abs_diff(again, data["_logits"]) < 1e-6, "Calling RecurrentClassifier twice on the same input should give the same logits; yours differ (create the head once, in __init__, not in forward).")


def test_classifier_states_attached_to_graph(probes):
    data = _sine(probes)
    for t, flag in enumerate(data["requires_grad"]):
        expect(flag, f"hidden_states[{t}] should still be attached to the autograd graph (requires_grad=True) so that dL/dh_t can be computed; yours is detached.")
    for t, g in enumerate(data["grad_h"]):
        expect(g is not None, f"The logits should depend on hidden_states[{t}] through the autograd graph (back-propagation through time), but yours do not: is the state detached between steps, or is a copy stored?")
        expect(float(np.abs(tensor(g, "a gradient")).max()) > 0.0, f"The gradient of the logits with respect to hidden_states[{t}] is zero: the state should flow from step to step through the graph.")
    grad_x = data["grad_x"]
    expect(grad_x is not None and float(np.abs(tensor(grad_x, "a gradient")[:, 0]).max()) > 0.0,
           "The logits should depend on the first input step x[:, 0] through the chain of states; yours do not.")


def test_classifier_weight_sharing(probes):
    data = _sine(probes)
    T, H, C = 5, 4, 3
    expect(data["calls"] == T, f"The classifier should apply the cell it was given once per step ({T} calls for {T} steps); it called that cell {data['calls']} times. Use self.cell at every step (the same weights), not copies.")
    expect(data["has_cell_params"] is True, "RecurrentClassifier's parameters should include the cell's parameters (store the cell as an attribute, e.g. self.cell = cell).")
    expect(data["count_before"] == data["count_after"], f"RecurrentClassifier's parameter count should not depend on the sequence length: it had {data['count_before']} parameters before and {data['count_after']} after running sequences of 5 and 8 steps. The same cell is shared by all steps.")
    head = data["count_before"] - data["cell_count"]
    expect(head in (H * C + C, H * C), f"RecurrentClassifier should hold the cell's {data['cell_count']} parameters once plus a linear head hidden_size -> num_classes ({H * C + C} parameters with its bias); yours holds {data['count_before']} in total. Weights are shared across time steps, not copied per step.")


def test_classifier_tuple_state(probes):
    data = _classifier_data(probes, "classifier_pair_cell", 20, 4, 3, 2, ref.pair_cell_replay)
    replay, states = data["_replay"], data["_states"]
    for t in range(4):
        err = max_abs_diff(states[t], replay[t])
        expect(err < 1e-4, f"With a cell whose state is a tuple (h, c), like an LSTM's, hidden_states[{t}] should be the h part of the state after step {t + 1} (starting from cell.initial_state(B)); yours differs from that by up to {fmt(err)}.")
    logits, last = data["_logits"], replay[-1]
    _, residual = affine_fit(last, logits)
    err = float(np.abs(residual).max())
    expect(err < 1e-4, f"With a cell whose state is a tuple (h, c), the logits should come from the h part of the last state through the linear head; yours are off by up to {fmt(err)}.")


def test_classifier_meta_device(probes):
    data = result(probes, "classifier_meta")
    logits = meta_tensor(data["logits"], "RecurrentClassifier's logits")
    last = meta_tensor(data["last"], "RecurrentClassifier's hidden states")
    expect(logits.shape == (2, 2) and last.shape == (2, 4) and data["steps"] == 5,
           f"RecurrentClassifier on the 'meta' device with x of shape (2, 5, 3) should return logits (2, 2) and 5 hidden states of shape (2, 4); yours returns logits {shape_text(logits.shape)} and {data['steps']} states of shape {shape_text(last.shape)}.")


# =========================================================================== w10_grad_norms

def test_grad_norms_shape(probes):
    data = result(probes, "grad_norms")
    for key, T in (("norms", 7), ("short_norms", 3)):
        norms = tensor(data[key], "The result of hidden_grad_norms")
        expect(norms.shape == (T,), f"hidden_grad_norms on a sequence of {T} steps should return a tensor of shape ({T},), one norm per step; yours has shape {shape_text(norms.shape)}.")


def test_grad_norms_values(probes):
    data = result(probes, "grad_norms")
    w = ref.weights(data["weights"], ref.TOY_NAMES)
    for xk, yk, nk in (("x", "y", "norms"), ("short_x", "short_y", "short_norms")):
        x, y = ref.as_torch(data[xk], "x"), ref.as_torch(data[yk], "y")
        expected = ref.hidden_grad_norms(w, x, y)
        got = tensor(data[nk], "The result of hidden_grad_norms")
        T = len(expected)
        expect(got.shape == (T,), f"hidden_grad_norms on a sequence of {T} steps should return shape ({T},); yours has shape {shape_text(got.shape)}.")
        _finite(got, "The result of hidden_grad_norms")
        if not np.allclose(got, expected, rtol=1e-3, atol=1e-7):
            hint = ""
            if np.allclose(got[::-1], expected, rtol=1e-3, atol=1e-7):
                hint = " Yours are in reverse order: entry t should belong to step t + 1 (t = 1..T)."
            elif np.allclose(got, expected * len(y), rtol=1e-3, atol=1e-7):
                hint = " Yours are larger by the batch size: use the mean cross-entropy (F.cross_entropy's default)."
            elif np.allclose(got, expected ** 2, rtol=1e-3, atol=1e-7):
                hint = " Yours look squared: return the L2 norm, not its square."
            expect(False, f"hidden_grad_norms should return ||dL/dh_t|| (the L2 norm over batch and hidden dimensions of the gradient of the mean cross-entropy with respect to each hidden state); on a toy model with {T} steps the expected norms are {[fmt(v) for v in expected]} and yours are {[fmt(v) for v in got]}.{hint}")


def test_grad_norms_leave_parameter_grads(probes):
    data = result(probes, "grad_norms_param_grads")
    for name, g in data["after_none"].items():
        expect(g is None or float(np.abs(tensor(g, "a parameter gradient")).max()) == 0.0,
               "hidden_grad_norms should leave the model's parameter gradients untouched (or zeroed): after calling it on a fresh model, the parameters hold non-zero .grad values.")
    for name, g in data["after"].items():
        before = tensor(data["before"][name], "a parameter gradient")
        if g is None:
            continue
        after = tensor(g, "a parameter gradient")
        ok = after.shape == before.shape and (max_abs_diff(after, before) < 1e-7 or float(np.abs(after).max()) == 0.0)
        expect(ok, "hidden_grad_norms should leave the model's parameter .grad untouched (or zeroed afterwards): gradients that were already there changed (use torch.autograd.grad, or zero the gradients after calling backward).")


# =========================================================================== w10_clip

def _clip_case(probes, name: str):
    data = result(probes, name)
    before = [None if g is None else tensor(g, "a gradient") for g in data["before"]]
    total, expected = ref.clipped(before, float(data["max_norm"]))
    after = data["after"]
    expect(isinstance(after, list) and len(after) == len(before), "clip_grad_norm should keep every parameter.")
    return data, before, total, expected


def _check_returned(data, total: float, call: str) -> None:
    got = number(data["returned"])
    expect(got is not None, f"{call} should return the total gradient norm as a float or a 0-d tensor; yours returns {describe(data['returned'])}.")
    expect(math.isclose(got, total, rel_tol=1e-4, abs_tol=1e-6), f"{call} should return the total L2 norm of all gradients before clipping, {fmt(total, 4)}; yours returns {fmt(got, 4)}.")


def _check_grads(data, expected, call: str, what: str) -> None:
    for i, (g, e) in enumerate(zip(data["after"], expected)):
        if e is None:
            expect(g is None, f"{call}: a parameter whose grad is None should be skipped and keep grad None; yours gave it a gradient.")
            continue
        expect(g is not None, f"{call}: every parameter's gradient should stay in p.grad; yours left a parameter with grad None.")
        got = tensor(g, "a clipped gradient")
        expect(got.shape == e.shape and np.allclose(got, e, rtol=1e-4, atol=1e-7), f"{call}: {what}")


def test_clip_returns_total_norm(probes):
    for name, call in (("clip_above", "clip_grad_norm(params, 0.5)"), ("clip_below", "clip_grad_norm(params, 100.0)")):
        data, before, total, _ = _clip_case(probes, name)
        _check_returned(data, total, call)


def test_clip_scales_large_gradients(probes):
    data, before, total, expected = _clip_case(probes, "clip_above")
    _check_grads(data, expected, "clip_grad_norm(params, 0.5)",
                 f"the gradients' total norm is {fmt(total)}, above max_norm, so every p.grad should end up multiplied by the same factor max_norm / (total + 1e-6) = {fmt(0.5 / (total + 1e-6), 4)} (global-norm clipping); yours do not (scale all gradients by one global factor, in place, e.g. p.grad.mul_(factor)).")


def test_clip_leaves_small_gradients(probes):
    data, before, total, expected = _clip_case(probes, "clip_below")
    _check_grads(data, expected, "clip_grad_norm(params, 100.0)",
                 f"the gradients' total norm is {fmt(total)}, below max_norm, so the gradients should be left unchanged; yours changed them (only clip when the total norm exceeds max_norm).")


def test_clip_accepts_a_generator(probes):
    data, before, total, expected = _clip_case(probes, "clip_generator")
    call = "clip_grad_norm(model.parameters(), 0.5) (a generator, which can be iterated only once)"
    _check_returned(data, total, call)
    _check_grads(data, expected, call, "the gradients should be scaled exactly as with a list; yours are not (turn the generator into a list first).")


def test_clip_skips_missing_gradients(probes):
    data, before, total, expected = _clip_case(probes, "clip_grad_none")
    call = "clip_grad_norm on parameters where one has grad None"
    _check_returned(data, total, call)
    _check_grads(data, expected, call, "the other gradients should be clipped as usual; yours are not.")


def test_clip_written_by_hand(probes):
    data = result(probes, "clip_by_hand")
    expect(not data["called"], "clip_grad_norm should be written by hand: yours uses torch.nn.utils.clip_grad_norm_ (compute the total norm and scale the gradients yourself).")


# =========================================================================== w10_train

def _train(probes):
    data = result(probes, "train_run")
    run = dict(data["first"])
    history = run["history"]
    expect(isinstance(history, dict) and "loss" in history and "accuracy" in history,
           f"train_classifier should return a dict with keys 'loss' and 'accuracy'; yours returns {describe(history)}"
           + (f" with keys {sorted(history)}." if isinstance(history, dict) else "."))
    for key in ("loss", "accuracy"):
        values = history[key]
        expect(isinstance(values, list) and len(values) == run["epochs"],
               f"train_classifier(..., epochs=3) should return history['{key}'] as a list with one entry per epoch (3); yours is {describe(values)}.")
        nums = [number(v) for v in values]
        expect(all(v is not None and math.isfinite(v) for v in nums), f"history['{key}'] should hold one finite number (a float) per epoch; yours holds something else, or NaN.")
        run[key] = nums
    run["history"] = {"loss": run["loss"], "accuracy": run["accuracy"]}
    return data, run


def _epochs(data, run):
    """Split the recorded training batches into epochs (each must cover the data set once)."""
    n, bs, epochs = len(data["y"]["__tensor__"]["data"]), run["batch_size"], run["epochs"]
    per_epoch = math.ceil(n / bs)
    rows = run["rows"]
    expect(len(rows) == epochs * per_epoch, f"With 96 sequences, batch_size=32 and 3 epochs, train_classifier should take {epochs * per_epoch} optimisation steps on minibatches ({per_epoch} per epoch); yours took {len(rows)}.")
    return [rows[e * per_epoch:(e + 1) * per_epoch] for e in range(epochs)], n, bs


def test_train_history(probes):
    data, run = _train(probes)
    acc = run["history"]["accuracy"]
    expect(all(0.0 <= a <= 1.0 for a in acc), f"history['accuracy'] should be fractions in [0, 1]; yours are {[fmt(a) for a in acc]} (a percentage?).")


def test_train_minibatches(probes):
    data, run = _train(probes)
    epochs, n, bs = _epochs(data, run)
    for e, batches in enumerate(epochs):
        sizes = [len(b) for b in batches]
        expect(all(s == bs for s in sizes), f"With batch_size=32 and 96 sequences every minibatch should hold 32 sequences; yours hold {sizes} in epoch {e + 1}.")
        seen = sorted(i for b in batches for i in b)
        expect(seen == list(range(n)), f"Each epoch should use every training sequence exactly once; in epoch {e + 1} yours did not.")


def test_train_shuffles(probes):
    data, run = _train(probes)
    epochs, n, bs = _epochs(data, run)
    order = [i for b in epochs[0] for i in b]
    expect(order != list(range(n)), "train_classifier should shuffle the minibatches; yours visits the sequences in their original order.")


def test_train_seed_fixes_the_order(probes):
    data, run = _train(probes)
    again, other = data["again"], data["other_seed"]
    expect(again["rows"] == run["rows"], "Two calls of train_classifier with the same seed (and the same initial model) should visit the minibatches in the same order; yours did not (draw the order from a generator seeded with `seed`, e.g. torch.Generator().manual_seed(seed)).")
    history = again["history"]
    losses = [number(v) for v in history["loss"]] if isinstance(history, dict) and isinstance(history.get("loss"), list) else None
    expect(losses == run["history"]["loss"], "Two calls of train_classifier with the same seed (and the same initial model) should give the same losses; yours differ.")
    expect(other["rows"] != run["rows"], "train_classifier with a different seed should shuffle differently; yours visits the minibatches in the same order for seeds 7 and 8 (use the `seed` argument).")


def test_train_loss_is_mean_batch_loss(probes):
    data, run = _train(probes)
    epochs, n, bs = _epochs(data, run)
    y = tensor(data["y"], "y").astype(int)
    logits = run["logits"]
    k = 0
    for e, batches in enumerate(epochs):
        losses = []
        for rows in batches:
            losses.append(ref.cross_entropy(tensor(logits[k], "logits"), y[np.asarray(rows)]))
            k += 1
        expected, got = float(np.mean(losses)), run["history"]["loss"][e]
        expect(math.isclose(got, expected, rel_tol=1e-4, abs_tol=1e-6), f"history['loss'][{e}] should be the mean cross-entropy over the minibatches of epoch {e + 1}, {fmt(expected, 4)}; yours is {fmt(got, 4)} (the last minibatch's loss? a sum?).")


def test_train_accuracy_after_epoch(probes):
    data, run = _train(probes)
    epochs, n, bs = _epochs(data, run)
    x, y = ref.as_torch(data["x"], "x"), ref.as_torch(data["y"], "y")
    initial = ref.weights(run["initial"], ref.TOY_NAMES)
    per_epoch = len(epochs[0])
    for e in range(len(epochs)):
        if e + 1 < len(epochs):
            w = ref.toy_unflatten(tensor(run["params"][(e + 1) * per_epoch], "parameters"), initial)
        else:
            w = ref.weights(run["final"], ref.TOY_NAMES)
        expected, got = ref.toy_accuracy(w, x, y), run["history"]["accuracy"][e]
        expect(abs(got - expected) <= 1.5 / n, f"history['accuracy'][{e}] should be the accuracy on the training set measured after epoch {e + 1} (a fraction in [0, 1]): {fmt(expected)} for the model at that point; yours is {fmt(got)}.")


def test_train_uses_adam(probes):
    data, run = _train(probes)
    expect(len(run["params"]) >= 2, "train_classifier should take at least two optimisation steps here.")
    p0, p1 = tensor(run["params"][0], "parameters"), tensor(run["params"][1], "parameters")
    start = ref.toy_flatten(ref.weights(run["initial"], ref.TOY_NAMES))
    expect(max_abs_diff(p0, start) < 1e-7, "train_classifier should not change the model's parameters before its first minibatch.")
    ratio = float(np.median(np.abs(p1 - p0))) / run["lr"]
    expect(0.9 <= ratio <= 1.1, f"train_classifier should use Adam with the given learning rate: Adam's first step moves every parameter by about lr = {run['lr']}; yours moved them by a typical {fmt(ratio * run['lr'], 4)}.")


def test_train_lowers_the_loss(probes):
    data, run = _train(probes)
    loss = run["history"]["loss"]
    expect(loss[-1] < loss[0], f"A short training run on an easy toy problem should lower the loss; yours went from {fmt(loss[0])} in epoch 1 to {fmt(loss[-1])} in epoch 3.")


def test_train_applies_clipping(probes):
    data = result(probes, "train_clip")
    calls, steps = data["clip_calls"], len(data["rows"])
    expect(len(calls) == steps and steps > 0, f"train_classifier(..., clip=0.05) should call clip_grad_norm(model.parameters(), 0.05) once per optimisation step ({steps} steps); yours called it {len(calls)} times.")
    for c in calls:
        expect(math.isclose(c["max_norm"], 0.05), f"train_classifier(..., clip=0.05) should clip at max_norm 0.05; yours used {fmt(c['max_norm'])}.")
        expect(c["n_with_grad"] == 4 and c["grad_norm"] > 0.0, "train_classifier should clip after loss.backward() and before optimizer.step(), on all the model's parameters; when yours clipped, the gradients were missing or zero.")
    start = ref.toy_flatten(ref.weights(data["initial"], ref.TOY_NAMES))
    expect(max_abs_diff(tensor(calls[0]["params"], "parameters"), start) < 1e-7, "train_classifier should clip before optimizer.step(): yours clipped after the parameters had already been updated.")


def test_train_steps_are_adam_on_each_minibatch(probes):
    data, run = _train(probes)
    epochs, n, bs = _epochs(data, run)
    x, y = ref.as_torch(data["x"], "x"), ref.as_torch(data["y"], "y")
    like = ref.weights(run["initial"], ref.TOY_NAMES)
    snapshots = [tensor(p, "parameters") for p in run["params"]]
    final = ref.toy_flatten(ref.weights(run["final"], ref.TOY_NAMES))
    errors = ref.adam_step_errors(snapshots, run["rows"], final, like, x, y, run["lr"])
    for k, err in enumerate(errors):
        expect(float(err.max()) < 0.05, f"Every optimisation step of train_classifier should be one Adam step (one optimizer for the whole run) on the gradient of the mean cross-entropy of that minibatch alone; step {k + 1} of yours is not (forgotten optimizer.zero_grad()? an optimizer re-created during training?).")
