# replaces: w10_clip
import torch


def clip_grad_norm(parameters, max_norm):
    """One flat vector of all gradients; a 0-d tensor is returned."""
    params = [p for p in parameters if p.grad is not None]
    if len(params) == 0:
        return torch.tensor(0.0)
    total = torch.linalg.vector_norm(torch.cat([p.grad.detach().flatten() for p in params]))
    if total > max_norm:
        coef = max_norm / (total + 1e-6)
        for p in params:
            p.grad.detach().mul_(coef)
    return total
