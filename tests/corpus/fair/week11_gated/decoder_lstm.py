# replaces: w11_decoder
# Fair variant: the decoder built on the student's LSTMCell; takes and returns (h, c).
class Decoder(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.rnn = LSTMCell(embed_dim, hidden_size)
        self.proj = nn.Linear(hidden_size, vocab_size)

    def forward(self, token, state):
        h, c = self.rnn(self.embedding(token), state)
        return self.proj(h), (h, c)
