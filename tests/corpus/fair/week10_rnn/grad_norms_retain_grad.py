# replaces: w10_grad_norms
import torch
import torch.nn.functional as F


def hidden_grad_norms(model, x, y):
    """retain_grad on every state, one backward pass, then clear the parameters' gradients."""
    logits, hidden_states = model(x)
    for h in hidden_states:
        h.retain_grad()
    loss = F.cross_entropy(logits, y)
    loss.backward()
    norms = torch.tensor([h.grad.norm().item() for h in hidden_states])
    model.zero_grad()
    return norms
