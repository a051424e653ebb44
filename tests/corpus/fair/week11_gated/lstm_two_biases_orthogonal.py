# replaces: w11_lstm_cell
# Fair variant: PyTorch's layout (weight_ih (4H, D), weight_hh (4H, H), bias_ih + bias_hh) with
# orthogonal recurrent weights; random bias_ih cancelled by bias_hh so that the sums are
# forget_bias for the forget chunk and zero elsewhere.
class LSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size, forget_bias=1.0, ablate=None):
        super().__init__()
        H = hidden_size
        self.hidden_size = H
        self.ablate = ablate
        self.weight_ih = nn.Parameter(torch.empty(4 * H, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * H, H))
        self.bias_ih = nn.Parameter(torch.empty(4 * H))
        self.bias_hh = nn.Parameter(torch.empty(4 * H))
        nn.init.xavier_uniform_(self.weight_ih)
        for k in range(4):
            nn.init.orthogonal_(self.weight_hh.data[k * H:(k + 1) * H])
        with torch.no_grad():
            self.bias_ih.uniform_(-0.1, 0.1)
            target = torch.zeros(4 * H)
            target[H:2 * H] = forget_bias
            self.bias_hh.copy_(target - self.bias_ih)

    def gates(self, x_t, state):
        h = state[0]
        z = F.linear(x_t, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        i, f, g, o = z.chunk(4, 1)
        result = dict(input=torch.sigmoid(i), forget=torch.sigmoid(f), cell=torch.tanh(g), output=torch.sigmoid(o))
        if self.ablate:
            result[self.ablate] = torch.ones_like(result[self.ablate])
        return result

    def forward(self, x_t, state):
        gates = self.gates(x_t, state)
        c = torch.addcmul(gates["forget"] * state[1], gates["input"], gates["cell"])
        return torch.mul(gates["output"], torch.tanh(c)), c

    def initial_state(self, batch_size, device=None):
        h = self.weight_hh.new_zeros(batch_size, self.hidden_size)
        if device is not None:
            h = h.to(device)
        return h, torch.zeros_like(h)
