"""The release -> assemble -> probe -> check path on the example lab (not an RNN lab)."""
from __future__ import annotations

import copy

import pytest

from autograder.authoring import cells as C
from autograder.config import load_config
from autograder.execution.program import assemble
from autograder.labs import load_lab
from autograder.release.generate import ReleaseError, find_leaks, read_notebook, release_lab, validate_solution
from autograder.scoring.check_runner import CheckSuiteError, run_checks
from autograder.scoring.inprocess import run_in_process, trusted_notebook
from autograder.scoring.probe import NotPlainData, to_plain


@pytest.fixture
def lab(example_course):
    return load_lab("toy_affine", load_config(example_course))


def test_release_is_deterministic_and_strips_solutions(lab):
    first = release_lab(lab)
    bytes_1 = first.release.read_bytes(), first.source.read_bytes()
    second = release_lab(lab)
    assert (second.release.read_bytes(), second.source.read_bytes()) == bytes_1
    release = read_notebook(first.release)
    text = "\n".join(C.source_text(c) for c in release.cells)
    assert "return x @ w + b" not in text
    assert "raise NotImplementedError()" in text
    assert "YOUR ANSWER HERE" in text
    assert "The bias shifts every output" not in text
    assert (first.release.parent / "tests" / "toy_affine_fn.py").exists()
    assert first.public_checks == ("toy_affine_fn",)
    for cell in release.cells:
        if C.is_locked(cell):
            assert cell.metadata["editable"] is False and "checksum" in cell.metadata["nbgrader"]


def test_leak_detector_catches_a_solution_line(lab):
    solution = read_notebook(lab.notebook)
    leaky = read_notebook(release_lab(lab).release)
    assert find_leaks(solution, leaky) == []
    leaky.cells[0].source += "\n    return x @ w + b"
    assert find_leaks(solution, leaky) == ["return x @ w + b"]


def test_release_refuses_duplicate_grade_id(lab):
    solution = read_notebook(lab.notebook)
    solution.cells.append(copy.deepcopy(solution.cells[2]))
    with pytest.raises(ReleaseError, match="Duplicate grade id|appears 2 times"):
        validate_solution(solution, lab)


def test_assemble_uses_trusted_provided_cells_and_records_issues(lab):
    release_lab(lab)
    trusted = trusted_notebook(lab)
    sub = copy.deepcopy(read_notebook(lab.notebook))
    sub.cells[1].source = "import os\nos.system('echo hacked')"  # tampered provided cell
    sub.cells.append(copy.deepcopy(sub.cells[2]))  # duplicated answer cell
    del sub.cells[6]  # deleted written answer
    program = assemble(trusted, sub)
    kinds = sorted(i.kind for i in program.issues)
    assert kinds == ["duplicate_cell", "missing_cell", "tampered_cell"]
    provided = [c for c in program.cells if c.origin == "provided"]
    assert all("hacked" not in c.source for c in provided)
    assert [c.grade_id for c in program.cells] == ["toy_provided_setup", "toy_affine_fn"]  # no experiment, no check


def test_checks_decide_on_probe_data(lab):
    release_lab(lab)
    trusted = trusted_notebook(lab)
    solution = read_notebook(lab.notebook)
    buggy = copy.deepcopy(solution)
    buggy.cells[2].source = buggy.cells[2].source.replace("x @ w + b", "x @ w")
    stub = read_notebook(lab.release_notebook)
    data = {sid: run_in_process(lab, assemble(trusted, nb)).probes for sid, nb in
            [("good", solution), ("buggy", buggy), ("stub", stub)]}
    outcomes = run_checks(lab.hidden_dir, data)
    status = {sid: [o.status for o in outs] for sid, outs in outcomes.items()}
    assert status == {"good": ["pass", "pass"], "buggy": ["pass", "fail"], "stub": ["error", "error"]}
    assert sum(o.points for o in outcomes["good"]) == 3
    message = outcomes["buggy"][1].message
    assert "x @ w + b" in message and "def test" not in message
    assert "NotImplementedError" in outcomes["stub"][0].message


def test_points_file_must_match_the_tests(lab, tmp_path):
    (lab.hidden_dir / "points.yaml").write_text("toy_affine_fn:\n  test_affine_shape: {points: 1, title: t}\n")
    with pytest.raises(CheckSuiteError, match="no points for"):
        run_checks(lab.hidden_dir, {"s": {}})


def test_to_plain_refuses_objects_and_encodes_tensors():
    import torch

    class Liar:
        def __eq__(self, other):
            return True

    with pytest.raises(NotPlainData):
        to_plain({"x": Liar()})
    enc = to_plain({"t": torch.ones(2, 3), "n": [1, 2.5, None, True]})
    assert enc["t"]["__tensor__"]["shape"] == [2, 3] and enc["n"] == [1, 2.5, None, True]
