OK_FORMAT = False

from otter.test_files import test_case

name = "w11_lstm_cell"
points = None


def _build(LSTMCell, *args, **kwargs):
    if LSTMCell is None:
        raise AssertionError("LSTMCell is not defined: run the cell with `class LSTMCell` first.")
    try:
        return LSTMCell(*args, **kwargs)
    except NotImplementedError:
        raise AssertionError(
            "LSTMCell(input_size, hidden_size, ...) still raises NotImplementedError: "
            "replace `raise NotImplementedError()` in __init__ with your code."
        ) from None
    except TypeError as exc:
        raise AssertionError(
            f"LSTMCell{args} with {kwargs or 'no keywords'} failed with TypeError ({exc}): the signature must be "
            "LSTMCell(input_size, hidden_size, forget_bias=1.0, ablate=None)."
        ) from None


def _call(what, fn, *args):
    try:
        return fn(*args)
    except NotImplementedError:
        raise AssertionError(f"LSTMCell.{what} still raises NotImplementedError.") from None


@test_case(points=None, hidden=False)
def test_construct_and_initial_state(LSTMCell):
    import torch
    import torch.nn as nn

    cell = _build(LSTMCell, 5, 7)
    assert isinstance(cell, nn.Module), f"LSTMCell should be an nn.Module; got {type(cell).__name__}."
    assert getattr(cell, "hidden_size", None) == 7, (
        f"LSTMCell(5, 7).hidden_size should be 7; got {getattr(cell, 'hidden_size', 'no attribute hidden_size')}."
    )
    assert sum(p.numel() for p in cell.parameters()) > 0, "LSTMCell has no parameters."
    for kwargs in ({"forget_bias": 3.0}, {"ablate": "forget"}, {"forget_bias": 0.0, "ablate": "input"}):
        _build(LSTMCell, 5, 7, **kwargs)
    state = _call("initial_state", cell.initial_state, 3)
    assert isinstance(state, tuple) and len(state) == 2, (
        f"initial_state(3) should return the tuple (h, c); got {type(state).__name__}"
        + (f" of length {len(state)}" if isinstance(state, (tuple, list)) else "") + "."
    )
    for part, tensor in zip(("h", "c"), state):
        assert isinstance(tensor, torch.Tensor) and tuple(tensor.shape) == (3, 7), (
            f"initial_state(3): {part} should be a tensor of shape (3, 7) = (B, H); got "
            f"{tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__}."
        )
        assert bool((tensor == 0).all()), f"initial_state(3): {part} should be all zeros."
    state_cpu = _call("initial_state", cell.initial_state, 3, torch.device("cpu"))
    assert isinstance(state_cpu, tuple) and len(state_cpu) == 2, "initial_state(3, device) should also return (h, c)."


@test_case(points=None, hidden=False)
def test_gates_and_forward(LSTMCell):
    import torch

    torch.manual_seed(0)
    cell = _build(LSTMCell, 5, 7)
    x_t = torch.randn(3, 5)
    state = (torch.randn(3, 7), torch.randn(3, 7))
    gates = _call("gates", cell.gates, x_t, state)
    assert isinstance(gates, dict), f"gates(x_t, (h, c)) should return a dict; got {type(gates).__name__}."
    expected = {"input", "forget", "cell", "output"}
    assert set(gates) == expected, f"gates() should have exactly the keys {sorted(expected)}; got {sorted(gates)}."
    for key, value in gates.items():
        assert isinstance(value, torch.Tensor) and tuple(value.shape) == (3, 7), (
            f"gates()['{key}'] should be a tensor of shape (3, 7) = (B, H); got "
            f"{tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__}."
        )
    for key in ("input", "forget", "output"):
        assert bool(((gates[key] >= 0) & (gates[key] <= 1)).all()), (
            f"gates()['{key}'] should be a sigmoid output, in [0, 1]: return the values after the activation."
        )
    assert bool((gates["cell"].abs() <= 1).all()), (
        "gates()['cell'] (the candidate) should be a tanh output, in [-1, 1]: return the value after the activation."
    )
    out = _call("forward", cell, x_t, state)
    assert isinstance(out, tuple) and len(out) == 2, (
        f"forward(x_t, (h, c)) should return the tuple (h_t, c_t); got {type(out).__name__}."
    )
    for part, tensor in zip(("h_t", "c_t"), out):
        assert isinstance(tensor, torch.Tensor) and tuple(tensor.shape) == (3, 7), (
            f"forward: {part} should have shape (3, 7) = (B, H); got "
            f"{tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__}."
        )
        assert tensor.dtype == torch.float32, f"forward: {part} should be float32; got {tensor.dtype}."


@test_case(points=None, hidden=False)
def test_ablate_reports_ones(LSTMCell):
    import torch

    x_t = torch.randn(2, 5)
    state = (torch.randn(2, 4), torch.randn(2, 4))
    for gate in ("input", "forget", "output"):
        cell = _build(LSTMCell, 5, 4, ablate=gate)
        gates = _call("gates", cell.gates, x_t, state)
        value = gates.get(gate) if isinstance(gates, dict) else None
        assert isinstance(value, torch.Tensor) and tuple(value.shape) == (2, 4) and bool((value == 1).all()), (
            f"with ablate='{gate}', gates()['{gate}'] should be a (B, H) tensor of ones (the gate is fixed open)."
        )
