# replaces: w11_gru_cell
# Fair variant: raw parameters, fused (D, 3H) and (H, 3H) matrices, gate order (z, r, n); biases b_z and
# b_r merged (one each) plus separate b_in and b_hn for the candidate (4H biases in all); Xavier init.
class GRUCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        H = hidden_size
        self.hidden_size = H
        self.W = nn.Parameter(nn.init.xavier_uniform_(torch.empty(input_size, 3 * H)))
        self.U = nn.Parameter(nn.init.xavier_uniform_(torch.empty(H, 3 * H)))
        self.b_zr = nn.Parameter(torch.zeros(2 * H))
        self.b_in = nn.Parameter(torch.zeros(H))
        self.b_hn = nn.Parameter(torch.zeros(H))

    def gates(self, x_t, h):
        H = self.hidden_size
        wx, uh = x_t @ self.W, h @ self.U
        z = torch.sigmoid(wx[:, :H] + uh[:, :H] + self.b_zr[:H])
        r = torch.sigmoid(wx[:, H:2 * H] + uh[:, H:2 * H] + self.b_zr[H:])
        n = torch.tanh(wx[:, 2 * H:] + self.b_in + r * (uh[:, 2 * H:] + self.b_hn))
        return {"update": z, "reset": r, "candidate": n}

    def forward(self, x_t, h):
        g = self.gates(x_t, h)
        z = g["update"]
        return torch.lerp(g["candidate"], h, z)

    def initial_state(self, batch_size, device=None):
        return self.U.new_zeros(batch_size, self.hidden_size, device=device)
