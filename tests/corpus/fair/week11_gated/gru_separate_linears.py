# replaces: w11_gru_cell
# Fair variant: six separate nn.Linear layers (each with a bias: b_i* and b_h*), PyTorch's convention.
class GRUCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.x_r, self.h_r = nn.Linear(input_size, hidden_size), nn.Linear(hidden_size, hidden_size)
        self.x_z, self.h_z = nn.Linear(input_size, hidden_size), nn.Linear(hidden_size, hidden_size)
        self.x_n, self.h_n = nn.Linear(input_size, hidden_size), nn.Linear(hidden_size, hidden_size)

    def gates(self, x_t, h):
        r = torch.sigmoid(self.x_r(x_t) + self.h_r(h))
        z = torch.sigmoid(self.x_z(x_t) + self.h_z(h))
        n = torch.tanh(self.x_n(x_t) + r * self.h_n(h))
        return {"reset": r, "update": z, "candidate": n}

    def forward(self, x_t, h):
        g = self.gates(x_t, h)
        return g["update"] * h + (1.0 - g["update"]) * g["candidate"]

    def initial_state(self, batch_size, device=None):
        return torch.zeros(batch_size, self.hidden_size, device=device or self.h_n.weight.device)
