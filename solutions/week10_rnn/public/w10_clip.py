OK_FORMAT = False

from otter.test_files import test_case

name = "w10_clip"
points = None


def _params():
    import torch

    a = torch.nn.Parameter(torch.zeros(2, 3))
    b = torch.nn.Parameter(torch.zeros(4))
    unused = torch.nn.Parameter(torch.zeros(5))  # grad stays None
    a.grad = torch.full((2, 3), 2.0)
    b.grad = torch.full((4,), -1.0)
    return [a, b, unused]


def _call(clip_grad_norm, params, max_norm):
    if clip_grad_norm is None:
        raise AssertionError("clip_grad_norm is not defined: run its cell first.")
    try:
        return clip_grad_norm(params, max_norm)
    except NotImplementedError:
        raise AssertionError("clip_grad_norm still raises NotImplementedError: replace it with your code.") from None
    except (AttributeError, TypeError) as exc:
        raise AssertionError(
            f"clip_grad_norm failed with {type(exc).__name__}: {exc}. Skip parameters whose grad is None."
        ) from None


@test_case(points=None, hidden=False)
def test_returns_number(clip_grad_norm):
    import torch

    result = _call(clip_grad_norm, _params(), 1.0)
    ok = isinstance(result, (int, float)) or (isinstance(result, torch.Tensor) and result.dim() == 0)
    assert ok, f"clip_grad_norm should return the total norm as a float or 0-d tensor; got {type(result).__name__}."
    assert float(result) >= 0, f"a norm cannot be negative; got {float(result)}."


@test_case(points=None, hidden=False)
def test_accepts_generator(clip_grad_norm):
    params = _params()
    result = _call(clip_grad_norm, (p for p in params), 1.0)
    float(result)
    untouched = _params()
    assert not all(bool((p.grad == q.grad).all()) for p, q in zip(params[:2], untouched[:2])), (
        "called with a generator (like model.parameters()), clip_grad_norm left large gradients unclipped; "
        "a generator can be iterated over only once: turn it into a list first."
    )
