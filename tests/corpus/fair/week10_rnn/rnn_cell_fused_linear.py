# replaces: w10_rnn_cell
import torch
import torch.nn as nn


class RNNCell(nn.Module):
    """One nn.Linear on the concatenation [x_t, h_prev] (a fused W = [W_xh | W_hh])."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.linear = nn.Linear(input_size + hidden_size, hidden_size)

    def forward(self, x_t, h_prev):
        return torch.tanh(self.linear(torch.cat([x_t, h_prev], dim=-1)))

    def initial_state(self, batch_size, device=None):
        if device is None:
            device = self.linear.weight.device
        return torch.zeros(batch_size, self.hidden_size, device=device)
