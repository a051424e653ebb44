OK_FORMAT = False
from otter.test_files import test_case

name = "toy_affine_fn"
points = None


@test_case(points=None, hidden=False)
def test_shape(affine):
    import torch

    out = affine(torch.ones(2, 3), torch.ones(3, 4), torch.zeros(4))
    assert tuple(out.shape) == (2, 4), f"affine on x (2, 3), w (3, 4) should return shape (2, 4); yours has {tuple(out.shape)}"
