"""Evidence that Week 10's hidden tests are right: the solution gets full marks, every
mutant (a realistic student bug) loses points on its own grade_id, every fair variant
(a correct alternative) gets full marks, grading is deterministic, and no student-facing
message shows test source. All notebooks are graded in one check session."""
from __future__ import annotations

import pytest
import torch

from autograder.labs import load_lab
from autograder.release.generate import read_notebook
from autograder.scoring.check_runner import run_checks
from autograder.scoring.corpus import (
    apply_mutant, apply_variant, caught_correctly, grade_notebooks, load_fair_variants, load_mutants,
)
from autograder.scoring.inprocess import probes_of, program_for, run_in_process
from autograder.scoring.points import load_points, max_points_by_grade_id

LAB = "week10_rnn"
MUTANTS = load_mutants(LAB)
VARIANTS = load_fair_variants(LAB)
LEAK_MARKERS = ("def test_", "expect(", "assert", "Traceback", "probes[", "result(", "reference.py", "hidden/", "np.", "CheckFailed")


@pytest.fixture(scope="module")
def lab():
    return load_lab(LAB)


@pytest.fixture(scope="module")
def graded(lab):
    """sid -> VariantResult for the solution (twice), every mutant and every fair variant."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        solution = read_notebook(lab.notebook)
        notebooks = {"solution": solution, "solution_again": solution}
        notebooks.update({f"mutant:{m.id}": apply_mutant(solution, m) for m in MUTANTS})
        notebooks.update({f"fair:{v.id}": apply_variant(solution, v) for v in VARIANTS})
        return grade_notebooks(lab, notebooks)
    finally:
        torch.set_num_threads(threads)


def test_corpus_is_large_enough(lab):
    assert len(MUTANTS) >= 20 and len(VARIANTS) >= 6
    assert {m.grade_id for m in MUTANTS} == set(lab.code_items)
    assert {v.grade_id for v in VARIANTS} == set(lab.code_items)


def test_points_cover_every_code_cell(lab):
    totals = max_points_by_grade_id(load_points(lab.hidden_dir / "points.yaml"))
    assert set(totals) == set(lab.code_items)
    assert all(6 <= p <= 12 for p in totals.values())


def test_solution_gets_full_marks(graded):
    outcomes = graded["solution"].outcomes
    assert outcomes and [o.test for o in outcomes if o.status != "pass"] == []
    assert sum(o.points for o in outcomes) == sum(o.max_points for o in outcomes)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_mutant_is_caught_on_its_grade_id(graded, mutant):
    result = graded[f"mutant:{mutant.id}"]
    assert caught_correctly(mutant, result), f"{mutant.id}: lost {result.lost()}, failed {result.failed_tests()}"


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.id for v in VARIANTS])
def test_fair_variant_gets_full_marks(graded, variant):
    result = graded[f"fair:{variant.id}"]
    assert result.lost() == {}, f"{variant.id}: failed {result.failed_tests()}"


def test_grading_is_deterministic(lab, graded):
    first = [(o.test, o.status, o.points, o.message) for o in graded["solution"].outcomes]
    again = [(o.test, o.status, o.points, o.message) for o in graded["solution_again"].outcomes]
    assert first == again
    # Probe data too: two fresh runs of the same (buggy) submission give identical data.
    mutant = next(m for m in MUTANTS if m.id == "train_unseeded_shuffle")
    from autograder.execution.program import assemble
    from autograder.scoring.inprocess import trusted_notebook

    program = assemble(trusted_notebook(lab), apply_mutant(read_notebook(lab.notebook), mutant))
    probes = probes_of(lab)
    runs = [run_in_process(lab, program, probes).probes for _ in range(2)]
    strip = [{k: {kk: vv for kk, vv in v.items() if kk != "seconds"} for k, v in r.items()} for r in runs]
    assert strip[0] == strip[1]
    outcomes = run_checks(lab.hidden_dir, {"a": runs[0], "b": runs[1]})
    assert [(o.status, o.message) for o in outcomes["a"]] == [(o.status, o.message) for o in outcomes["b"]]


def test_failure_messages_show_no_test_source(graded):
    failures = [(sid, o) for sid, r in graded.items() for o in r.outcomes if o.status != "pass"]
    assert failures, "the mutants should produce failure messages to inspect"
    for sid, o in failures:
        assert o.message.strip(), f"{sid}/{o.test}: empty message"
        leaked = [m for m in LEAK_MARKERS if m in o.message]
        assert not leaked, f"{sid}/{o.test}: message shows {leaked}: {o.message}"
        assert "unexpected type or structure" not in o.message, f"{sid}/{o.test}: a check crashed instead of explaining: {o.message}"


def test_stub_submission_is_told_what_is_missing(lab, tmp_path):
    stub = tmp_path / "stub.py"
    stub.write_text("def clip_grad_norm(parameters, max_norm):\n    raise NotImplementedError()\n")
    outcomes = run_checks(lab.hidden_dir, {"stub": run_in_process(lab, program_for(lab, stub)).probes})["stub"]
    assert all(o.points == 0 for o in outcomes)
    clip = [o.message for o in outcomes if o.grade_id == "w10_clip"]
    assert clip and all("not implemented yet" in m for m in clip)
    cell = [o.message for o in outcomes if o.grade_id == "w10_rnn_cell"]
    assert all("'RNNCell' is not defined" in m for m in cell)
