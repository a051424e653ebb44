"""The Week 11 hidden suite itself: right on the solution, every mutant caught on its
own grade_id, every fair variant at full marks, deterministic, no test source in
any message, and calibrated thresholds that separate what they must separate.

All submissions (solution twice, mutants, fair variants) are probed first and then
checked in ONE run_checks session (module-scoped fixture), as batch grading does.
"""
from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
import yaml

from autograder.config import REPO_ROOT
from autograder.execution.program import assemble
from autograder.labs import load_lab
from autograder.release.generate import read_notebook
from autograder.scoring.check_runner import run_checks
from autograder.scoring.corpus import (
    VariantResult, apply_mutant, apply_variant, caught_correctly, load_fair_variants, load_mutants,
)
from autograder.scoring.inprocess import probes_of, run_in_process, trusted_notebook
from autograder.scoring.points import load_points

LAB = "week11_gated"
HIDDEN = REPO_ROOT / "solutions" / LAB / "hidden"
MUTANTS = load_mutants(LAB)
FAIR = load_fair_variants(LAB)

pytestmark = pytest.mark.skipif(not (REPO_ROOT / "solutions" / LAB / f"{LAB}.ipynb").exists(),
                                reason="the Week 11 solution notebook does not exist yet")


@pytest.fixture(scope="module")
def graded():
    """sid -> (probe data, outcomes): solution, solution again, every mutant and fair variant."""
    import torch

    torch.set_num_threads(1)
    lab = load_lab(LAB)
    solution = read_notebook(lab.notebook)
    trusted = trusted_notebook(lab)
    probes = probes_of(lab)
    notebooks = {"solution": solution, "solution_again": solution}
    notebooks.update({f"mutant:{m.id}": apply_mutant(solution, m) for m in MUTANTS})
    notebooks.update({f"fair:{v.id}": apply_variant(solution, v) for v in FAIR})
    data = {sid: run_in_process(lab, assemble(trusted, nb), probes).probes for sid, nb in notebooks.items()}
    outcomes = run_checks(lab.hidden_dir, data)
    return {sid: (data[sid], outcomes[sid]) for sid in data}


# (a) ------------------------------------------------------------------------------------

def test_solution_gets_full_marks(graded):
    _, outcomes = graded["solution"]
    failed = {o.test: o.message for o in outcomes if o.status != "pass"}
    assert not failed, failed
    specs = load_points(HIDDEN / "points.yaml")
    assert sum(o.points for o in outcomes) == sum(s.points for s in specs.values())


def test_every_code_grade_id_has_points():
    specs = load_points(HIDDEN / "points.yaml")
    assert {s.grade_id for s in specs.values()} == {
        "w11_lstm_cell", "w11_gru_cell", "w11_compare", "w11_ablation", "w11_encoder", "w11_decoder", "w11_seq2seq"}


# (b) ------------------------------------------------------------------------------------

def test_mutation_corpus_is_large_enough():
    assert len(MUTANTS) >= 22
    for m in MUTANTS:
        assert m.description, f"mutant {m.id} needs a description"


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_mutant_is_caught_on_its_grade_id(graded, mutant):
    _, outcomes = graded[f"mutant:{mutant.id}"]
    result = VariantResult(mutant.id, outcomes)
    assert caught_correctly(mutant, result), (
        f"{mutant.id} ({mutant.description}) lost {result.lost()} (must lose on {mutant.grade_id}, "
        f"may also lose on {list(mutant.also_loses)})")


# (c) ------------------------------------------------------------------------------------

def test_fairness_corpus_is_large_enough():
    assert len(FAIR) >= 7


@pytest.mark.parametrize("variant", FAIR, ids=[v.id for v in FAIR])
def test_fair_variant_gets_full_marks(graded, variant):
    _, outcomes = graded[f"fair:{variant.id}"]
    failed = {o.test: o.message for o in outcomes if o.status != "pass"}
    assert not failed, failed


# (d) ------------------------------------------------------------------------------------

def _strip_timing(probes: dict) -> dict:
    return {name: {k: v for k, v in entry.items() if k != "seconds"} for name, entry in probes.items()}


def test_probes_and_verdicts_are_deterministic(graded):
    data_1, out_1 = graded["solution"]
    data_2, out_2 = graded["solution_again"]
    assert _strip_timing(data_1) == _strip_timing(data_2)
    assert [(o.test, o.status, o.message) for o in out_1] == [(o.test, o.status, o.message) for o in out_2]


# (e) ------------------------------------------------------------------------------------

def _code_lines() -> list[str]:
    lines = []
    for path in sorted(HIDDEN.glob("*.py")):
        for line in path.read_text().splitlines():
            s = line.strip()
            if len(s) < 20 or s.startswith(("#", '"', "'", 'f"', "f'")):
                continue
            lines.append(s)
    return lines


def test_no_message_contains_test_source(graded):
    code = _code_lines()
    seen = 0
    for sid, (_, outcomes) in graded.items():
        for o in outcomes:
            if o.status == "pass":
                continue
            seen += 1
            msg = o.message
            assert msg and len(msg) < 1200, (sid, o.test, msg)
            for marker in ("Traceback", "test_week11_gated", "probes.py", "expect(", "assert ", "def test_",
                           "THRESHOLDS", "EQ_TOL", "lstm_fb1_min", "__tensor__"):
                assert marker not in msg, (sid, o.test, marker, msg)
            for line in code:
                assert line not in msg, (sid, o.test, line)
    assert seen >= len(MUTANTS)


# (f) ------------------------------------------------------------------------------------

def _thresholds() -> dict:
    path = HIDDEN / "thresholds.yaml"
    assert path.exists(), "run solutions/week11_gated/hidden/calibrate_thresholds.py"
    return yaml.safe_load(path.read_text())


def _probes_module():
    spec = importlib.util.spec_from_file_location("_w11_probes_selftest", HIDDEN / "probes.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_thresholds_match_the_probe_protocol():
    cal = _thresholds()["calibration"]["protocol"]
    probes = _probes_module()
    assert (cal["T"], cal["H"], cal["D"], cal["batch"], cal["probe_seeds"]) == (
        probes.GRAD_T, probes.GRAD_H, probes.GRAD_D, probes.GRAD_B, probes.GRAD_SEEDS)


def test_thresholds_sit_between_the_measured_distributions():
    th = _thresholds()
    cal = th["calibration"]
    thr, inc_thr = th["lstm_fb1_min_log10_ratio"], th["lstm_fb_min_increase"]
    margin, inc_margin = cal["required_margin"], cal["required_increase_margin"]
    measured = cal["measured"]
    lstm = {k: v for k, v in measured.items() if k.startswith("lstm/")}
    rnn = {k: v for k, v in measured.items() if k.startswith("rnn/")}
    assert len(lstm) >= 4 and rnn, "calibrate over the reference, the fair layouts and the RNN anchor"
    for name, row in lstm.items():
        assert min(row["forget_bias_1"]["block_medians"]) >= thr + margin, name
        assert max(row["forget_bias_0"]["block_medians"]) <= thr - margin, name
        for a, b in (("0", "1"), ("1", "3")):
            lo, hi = row[f"forget_bias_{a}"]["block_medians"], row[f"forget_bias_{b}"]["block_medians"]
            assert min(y - x for x, y in zip(lo, hi)) >= inc_thr + inc_margin, (name, a, b)
    for name, row in rnn.items():
        assert max(row["plain"]["block_medians"]) <= th["rnn_max_log10_ratio"] - margin, name


def test_solution_and_rnn_anchor_against_thresholds(graded):
    """The solution's own probe medians clear the threshold; the plain RNNCell that the
    notebook provides (the calibration anchor, no points) stays below it."""
    import torch

    th = _thresholds()
    margin = th["calibration"]["required_margin"]
    data, _ = graded["solution"]
    ratios = data["lstm_grad_ratio"]["data"]
    medians = dict(zip(ratios["forget_biases"], (float(np.median(r)) for r in ratios["log10_ratio"])))
    assert medians[1.0] >= th["lstm_fb1_min_log10_ratio"] + margin
    lab = load_lab(LAB)
    from autograder.execution.run_cells import new_namespace, run_program

    ns = new_namespace()
    program = assemble(trusted_notebook(lab), read_notebook(lab.notebook))
    run_program(program, ns)
    probes = _probes_module()
    rnn = [probes._grad_ratio(ns["RNNCell"](probes.GRAD_D, probes.GRAD_H), s) for s in probes.GRAD_SEEDS]
    assert float(np.median(rnn)) <= th["rnn_max_log10_ratio"] - margin
