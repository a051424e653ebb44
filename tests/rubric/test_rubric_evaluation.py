"""The labelled evaluation set and the harness; the held-out split must meet the targets."""
from __future__ import annotations

from collections import Counter

import pytest

from autograder.rubric.evaluate import (LABS, TARGETS, evaluate, load_eval_set, quadratic_weighted_kappa,
                                        cohen_kappa)


@pytest.fixture(scope="module")
def report(embedder):
    return evaluate(embedder, timing=False)


def test_eval_set_size_and_split(rubric10, rubric11):
    answers = load_eval_set("week10_rnn", rubric10) + load_eval_set("week11_gated", rubric11)
    assert len(answers) >= 180
    per_q = Counter(a.grade_id for a in answers)
    assert len(per_q) == 12 and min(per_q.values()) >= 15
    held = Counter(a.grade_id for a in answers if a.split == "heldout")
    for gid, n in per_q.items():
        assert 0.25 <= held[gid] / n <= 0.4, gid
    styles = {a.style for a in answers}
    for s in ("full", "partial", "misconception", "paraphrase", "keyword_salad", "negation_trap", "terse",
              "long", "informal", "non_native", "off_topic", "empty"):
        assert s in styles, s


def test_metric_functions():
    assert quadratic_weighted_kappa([0, 1, 2, 3], [0, 1, 2, 3]) == 1.0
    assert quadratic_weighted_kappa([0, 1, 2, 3], [3, 2, 1, 0]) < 0
    assert cohen_kappa([1, 0, 1, 0], [1, 0, 1, 0]) == 1.0
    assert abs(cohen_kappa([1, 1, 0, 0], [1, 0, 1, 0])) < 1e-9


def test_heldout_split_meets_targets(report):
    m = report["splits"]["heldout"]
    assert m["answers"] >= 60
    assert m["precision"] >= TARGETS["precision"], m
    assert m["qwk"] >= TARGETS["qwk"], m
    assert m["review_share"] <= TARGETS["review_share"], m
    assert m["misconception_over_half"] == TARGETS["misconception_over_half"], m


def test_tuning_split_meets_targets(report):
    m = report["splits"]["tuning"]
    assert m["precision"] >= TARGETS["precision"] and m["qwk"] >= TARGETS["qwk"]
    assert m["review_share"] <= TARGETS["review_share"] and m["misconception_over_half"] == 0
