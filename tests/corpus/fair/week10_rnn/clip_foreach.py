# replaces: w10_clip
import torch


def clip_grad_norm(parameters, max_norm):
    """torch._foreach_norm / torch._foreach_mul_ (by hand, without clip_grad_norm_)."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    total = torch.stack(torch._foreach_norm(grads)).norm()
    if total.item() > max_norm:
        torch._foreach_mul_(grads, (max_norm / (total + 1e-6)).item())
    return total.item()
