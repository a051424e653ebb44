"""The public API the framework calls, and determinism."""
from __future__ import annotations

from autograder.rubric import (ItemDecision, QuestionResult, RubricScorer, feedback_lines, load_rubric)
from autograder.rubric.scorer import CREDITED, NEEDS_REVIEW, classify
from autograder.rubric.schema import Calibration

FULL = ("Clipping rescales the gradient whenever its norm exceeds a threshold, so it fixes exploding gradients. "
        "It does nothing for vanishing gradients: a tiny gradient stays tiny. Vanishing needs an architectural "
        "change such as gating (LSTM or GRU).")


def test_result_shape(scorer10, rubric10):
    r = scorer10.score("w10_explain_clipping", FULL)
    assert isinstance(r, QuestionResult)
    assert (r.grade_id, r.points, r.max_points) == ("w10_explain_clipping", 3.0, 3.0)
    assert r.status == "credited" and r.rubric_version == rubric10.version
    q = rubric10.question("w10_explain_clipping")
    assert [d.item_id for d in r.items] == [i.id for i in q.items]
    for d in r.items:
        assert isinstance(d, ItemDecision)
        assert d.kind in ("criterion", "misconception")
        assert d.reason and d.feedback
        assert d.proposal_points == d.points
    crit = r.item("caps_exploding")
    assert crit.decision == "credited" and crit.feedback == q.item("caps_exploding").feedback.shown_if_met
    assert crit.status == "credited"
    assert len(feedback_lines(r)) == len(r.items)


def test_partial_and_misconception_status(scorer10):
    r = scorer10.score("w10_explain_clipping", "Clipping fixes exploding gradients.")
    assert r.points == 1 and r.status in ("partial", "needs_review")
    m = scorer10.score("w10_explain_clipping", "Clipping fixes vanishing gradients.").item("clipping_fixes_vanishing")
    assert m.decision == "triggered" and m.status == "fail" and m.max_points == 0


def test_review_band_records_the_proposal():
    cal = Calibration(threshold=0.6, band=0.06)
    assert classify("criterion", "none", 0.70, cal) == (CREDITED, CREDITED)
    assert classify("criterion", "none", 0.62, cal) == (NEEDS_REVIEW, CREDITED)
    assert classify("criterion", "none", 0.57, cal) == (NEEDS_REVIEW, "not_credited")
    assert classify("criterion", "none", 0.40, cal) == ("not_credited", "not_credited")
    assert classify("criterion", "match", 0.10, cal) == (CREDITED, CREDITED)
    assert classify("criterion", "match", 0.10, cal, contradicted=True) == (NEEDS_REVIEW, CREDITED)
    assert classify("misconception", "match", None, cal, unless=True) == (NEEDS_REVIEW, "triggered")


def test_needs_review_points_are_the_proposal(scorer11):
    r = scorer11.score("w11_explain_ablation",
                       "In my runs removing the forget gate destroyed the memory on 3 of 5 seeds.")
    d = r.item("forget_destroys_memory")
    assert d.decision == "needs_review" and r.needs_review and r.status == "needs_review"
    assert d.points == d.proposal_points


def test_deterministic(rubric10, embedder, scorer10):
    texts = [("w10_explain_clipping", FULL),
             ("w10_predict_length", "It will shrink exponentially because BPTT multiplies by W_hh at each step."),
             ("w10_explain_weight_sharing", "Nope. One small machine applied at each moment, same knobs."),
             ("w10_probe_length", "The curve dropped and then flattened out; roughly what I expected.")]
    a = scorer10.score_many(texts)
    b = scorer10.score_many(list(reversed(texts)))[::-1]
    c = RubricScorer(rubric10, embedder=embedder).score_many(texts)  # fresh cache
    d = [scorer10.score(g, t) for g, t in texts]
    for x, y, z, w in zip(a, b, c, d):
        assert x == y == z == w


def test_fresh_rubric_load_same_results(embedder):
    from pathlib import Path
    p = Path(__file__).resolve().parents[2] / "rubrics" / "week11_gated.yaml"
    t = "Teacher forcing feeds the true previous token during training; faster training; exposure bias at test time."
    r1 = RubricScorer(load_rubric(p), embedder=embedder).score("w11_explain_teacher_forcing", t)
    r2 = RubricScorer(load_rubric(p), embedder=embedder).score("w11_explain_teacher_forcing", t)
    assert r1 == r2 and r1.points == 3
