# replaces: w10_classifier
import torch
import torch.nn as nn


class RecurrentClassifier(nn.Module):
    """A while loop over torch.unbind, and a head made of raw parameters."""

    def __init__(self, cell, num_classes):
        super().__init__()
        self.cell = cell
        self.W_out = nn.Parameter(torch.randn(cell.hidden_size, num_classes) * 0.1)
        self.b_out = nn.Parameter(torch.zeros(num_classes))

    def forward(self, x):
        steps = torch.unbind(x, dim=1)
        state = self.cell.initial_state(x.size(0), x.device)
        hidden_states = []
        t = 0
        while t < len(steps):
            state = self.cell(steps[t], state)
            h = state[0] if isinstance(state, (tuple, list)) else state
            hidden_states.append(h)
            t += 1
        h_last = torch.stack(hidden_states, dim=1)[:, -1]
        return h_last @ self.W_out + self.b_out, hidden_states
