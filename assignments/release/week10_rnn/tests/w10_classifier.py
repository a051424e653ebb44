OK_FORMAT = False

from otter.test_files import test_case

name = "w10_classifier"
points = None


def _model(RNNCell, RecurrentClassifier):
    if RNNCell is None or RecurrentClassifier is None:
        raise AssertionError("RNNCell or RecurrentClassifier is not defined: run their cells first.")
    try:
        cell = RNNCell(8, 16)
    except NotImplementedError:
        raise AssertionError("RNNCell still raises NotImplementedError: finish A.1 first.") from None
    try:
        return RecurrentClassifier(cell, 4)
    except NotImplementedError:
        raise AssertionError(
            "RecurrentClassifier(cell, num_classes) still raises NotImplementedError: "
            "replace `raise NotImplementedError()` in __init__ with your code."
        ) from None


@test_case(points=None, hidden=False)
def test_forward_outputs(RNNCell, RecurrentClassifier):
    import torch

    model = _model(RNNCell, RecurrentClassifier)
    x = torch.randn(5, 6, 8)
    try:
        out = model(x)
    except NotImplementedError:
        raise AssertionError("RecurrentClassifier.forward still raises NotImplementedError.") from None
    assert isinstance(out, tuple) and len(out) == 2, (
        f"forward(x) should return a tuple (logits, hidden_states); got {type(out).__name__}"
        + (f" of length {len(out)}" if isinstance(out, tuple) else "") + "."
    )
    logits, hidden_states = out
    assert isinstance(logits, torch.Tensor) and tuple(logits.shape) == (5, 4), (
        f"logits should be a tensor of shape (5, 4) = (B, C) for x of shape (5, 6, 8); "
        f"got {tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__}."
    )
    assert isinstance(hidden_states, list), (
        f"hidden_states should be a Python list of T tensors; got {type(hidden_states).__name__}."
    )
    assert len(hidden_states) == 6, f"hidden_states should hold T = 6 tensors (one per step); got {len(hidden_states)}."
    shapes = {tuple(h.shape) for h in hidden_states}
    assert shapes == {(5, 16)}, f"every hidden state should have shape (5, 16) = (B, H); got {sorted(shapes)}."
    assert hidden_states[-1].requires_grad, (
        "the hidden states should still be attached to the autograd graph (requires_grad); do not detach them."
    )


@test_case(points=None, hidden=False)
def test_any_length(RNNCell, RecurrentClassifier):
    import torch

    model = _model(RNNCell, RecurrentClassifier)
    n_params = sum(p.numel() for p in model.parameters())
    for T in (1, 3, 12):
        logits, hidden_states = model(torch.randn(2, T, 8))
        assert len(hidden_states) == T, f"for T = {T} expected {T} hidden states; got {len(hidden_states)}."
        assert tuple(logits.shape) == (2, 4), f"for T = {T} expected logits (2, 4); got {tuple(logits.shape)}."
    assert sum(p.numel() for p in model.parameters()) == n_params, (
        "the number of parameters changed after running sequences: the same cell must be reused at every step."
    )
