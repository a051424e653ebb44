"""Probes for the toy lab: call the student's affine on fixed inputs, return the data."""
import torch

from autograder.scoring.probe import ProbeSet

PROBES = ProbeSet("toy_affine")


@PROBES.probe("affine_values", doing="calling affine on a batch of 3 inputs")
def affine_values(ns):
    g = torch.Generator().manual_seed(0)
    x, w, b = torch.randn(3, 2, generator=g), torch.randn(2, 4, generator=g), torch.randn(4, generator=g)
    return {"x": x, "w": w, "b": b, "out": ns["affine"](x, w, b)}
