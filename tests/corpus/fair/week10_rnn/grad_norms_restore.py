# replaces: w10_grad_norms
import torch
import torch.nn as nn


def hidden_grad_norms(model, x, y):
    """Saves any existing parameter gradients, back-propagates, reads the states, restores."""
    saved = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
    logits, hidden_states = model(x)
    hidden_states = list(hidden_states)
    for h in hidden_states:
        h.retain_grad()
    nn.CrossEntropyLoss()(logits, y).backward()
    out = torch.stack([torch.linalg.vector_norm(h.grad) for h in hidden_states])
    for p, g in zip(model.parameters(), saved):
        p.grad = g
    return out.detach()
