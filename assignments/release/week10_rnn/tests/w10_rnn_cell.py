OK_FORMAT = False

from otter.test_files import test_case

name = "w10_rnn_cell"
points = None


def _build(RNNCell, input_size, hidden_size):
    if RNNCell is None:
        raise AssertionError("RNNCell is not defined: run the cell with `class RNNCell` first.")
    try:
        return RNNCell(input_size, hidden_size)
    except NotImplementedError:
        raise AssertionError(
            "RNNCell(input_size, hidden_size) still raises NotImplementedError: "
            "replace `raise NotImplementedError()` in __init__ with your code."
        ) from None


@test_case(points=None, hidden=False)
def test_construct(RNNCell):
    import torch.nn as nn

    cell = _build(RNNCell, 5, 7)
    assert isinstance(cell, nn.Module), f"RNNCell should be an nn.Module; got {type(cell).__name__}."
    assert getattr(cell, "hidden_size", None) == 7, (
        f"RNNCell(5, 7).hidden_size should be 7; got {getattr(cell, 'hidden_size', 'no attribute hidden_size')}."
    )
    n_params = sum(p.numel() for p in cell.parameters())
    assert n_params > 0, "RNNCell has no parameters: create W_xh, W_hh and b as nn.Parameter or nn.Linear."


@test_case(points=None, hidden=False)
def test_initial_state(RNNCell):
    import torch

    cell = _build(RNNCell, 5, 7)
    try:
        h0 = cell.initial_state(3)
        h0_cpu = cell.initial_state(3, device=torch.device("cpu"))
    except NotImplementedError:
        raise AssertionError("initial_state still raises NotImplementedError.") from None
    for what, h in (("initial_state(3)", h0), ("initial_state(3, device=cpu)", h0_cpu)):
        assert isinstance(h, torch.Tensor), f"{what} should return a tensor; got {type(h).__name__}."
        assert tuple(h.shape) == (3, 7), f"{what} should have shape (3, 7) = (B, H); got {tuple(h.shape)}."
        assert bool((h == 0).all()), f"{what} should be all zeros."


@test_case(points=None, hidden=False)
def test_forward_shape(RNNCell):
    import torch

    cell = _build(RNNCell, 5, 7)
    x_t = torch.randn(3, 5)
    h_prev = torch.randn(3, 7)
    try:
        h_t = cell(x_t, h_prev)
    except NotImplementedError:
        raise AssertionError("RNNCell.forward still raises NotImplementedError.") from None
    assert isinstance(h_t, torch.Tensor), f"forward should return one tensor h_t; got {type(h_t).__name__}."
    assert tuple(h_t.shape) == (3, 7), (
        f"forward(x_t of shape (3, 5), h_prev of shape (3, 7)) should return (3, 7) = (B, H); got {tuple(h_t.shape)}."
    )
    assert h_t.dtype == torch.float32, f"h_t should be float32; got {h_t.dtype}."
    assert bool((h_t.abs() <= 1).all()), "h_t = tanh(...) should lie in [-1, 1]; some entries are outside."
