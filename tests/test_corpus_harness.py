"""The mutation/fairness harness itself, on the example lab."""
from __future__ import annotations

import pytest

from autograder.config import load_config
from autograder.labs import load_lab
from autograder.release.generate import read_notebook
from autograder.scoring.corpus import (
    CorpusError, FairVariant, Mutant, apply_mutant, apply_variant, caught_correctly, grade_notebooks,
)


def test_mutant_loses_points_and_fair_variant_does_not(example_course):
    lab = load_lab("toy_affine", load_config(example_course))
    solution = read_notebook(lab.notebook)
    mutant = Mutant("no_bias", "toy_affine_fn", "toy_affine_fn", "forgets the bias", (("return x @ w + b", "return x @ w"),))
    fair = FairVariant("matmul", "toy_affine_fn",
                       "import torch\ndef affine(x, w, b):\n    return torch.addmm(b, x, w)\n", lab.notebook)
    results = grade_notebooks(lab, {"mutant": apply_mutant(solution, mutant), "fair": apply_variant(solution, fair)})
    assert caught_correctly(mutant, results["mutant"])
    assert results["fair"].lost() == {}


def test_mutant_text_must_match_exactly_once(example_course):
    lab = load_lab("toy_affine", load_config(example_course))
    bad = Mutant("nope", "toy_affine_fn", "toy_affine_fn", "", (("not in the cell", "x"),))
    with pytest.raises(CorpusError, match="occurs 0 times"):
        apply_mutant(read_notebook(lab.notebook), bad)
