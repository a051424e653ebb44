# replaces: w11_lstm_cell
# Fair variant: raw nn.Parameter matrices, one fused (D, 4H) input matrix and (H, 4H) recurrent matrix,
# gate order (i, f, g, o), right-multiplied (x @ W), one bias vector.
class LSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size, forget_bias=1.0, ablate=None):
        super().__init__()
        assert ablate in (None, "input", "forget", "output")
        self.hidden_size = hidden_size
        self.ablate = ablate
        k = 1.0 / math.sqrt(hidden_size)
        self.W = nn.Parameter(torch.empty(input_size, 4 * hidden_size).uniform_(-k, k))
        self.U = nn.Parameter(torch.empty(hidden_size, 4 * hidden_size).uniform_(-k, k))
        bias = torch.zeros(4 * hidden_size)
        bias[hidden_size:2 * hidden_size] = forget_bias
        self.b = nn.Parameter(bias)

    def gates(self, x_t, state):
        h, _ = state
        pre = x_t @ self.W + h @ self.U + self.b
        H = self.hidden_size
        i = torch.sigmoid(pre[:, :H])
        f = torch.sigmoid(pre[:, H:2 * H])
        g = torch.tanh(pre[:, 2 * H:3 * H])
        o = torch.sigmoid(pre[:, 3 * H:])
        if self.ablate == "input":
            i = torch.ones_like(i)
        elif self.ablate == "forget":
            f = torch.ones_like(f)
        elif self.ablate == "output":
            o = torch.ones_like(o)
        return {"input": i, "forget": f, "cell": g, "output": o}

    def forward(self, x_t, state):
        gate = self.gates(x_t, state)
        c = gate["forget"] * state[1] + gate["input"] * gate["cell"]
        return gate["output"] * torch.tanh(c), c

    def initial_state(self, batch_size, device=None):
        if device is None:
            device = self.W.device
        return (torch.zeros(batch_size, self.hidden_size, device=device),
                torch.zeros(batch_size, self.hidden_size, device=device))
