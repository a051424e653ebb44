"""Polarity at the clause level: negations, disavowed misconceptions, hypotheticals."""
from __future__ import annotations


def decisions(result):
    return {d.item_id: d.decision for d in result.items}


def test_clipping_does_not_fix_vanishing(scorer10):
    r = scorer10.score("w10_explain_clipping", "Clipping does not fix vanishing gradients.")
    d = decisions(r)
    assert d["not_vanishing"] == "credited"
    assert d["clipping_fixes_vanishing"] == "not_triggered"
    assert r.points == 1


def test_clipping_fixes_vanishing_is_the_misconception(scorer10):
    r = scorer10.score("w10_explain_clipping", "Clipping fixes vanishing gradients.")
    d = decisions(r)
    assert d["clipping_fixes_vanishing"] == "triggered"
    assert d["not_vanishing"] == "not_credited"
    assert r.points == 0


def test_negation_scope_ends_at_the_clause(scorer10):
    r = scorer10.score("w10_explain_clipping",
                       "Clipping doesn't fix exploding gradients, it fixes vanishing gradients.")
    d = decisions(r)
    assert d["caps_exploding"] == "not_credited"      # negated in its own clause
    assert d["clipping_fixes_vanishing"] == "triggered"  # the second clause is affirmed
    r = scorer10.score("w10_explain_clipping",
                       "Clipping can't fix vanishing gradients, it only fixes exploding ones by capping the norm. "
                       "For vanishing you need an LSTM or a GRU.")
    assert r.points == 3 and decisions(r)["clipping_fixes_vanishing"] == "not_triggered"


def test_reported_misconception_is_not_asserted(scorer10):
    r = scorer10.score("w10_explain_clipping",
                       "A common misconception is that clipping fixes vanishing gradients. It doesn't: it only "
                       "rescales large gradients, so it handles exploding ones. Vanishing gradients need gating.")
    assert decisions(r)["clipping_fixes_vanishing"] == "not_triggered"
    assert r.points == 3


def test_separate_weights_negated_vs_asserted(scorer10):
    neg = scorer10.score("w10_explain_weight_sharing", "It doesn't have separate weights per step.")
    pos = scorer10.score("w10_explain_weight_sharing", "It has separate weights per step.")
    assert decisions(neg)["separate_weights"] == "not_triggered"
    assert decisions(neg)["answer_no"] == "credited"
    assert decisions(pos)["separate_weights"] == "triggered"
    assert decisions(pos)["answer_no"] != "credited"
    assert pos.points == 0


def test_hypothetical_is_not_asserted(scorer10):
    r = scorer10.score("w10_explain_weight_sharing",
                       "No: the parameter count doesn't grow with T, which would be impossible if every step "
                       "had its own weights.")
    assert decisions(r)["separate_weights"] == "not_triggered"
    assert decisions(r)["answer_no"] == "credited" and decisions(r)["defense"] == "credited"


def test_more_parameters_misconception_polarity(scorer11):
    said = scorer11.score("w11_explain_gradient_flow",
                          "LSTMs preserve gradients better simply because they have more parameters.")
    denied = scorer11.score("w11_explain_gradient_flow",
                            "It is not because LSTMs have more parameters: the cell state is updated additively, "
                            "c_t = f*c_{t-1} + i*g, so the gradient is only multiplied by f, which stays near 1.")
    assert decisions(said)["more_parameters"] == "triggered" and said.points == 0
    assert decisions(denied)["more_parameters"] == "not_triggered"
    assert denied.points >= 2


def test_honest_negative_report_keeps_credit(scorer11):
    """Probe answers are graded on an honest report: 'did not match' is still a comparison."""
    r = scorer11.score("w11_probe_results",
                       "The RNN did not solve any of the 5 seeds at T=50, while LSTM and GRU solved all 5. "
                       "Removing the forget gate did not hurt at all (5/5), the input ablation dropped to 1/5. "
                       "My prediction was wrong about the forget gate.")
    assert r.points == 4


def test_forget_gate_misconception_and_own_results(scorer11):
    claim = scorer11.score("w11_explain_ablation",
                           "Removing the forget gate destroyed the memory, so accuracy dropped to chance.")
    own = scorer11.score("w11_explain_ablation",
                         "In my runs removing the forget gate destroyed the memory on 3 of 5 seeds.")
    assert decisions(claim)["forget_destroys_memory"] == "triggered"
    assert decisions(own)["forget_destroys_memory"] == "needs_review"  # the student's own results may show it
    assert own.item("forget_destroys_memory").proposal == "triggered"
