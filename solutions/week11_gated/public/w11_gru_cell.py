OK_FORMAT = False

from otter.test_files import test_case

name = "w11_gru_cell"
points = None


def _build(GRUCell, input_size, hidden_size):
    if GRUCell is None:
        raise AssertionError("GRUCell is not defined: run the cell with `class GRUCell` first.")
    try:
        return GRUCell(input_size, hidden_size)
    except NotImplementedError:
        raise AssertionError(
            "GRUCell(input_size, hidden_size) still raises NotImplementedError: "
            "replace `raise NotImplementedError()` in __init__ with your code."
        ) from None


def _call(what, fn, *args):
    try:
        return fn(*args)
    except NotImplementedError:
        raise AssertionError(f"GRUCell.{what} still raises NotImplementedError.") from None


@test_case(points=None, hidden=False)
def test_construct_and_initial_state(GRUCell):
    import torch
    import torch.nn as nn

    cell = _build(GRUCell, 5, 7)
    assert isinstance(cell, nn.Module), f"GRUCell should be an nn.Module; got {type(cell).__name__}."
    assert getattr(cell, "hidden_size", None) == 7, (
        f"GRUCell(5, 7).hidden_size should be 7; got {getattr(cell, 'hidden_size', 'no attribute hidden_size')}."
    )
    assert sum(p.numel() for p in cell.parameters()) > 0, "GRUCell has no parameters."
    for args in ((3,), (3, torch.device("cpu"))):
        h0 = _call("initial_state", cell.initial_state, *args)
        assert isinstance(h0, torch.Tensor), f"initial_state{args} should return one tensor; got {type(h0).__name__}."
        assert tuple(h0.shape) == (3, 7), f"initial_state(3) should have shape (3, 7) = (B, H); got {tuple(h0.shape)}."
        assert bool((h0 == 0).all()), "initial_state(3) should be all zeros."


@test_case(points=None, hidden=False)
def test_gates_and_forward(GRUCell):
    import torch

    torch.manual_seed(0)
    cell = _build(GRUCell, 5, 7)
    x_t, h = torch.randn(3, 5), torch.randn(3, 7)
    gates = _call("gates", cell.gates, x_t, h)
    assert isinstance(gates, dict), f"gates(x_t, h) should return a dict; got {type(gates).__name__}."
    expected = {"reset", "update", "candidate"}
    assert set(gates) == expected, f"gates() should have exactly the keys {sorted(expected)}; got {sorted(gates)}."
    for key, value in gates.items():
        assert isinstance(value, torch.Tensor) and tuple(value.shape) == (3, 7), (
            f"gates()['{key}'] should be a tensor of shape (3, 7) = (B, H); got "
            f"{tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__}."
        )
    for key in ("reset", "update"):
        assert bool(((gates[key] >= 0) & (gates[key] <= 1)).all()), f"gates()['{key}'] should be a sigmoid output, in [0, 1]."
    assert bool((gates["candidate"].abs() <= 1).all()), "gates()['candidate'] should be a tanh output, in [-1, 1]."
    h_t = _call("forward", cell, x_t, h)
    assert isinstance(h_t, torch.Tensor), f"forward(x_t, h) should return one tensor h_t; got {type(h_t).__name__}."
    assert tuple(h_t.shape) == (3, 7), f"forward should return shape (3, 7) = (B, H); got {tuple(h_t.shape)}."
    assert h_t.dtype == torch.float32, f"h_t should be float32; got {h_t.dtype}."
