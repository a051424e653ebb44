# replaces: w11_lstm_cell
# Fair variant: one nn.Linear per gate for x (with bias) and one for h (no bias); PyTorch's default
# Linear initialisation for the weights; ablation applied in forward through gates().
class LSTMCell(nn.Module):
    GATES = ("input", "forget", "cell", "output")

    def __init__(self, input_size, hidden_size, forget_bias=1.0, ablate=None):
        super().__init__()
        self.hidden_size = hidden_size
        self.ablate = ablate
        self.x_maps = nn.ModuleDict({g: nn.Linear(input_size, hidden_size) for g in self.GATES})
        self.h_maps = nn.ModuleDict({g: nn.Linear(hidden_size, hidden_size, bias=False) for g in self.GATES})
        with torch.no_grad():
            for g in self.GATES:
                self.x_maps[g].bias.fill_(forget_bias if g == "forget" else 0.0)

    def gates(self, x_t, state):
        h = state[0]
        out = {}
        for g in self.GATES:
            pre = self.x_maps[g](x_t) + self.h_maps[g](h)
            out[g] = torch.tanh(pre) if g == "cell" else torch.sigmoid(pre)
        if self.ablate is not None:
            out[self.ablate] = torch.ones_like(out[self.ablate])
        return out

    def forward(self, x_t, state):
        h, c = state
        gt = self.gates(x_t, state)
        c_new = gt["forget"] * c + gt["input"] * gt["cell"]
        h_new = gt["output"] * torch.tanh(c_new)
        return (h_new, c_new)

    def initial_state(self, batch_size, device=None):
        ref = self.h_maps["input"].weight
        z = torch.zeros(batch_size, self.hidden_size, device=ref.device if device is None else device)
        return (z, z.clone())
