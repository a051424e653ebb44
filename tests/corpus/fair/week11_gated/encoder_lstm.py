# replaces: w11_encoder
# Fair variant: the encoder built on the student's LSTMCell; returns the final (h, c).
class Encoder(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.rnn = LSTMCell(embed_dim, hidden_size)

    def forward(self, src):
        embedded = self.embedding(src)
        state = self.rnn.initial_state(src.size(0), device=src.device)
        for x_t in embedded.unbind(dim=1):
            state = self.rnn(x_t, state)
        return state
