# replaces: w11_lstm_cell
# Fair variant: a single nn.Linear on the concatenation [x, h], gate order (f, i, o, g), Xavier init.
class LSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size, forget_bias=1.0, ablate=None):
        super().__init__()
        self.hidden_size = hidden_size
        self.ablate = ablate
        self.linear = nn.Linear(input_size + hidden_size, 4 * hidden_size)
        nn.init.xavier_uniform_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        with torch.no_grad():
            self.linear.bias[:hidden_size] += forget_bias

    def gates(self, x_t, state):
        h, c = state
        f, i, o, g = self.linear(torch.cat([x_t, h], dim=1)).chunk(4, dim=1)
        f, i, o, g = f.sigmoid(), i.sigmoid(), o.sigmoid(), g.tanh()
        one = lambda t: torch.ones_like(t)
        return {
            "input": one(i) if self.ablate == "input" else i,
            "forget": one(f) if self.ablate == "forget" else f,
            "cell": g,
            "output": one(o) if self.ablate == "output" else o,
        }

    def forward(self, x_t, state):
        gt = self.gates(x_t, state)
        c_t = gt["forget"] * state[1] + gt["input"] * gt["cell"]
        h_t = gt["output"] * c_t.tanh()
        return h_t, c_t

    def initial_state(self, batch_size, device=None):
        device = device if device is not None else self.linear.weight.device
        return torch.zeros(2, batch_size, self.hidden_size, device=device).unbind(0)
