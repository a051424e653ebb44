OK_FORMAT = False

from otter.test_files import test_case

name = "w11_encoder"
points = None


@test_case(points=None, hidden=False)
def test_final_state_shape(Encoder):
    import torch
    import torch.nn as nn

    if Encoder is None:
        raise AssertionError("Encoder is not defined: run the cell with `class Encoder` first.")
    try:
        torch.manual_seed(0)
        enc = Encoder(10, 4, 6)
        state = enc(torch.randint(0, 10, (3, 5)))
    except NotImplementedError:
        raise AssertionError("Encoder (or the GRUCell / LSTMCell it uses) still raises NotImplementedError.") from None
    assert isinstance(enc, nn.Module), f"Encoder should be an nn.Module; got {type(enc).__name__}."
    parts = state if isinstance(state, tuple) else (state,)
    assert len(parts) in (1, 2), f"Encoder.forward should return a tensor (B, H) or a tuple (h, c); got a tuple of {len(parts)}."
    for part in parts:
        assert isinstance(part, torch.Tensor) and tuple(part.shape) == (3, 6), (
            "Encoder(10, 4, 6) on src of shape (3, 5) should return the final state of shape (3, 6) = (B, H) "
            f"(or a tuple of two); got {tuple(part.shape) if isinstance(part, torch.Tensor) else type(part).__name__}."
        )
