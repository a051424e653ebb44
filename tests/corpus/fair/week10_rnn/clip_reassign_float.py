# replaces: w10_clip
import math


def clip_grad_norm(parameters, max_norm):
    """Sums of squares in Python floats; p.grad is re-assigned (not modified in place)."""
    parameters = list(parameters)
    total = math.sqrt(sum(float((p.grad ** 2).sum()) for p in parameters if p.grad is not None))
    if total > max_norm:
        factor = max_norm / (total + 1e-6)
        for p in parameters:
            if p.grad is None:
                continue
            p.grad = p.grad * factor
    return total
