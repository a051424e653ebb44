"""Trusted references for the Week 10 checks (imported by the checks only, never by probes).

The probes' fixtures (toy cells and the toy model) are re-implemented here in
float64 so every reference is recomputed on the trusted side from the inputs
and weights the probe actually used.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from autograder.scoring.checks import tensor


def as_torch(value, what: str) -> torch.Tensor:
    return torch.from_numpy(tensor(value, what))


def weights(data: dict, names: tuple[str, ...]) -> dict[str, torch.Tensor]:
    return {k: as_torch(data[k], f"the toy weight {k}") for k in names}


def sine_cell_replay(w: dict[str, torch.Tensor], x: torch.Tensor) -> list[torch.Tensor]:
    """States of the probes' SineCell run from the zero state over ``x`` (B, T, D)."""
    h = torch.zeros(x.shape[0], w["A"].shape[1], dtype=torch.float64)
    states = []
    for t in range(x.shape[1]):
        h = 0.6 * torch.roll(h, 1, dims=-1) * w["g"] + torch.sin(x[:, t] @ w["A"])
        states.append(h)
    return states


def pair_cell_replay(w: dict[str, torch.Tensor], x: torch.Tensor) -> list[torch.Tensor]:
    """The ``h`` part of the probes' PairCell states, run from the zero state."""
    h = torch.zeros(x.shape[0], w["A"].shape[1], dtype=torch.float64)
    c = torch.zeros_like(h)
    states = []
    for t in range(x.shape[1]):
        c = 0.8 * c + torch.sin(x[:, t] @ w["A"]) + 0.3 * h
        h = w["s"] * torch.cos(c)
        states.append(h)
    return states


TOY_NAMES = ("A", "g", "W", "b")


def toy_forward(w: dict[str, torch.Tensor], x: torch.Tensor):
    """The probes' ToySeqModel: ``(logits, hidden_states)``."""
    h = torch.zeros(x.shape[0], w["A"].shape[1], dtype=x.dtype)
    states = []
    for t in range(x.shape[1]):
        h = 0.9 * torch.cos(w["g"]) * h + torch.sin(x[:, t] @ w["A"])
        states.append(h)
    return h @ w["W"] + w["b"], states


def toy_unflatten(flat: np.ndarray, like: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out, start = {}, 0
    for name in TOY_NAMES:
        n = like[name].numel()
        out[name] = torch.from_numpy(np.asarray(flat[start:start + n], dtype=np.float64)).reshape(like[name].shape)
        start += n
    return out


def toy_flatten(w: dict[str, torch.Tensor]) -> np.ndarray:
    return np.concatenate([w[name].reshape(-1).numpy() for name in TOY_NAMES])


def hidden_grad_norms(w: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """||dL/dh_t|| (L2 over batch and hidden dims) for the toy model, mean cross-entropy."""
    w = {k: v.clone().requires_grad_(True) for k, v in w.items()}
    logits, states = toy_forward(w, x)
    loss = F.cross_entropy(logits, y.long())
    grads = torch.autograd.grad(loss, states)
    return np.array([float(g.norm()) for g in grads])


def toy_accuracy(w: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        logits, _ = toy_forward(w, x)
    return float((logits.argmax(dim=-1) == y.long()).double().mean())


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(labels)), labels.astype(int)].mean())


def clipped(grads: list[np.ndarray | None], max_norm: float) -> tuple[float, list[np.ndarray | None]]:
    """Global-norm clipping as the contract states it: the total norm before clipping, and
    every gradient times ``max_norm / (total + 1e-6)`` when the total exceeds ``max_norm``."""
    total = math.sqrt(sum(float((g ** 2).sum()) for g in grads if g is not None))
    scale = max_norm / (total + 1e-6) if total > max_norm else 1.0
    return total, [None if g is None else g * scale for g in grads]


def adam_step_errors(snapshots: list[np.ndarray], rows: list[list[int]], final: np.ndarray,
                     like: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, lr: float,
                     betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> list[np.ndarray]:
    """For each recorded optimisation step k: |recorded params after step k - one Adam step
    (PyTorch defaults) from the recorded params before it, on the gradient of the mean
    cross-entropy of minibatch k|, with Adam's moments carried from step to step.
    Errors are per parameter element, in units of ``lr``."""
    after = [*snapshots[1:], final]
    m = v = None
    errors = []
    for k, (before, rows_k, target) in enumerate(zip(snapshots, rows, after), start=1):
        w = {n: t.clone().requires_grad_(True) for n, t in toy_unflatten(before, like).items()}
        idx = torch.as_tensor(rows_k, dtype=torch.long)
        logits, _ = toy_forward(w, x[idx])
        loss = F.cross_entropy(logits, y[idx].long())
        grads = torch.autograd.grad(loss, [w[n] for n in TOY_NAMES])
        g = np.concatenate([gr.reshape(-1).numpy() for gr in grads])
        m = (1 - betas[0]) * g if m is None else betas[0] * m + (1 - betas[0]) * g
        v = (1 - betas[1]) * g * g if v is None else betas[1] * v + (1 - betas[1]) * g * g
        m_hat, v_hat = m / (1 - betas[0] ** k), v / (1 - betas[1] ** k)
        expected = before - lr * m_hat / (np.sqrt(v_hat) + eps)
        errors.append(np.abs(np.asarray(target, dtype=np.float64) - expected) / lr)
    return errors
