OK_FORMAT = False

from otter.test_files import test_case

name = "w11_decoder"
points = None


@test_case(points=None, hidden=False)
def test_one_step(Encoder, Decoder):
    import torch

    if Decoder is None:
        raise AssertionError("Decoder is not defined: run the cell with `class Decoder` first.")
    try:
        torch.manual_seed(0)
        state = Encoder(10, 4, 6)(torch.randint(0, 10, (3, 5)))
    except (NotImplementedError, TypeError, AttributeError) as exc:
        raise AssertionError(f"This check needs a working Encoder first ({type(exc).__name__}).") from None
    try:
        dec = Decoder(11, 4, 6)
        out = dec(torch.tensor([10, 3, 7]), state)
    except NotImplementedError:
        raise AssertionError("Decoder still raises NotImplementedError.") from None
    assert isinstance(out, tuple) and len(out) == 2, (
        f"Decoder.forward(token, state) should return the tuple (logits, new_state); got {type(out).__name__}."
    )
    logits, new_state = out
    assert isinstance(logits, torch.Tensor) and tuple(logits.shape) == (3, 11), (
        "Decoder(11, 4, 6) on 3 tokens should return logits of shape (3, 11) = (B, vocab_size); got "
        f"{tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__}."
    )
    old_parts = state if isinstance(state, tuple) else (state,)
    new_parts = new_state if isinstance(new_state, tuple) else (new_state,)
    assert len(new_parts) == len(old_parts), "the new state should have the same form as the encoder's state (tensor or (h, c))."
    for part in new_parts:
        assert isinstance(part, torch.Tensor) and tuple(part.shape) == (3, 6), (
            f"the new state should have shape (3, 6) = (B, H); got "
            f"{tuple(part.shape) if isinstance(part, torch.Tensor) else type(part).__name__}."
        )
