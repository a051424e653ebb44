# replaces: w10_rnn_cell
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class RNNCell(nn.Module):
    """PyTorch's own layout: weight_ih, weight_hh and two biases b_ih + b_hh."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(hidden_size))
        bound = 1 / math.sqrt(hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x_t, h_prev):
        return torch.tanh(F.linear(x_t, self.weight_ih, self.bias_ih) + F.linear(h_prev, self.weight_hh, self.bias_hh))

    def initial_state(self, batch_size, device=None):
        return self.weight_hh.new_zeros((batch_size, self.hidden_size), device=device)
