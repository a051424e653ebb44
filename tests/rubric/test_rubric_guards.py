"""Answer-level guards: keyword salad, empty answers, off-topic answers."""
from __future__ import annotations

import pytest

SALADS = [
    ("w10_explain_vanishing", "BPTT, chain rule, W_hh, eigenvalues < 1, exponential, tanh', long-range dependencies"),
    ("w10_explain_clipping", "clipping, exploding, vanishing, LSTM, GRU, gating, norm"),
    ("w10_explain_weight_sharing", "weights, same, every step, unrolled, shared, parameters, time"),
]


@pytest.mark.parametrize("grade_id,text", SALADS)
def test_keyword_salad_gets_no_credit(scorer10, grade_id, text):
    r = scorer10.score(grade_id, text)
    assert r.points == 0
    assert "keyword_salad" in r.flags
    assert all(d.decision in ("not_credited", "not_triggered") for d in r.items)
    assert "list" in r.message.lower()


def test_salad_guard_spares_terse_real_answers(scorer10):
    r = scorer10.score("w10_explain_vanishing",
                       "Product of T Jacobians W_hh*tanh': rho<1 -> vanishes, rho>1 -> explodes, exponentially in T.")
    assert "keyword_salad" not in r.flags and r.points >= 2


@pytest.mark.parametrize("text", ["", "   ", "TODO", "n/a", "I don't know.", None])
def test_empty_answer_scores_zero(scorer10, text):
    r = scorer10.score("w10_explain_clipping", text)
    assert r.points == 0 and not r.needs_review
    assert "empty" in r.flags and "no answer" in r.message.lower()
    assert all(d.points == 0 for d in r.items)


def test_off_topic_answer_scores_zero(scorer10):
    r = scorer10.score("w10_explain_weight_sharing", "I had pizza for lunch and it was great.")
    assert r.points == 0 and "off_topic" in r.flags
    assert "does not seem to address" in r.message


def test_unknown_grade_id(scorer10):
    with pytest.raises(KeyError, match="w10_nope"):
        scorer10.score("w10_nope", "text")
