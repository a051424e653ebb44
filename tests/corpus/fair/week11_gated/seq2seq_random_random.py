# replaces: w11_seq2seq
# Fair variant: coin flips with random.random(), output preallocated, generate with its own loop.
import random


class Seq2Seq(nn.Module):
    def __init__(self, encoder, decoder, sos_index):
        super().__init__()
        self.encoder, self.decoder, self.sos_index = encoder, decoder, sos_index

    def forward(self, src, tgt, teacher_forcing_ratio=1.0):
        batch, steps = tgt.shape
        state = self.encoder(src)
        inp = tgt.new_full((batch,), self.sos_index)
        outputs = None
        for t in range(steps):
            logits, state = self.decoder(inp, state)
            if outputs is None:
                outputs = logits.new_zeros(batch, steps, logits.shape[-1])
            outputs[:, t] = logits
            teacher = random.random() < teacher_forcing_ratio
            inp = tgt[:, t] if teacher else logits.argmax(1)
        return outputs

    def generate(self, src, max_len):
        self.eval()
        with torch.no_grad():
            state = self.encoder(src)
            tokens = torch.empty(src.shape[0], max_len, dtype=torch.long, device=src.device)
            inp = torch.full((src.shape[0],), self.sos_index, dtype=torch.long, device=src.device)
            for t in range(max_len):
                logits, state = self.decoder(inp, state)
                inp = logits.argmax(dim=-1)
                tokens[:, t] = inp
        return tokens
