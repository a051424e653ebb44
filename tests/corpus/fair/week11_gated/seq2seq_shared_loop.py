# replaces: w11_seq2seq
# Fair variant: one decoding loop shared by forward and generate; a torch.rand draw at every step
# (step 0's draw is unused); the state may be a tensor or a tuple.
class Seq2Seq(nn.Module):
    def __init__(self, encoder, decoder, sos_index):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.sos_index = sos_index

    def _decode(self, src, steps, tgt=None, ratio=0.0):
        state = self.encoder(src)
        token = torch.full((src.size(0),), self.sos_index, dtype=torch.long, device=src.device)
        all_logits = []
        for t in range(steps):
            if t > 0:
                use_target = tgt is not None and bool(torch.rand(()) < ratio)
                token = tgt[:, t - 1] if use_target else all_logits[-1].argmax(-1)
            logits, state = self.decoder(token, state)
            all_logits.append(logits)
        return torch.stack(all_logits, 1)

    def forward(self, src, tgt, teacher_forcing_ratio=1.0):
        return self._decode(src, tgt.size(1), tgt, teacher_forcing_ratio)

    def generate(self, src, max_len):
        return self._decode(src, max_len).argmax(-1)
