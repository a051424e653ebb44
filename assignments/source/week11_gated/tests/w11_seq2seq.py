OK_FORMAT = False

from otter.test_files import test_case

name = "w11_seq2seq"
points = None


def _model(Encoder, Decoder, Seq2Seq):
    import torch

    if Seq2Seq is None:
        raise AssertionError("Seq2Seq is not defined: run the cell with `class Seq2Seq` first.")
    try:
        torch.manual_seed(0)
        encoder, decoder = Encoder(10, 4, 6), Decoder(11, 4, 6)
    except (NotImplementedError, TypeError, AttributeError) as exc:
        raise AssertionError(f"This check needs a working Encoder and Decoder first ({type(exc).__name__}).") from None
    try:
        return Seq2Seq(encoder, decoder, 10)
    except NotImplementedError:
        raise AssertionError("Seq2Seq(encoder, decoder, sos_index) still raises NotImplementedError.") from None


@test_case(points=None, hidden=False)
def test_forward_shape(Encoder, Decoder, Seq2Seq):
    import torch

    model = _model(Encoder, Decoder, Seq2Seq)
    src = torch.randint(0, 10, (3, 5))
    tgt = torch.randint(0, 10, (3, 4))
    for ratio in (1.0, 0.5, 0.0):
        try:
            logits = model(src, tgt, teacher_forcing_ratio=ratio)
        except NotImplementedError:
            raise AssertionError("Seq2Seq.forward still raises NotImplementedError.") from None
        assert isinstance(logits, torch.Tensor) and tuple(logits.shape) == (3, 4, 11), (
            f"forward(src (3, 5), tgt (3, 4), teacher_forcing_ratio={ratio}) should return logits of shape "
            f"(3, 4, 11) = (B, T, V); got {tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__}."
        )


@test_case(points=None, hidden=False)
def test_generate_shape_and_dtype(Encoder, Decoder, Seq2Seq):
    import torch

    model = _model(Encoder, Decoder, Seq2Seq)
    src = torch.randint(0, 10, (3, 5))
    try:
        out = model.generate(src, 6)
    except NotImplementedError:
        raise AssertionError("Seq2Seq.generate still raises NotImplementedError.") from None
    assert isinstance(out, torch.Tensor), f"generate should return a tensor; got {type(out).__name__}."
    assert tuple(out.shape) == (3, 6), f"generate(src (3, 5), max_len=6) should have shape (3, 6); got {tuple(out.shape)}."
    assert out.dtype == torch.long, f"generate should return token indices as a LongTensor (torch.long); got {out.dtype}."
    assert bool(((out >= 0) & (out < 11)).all()), "generated tokens should be indices in 0..V-1."
