"""Checks for the toy lab: decide from probe data, with references computed here."""
from autograder.scoring.checks import close, expect, result, shape_text, tensor


def test_affine_shape(probes):
    data = result(probes, "affine_values")
    out = tensor(data["out"], "The output of affine")
    expect(out.shape == (3, 4), f"affine on x (3, 2) and w (2, 4) should return shape (3, 4); yours returns {shape_text(out.shape)}.")


def test_affine_values(probes):
    data = result(probes, "affine_values")
    x, w, b = (tensor(data[k], k) for k in ("x", "w", "b"))
    out = tensor(data["out"], "The output of affine")
    expect(close(out, x @ w + b), "affine(x, w, b) should equal x @ w + b; yours differs (check the order of the matrix product and the bias).")
