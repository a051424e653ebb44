# replaces: w10_rnn_cell
import torch
import torch.nn as nn


class RNNCell(nn.Module):
    """Raw parameters: Xavier W_xh, orthogonal W_hh, zero bias."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.W_xh = nn.Parameter(torch.empty(hidden_size, input_size))
        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.b = nn.Parameter(torch.zeros(hidden_size))
        nn.init.xavier_uniform_(self.W_xh)
        nn.init.orthogonal_(self.W_hh)

    def forward(self, x_t, h_prev):
        return torch.tanh(x_t @ self.W_xh.T + h_prev @ self.W_hh.T + self.b)

    def initial_state(self, batch_size, device=None):
        return torch.zeros(batch_size, self.hidden_size, device=device)
