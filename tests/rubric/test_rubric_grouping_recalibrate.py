"""Review-queue grouping and threshold recalibration (pure functions, no storage)."""
from __future__ import annotations

import dataclasses

from autograder.rubric import (HashingEmbedder, RubricScorer, TADecision, apply_calibration, group_similar,
                               recalibrate)
from autograder.rubric.recalibrate import calibration_yaml


def test_group_similar_groups_near_duplicates(embedder):
    answers = [
        ("s1", "Clipping fixes exploding gradients, not vanishing ones."),
        ("s2", "Teacher forcing feeds the true previous token to the decoder."),
        ("s3", "clipping fixes exploding gradients, not vanishing ones!"),
        ("s4", "Clipping fixes exploding gradients but not vanishing ones."),
        ("s5", ""),
    ]
    groups = group_similar(answers, threshold=0.9, embedder=embedder)
    first = groups[0]
    assert set(first.keys) == {"s1", "s3", "s4"} and first.representative == "s1"
    assert sorted(k for g in groups for k in g.keys) == ["s1", "s2", "s3", "s4", "s5"]
    assert groups == group_similar(answers, threshold=0.9, embedder=embedder)  # deterministic


def test_group_similar_threshold_one_keeps_only_identical(embedder):
    answers = [("a", "Same weights at every step."), ("b", "The weights are shared across time."),
               ("c", "same weights at every step")]
    groups = group_similar(answers, threshold=1.0, embedder=embedder, near_duplicate=1.01)
    assert [set(g.keys) for g in groups] == [{"a", "c"}, {"b"}]


def test_recalibrate_moves_thresholds_towards_ta_decisions(rubric10):
    # A rubric whose semantic thresholds are far too lax for the hashing embedder: every
    # sentence vaguely like an example is credited. TA decisions say otherwise.
    lax = dataclasses.replace(rubric10, calibration={"hashing": {"threshold": 0.05, "band": 0.0}})
    scorer = RubricScorer(lax, embedder=HashingEmbedder())
    gid, item = "w10_explain_weight_sharing", "defense"
    positives = ["Unrolling just draws copies of one cell, so it looks deep.",
                 "The parameter count does not depend on T.",
                 "The picture with many boxes is one machine at different moments.",
                 "It only looks like a deep network after unrolling."]
    negatives = ["Gradients are computed by the chain rule.", "We use Adam to train.",
                 "The hidden state has 64 units.", "Sequences have length 50.",
                 "The loss is cross-entropy.", "Each step reads one token."]
    ta = [TADecision(gid, item, t, "credited") for t in positives] + \
         [TADecision(gid, item, t, "not_credited") for t in negatives]
    rep = recalibrate(scorer, ta, min_decisions=8)
    it = next(i for i in rep.items if i.item_id == item)
    assert it.n == 10
    assert it.after.auto_agreement >= it.before.auto_agreement
    assert it.after.proposal_agreement > it.before.proposal_agreement
    assert it.changed and it.new.threshold > it.old.threshold
    updated = apply_calibration(lax, rep)
    assert updated.question(gid).item(item).calibration["hashing"]["threshold"] == it.new.threshold
    assert item in calibration_yaml(rep)
    assert "recalibration" in rep.to_text()


def test_recalibrate_keeps_items_with_few_decisions(rubric10):
    scorer = RubricScorer(rubric10, embedder=HashingEmbedder())
    rep = recalibrate(scorer, [TADecision("w10_explain_clipping", "caps_exploding", "Clipping caps the norm.", True)])
    assert not rep.items[0].changed and "fewer than" in rep.items[0].note
