"""Trusted reference cells for Week 11, used only by calibration and the suite's own
tests (never by probes, never shipped). They follow the lab contract exactly:
PyTorch's gate conventions, forget-gate bias ``forget_bias`` and zero elsewhere,
``ablate`` fixing one gate to 1. ``RNNCell`` mirrors the instructor's Week 10 cell
(provided, locked, in the Week 11 notebook) and serves as the calibration anchor.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn


def _zeros(ref: torch.Tensor, batch_size: int, hidden_size: int, device=None) -> torch.Tensor:
    return torch.zeros(batch_size, hidden_size, dtype=ref.dtype, device=ref.device if device is None else device)


class RNNCell(nn.Module):
    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.hidden_size = hidden_size
        self.W_xh = nn.Linear(input_size, hidden_size)
        self.W_hh = nn.Linear(hidden_size, hidden_size, bias=False)
        bound = 1.0 / math.sqrt(hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x_t, h_prev):
        return torch.tanh(self.W_xh(x_t) + self.W_hh(h_prev))

    def initial_state(self, batch_size, device=None):
        return _zeros(self.W_hh.weight, batch_size, self.hidden_size, device)


class LSTMCell(nn.Module):
    """Fused (4H) layout, gate order (i, f, g, o), one bias vector."""

    def __init__(self, input_size: int, hidden_size: int, forget_bias: float = 1.0, ablate: str | None = None):
        super().__init__()
        if ablate not in (None, "input", "forget", "output"):
            raise ValueError(f"ablate must be None, 'input', 'forget' or 'output', not {ablate!r}")
        self.hidden_size = hidden_size
        self.ablate = ablate
        self.x2g = nn.Linear(input_size, 4 * hidden_size)
        self.h2g = nn.Linear(hidden_size, 4 * hidden_size, bias=False)
        with torch.no_grad():
            self.x2g.bias.zero_()
            self.x2g.bias[hidden_size:2 * hidden_size] = forget_bias

    def gates(self, x_t, state):
        h, _ = state
        i, f, g, o = (self.x2g(x_t) + self.h2g(h)).chunk(4, dim=-1)
        out = {"input": torch.sigmoid(i), "forget": torch.sigmoid(f), "cell": torch.tanh(g), "output": torch.sigmoid(o)}
        if self.ablate is not None:
            out[self.ablate] = torch.ones_like(out[self.ablate])
        return out

    def forward(self, x_t, state):
        g = self.gates(x_t, state)
        c = g["forget"] * state[1] + g["input"] * g["cell"]
        return g["output"] * torch.tanh(c), c

    def initial_state(self, batch_size, device=None):
        h = _zeros(self.h2g.weight, batch_size, self.hidden_size, device)
        return h, torch.zeros_like(h)


class GRUCell(nn.Module):
    """PyTorch's convention: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) n + z h."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.hidden_size = hidden_size
        self.x2g = nn.Linear(input_size, 3 * hidden_size)
        self.h2g = nn.Linear(hidden_size, 3 * hidden_size)

    def gates(self, x_t, h):
        xr, xz, xn = self.x2g(x_t).chunk(3, dim=-1)
        hr, hz, hn = self.h2g(h).chunk(3, dim=-1)
        r = torch.sigmoid(xr + hr)
        return {"reset": r, "update": torch.sigmoid(xz + hz), "candidate": torch.tanh(xn + r * hn)}

    def forward(self, x_t, h):
        g = self.gates(x_t, h)
        return (1 - g["update"]) * g["candidate"] + g["update"] * h

    def initial_state(self, batch_size, device=None):
        return _zeros(self.h2g.weight, batch_size, self.hidden_size, device)
