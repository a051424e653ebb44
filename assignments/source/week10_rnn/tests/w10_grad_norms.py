OK_FORMAT = False

from otter.test_files import test_case

name = "w10_grad_norms"
points = None


@test_case(points=None, hidden=False)
def test_shape_and_type(RNNCell, RecurrentClassifier, hidden_grad_norms, make_recall_dataset):
    import torch

    if hidden_grad_norms is None:
        raise AssertionError("hidden_grad_norms is not defined: run its cell first.")
    try:
        model = RecurrentClassifier(RNNCell(8, 16), 4)
    except (NotImplementedError, TypeError, AttributeError) as exc:
        raise AssertionError(f"RNNCell / RecurrentClassifier do not work yet ({type(exc).__name__}): finish A.1 and A.2 first.") from None
    x, y = make_recall_dataset(4, 7, seed=0)
    try:
        norms = hidden_grad_norms(model, x, y)
    except NotImplementedError:
        raise AssertionError(
            "hidden_grad_norms still raises NotImplementedError: replace it with your code."
        ) from None
    assert isinstance(norms, torch.Tensor), f"hidden_grad_norms should return a tensor; got {type(norms).__name__}."
    assert tuple(norms.shape) == (7,), f"for T = 7 the result should have shape (7,); got {tuple(norms.shape)}."
    assert not norms.requires_grad, "return a plain tensor (detach it): the result should not require grad."
    assert bool(torch.isfinite(norms).all()) and bool((norms >= 0).all()), (
        f"norms should be finite and non-negative; got {norms.tolist()}."
    )


@test_case(points=None, hidden=False)
def test_parameter_grads_untouched(RNNCell, RecurrentClassifier, hidden_grad_norms, make_recall_dataset):
    import torch

    try:
        model = RecurrentClassifier(RNNCell(8, 16), 4)
        x, y = make_recall_dataset(4, 5, seed=1)
        hidden_grad_norms(model, x, y)
    except NotImplementedError:
        raise AssertionError("finish RNNCell, RecurrentClassifier and hidden_grad_norms first.") from None
    dirty = [n for n, p in model.named_parameters() if p.grad is not None and bool((p.grad != 0).any())]
    assert not dirty, f"hidden_grad_norms left gradients in the parameters' .grad ({dirty}); leave them untouched or zero them."
