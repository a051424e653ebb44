"""Issue-level acceptance for the two labs: contract grade_ids, valid nbgrader
metadata, no leaked solutions, an up-to-date committed release, and both
versions executing in fast mode with the public checks behaving as promised."""
from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest
from nbgrader.nbgraderformat.v3 import MetadataValidatorV3

from autograder.authoring import cells as C
from autograder.labs import load_lab
from autograder.release.generate import find_leaks, read_notebook, release_lab

# From ../shared/spec/lab-contract.md (the fixed interface).
CONTRACT = {
    "week10_rnn": {
        "code": ["w10_rnn_cell", "w10_classifier", "w10_grad_norms", "w10_clip", "w10_train"],
        "written": {
            "w10_predict_length": "how will the gradient norm reaching the first step change as the sequence grows longer",
            "w10_probe_length": "what did the plot show, and did it match your prediction",
            "w10_explain_vanishing": "Why do gradients vanish or explode in a plain RNN trained with BPTT",
            "w10_explain_clipping": "Does gradient clipping fix vanishing or exploding gradients",
            "w10_explain_weight_sharing": "Does an unrolled RNN have a separate set of weights for each time step",
        },
    },
    "week11_gated": {
        "code": ["w11_lstm_cell", "w11_gru_cell", "w11_compare", "w11_ablation", "w11_encoder", "w11_decoder", "w11_seq2seq"],
        "written": {
            "w11_predict_length": "how will the plain RNN, the LSTM and the GRU compare on short versus long sequences",
            "w11_predict_gates": "which gate will matter most, and why",
            "w11_probe_results": "what did the comparison and ablation show, and where was your prediction wrong",
            "w11_explain_ablation": "what does each gate do, and why did removing it help or hurt",
            "w11_explain_gradient_flow": "How does gating preserve the gradient signal where the plain RNN failed",
            "w11_explain_lstm_vs_gru": "Compare the LSTM with the GRU",
            "w11_explain_teacher_forcing": "What is teacher forcing, why is it used, and what is its drawback at inference time",
        },
    },
}
LABS = sorted(CONTRACT)


def _versions(name):
    lab = load_lab(name)
    return lab, {"solution": lab.notebook, "source": lab.source_notebook, "release": lab.release_notebook}


@pytest.mark.parametrize("name", LABS)
def test_lab_yaml_matches_the_contract(name):
    lab = load_lab(name)
    assert list(lab.code_items) == CONTRACT[name]["code"]
    assert sorted(lab.written_items) == sorted(CONTRACT[name]["written"])


@pytest.mark.parametrize("name", LABS)
@pytest.mark.parametrize("version", ["solution", "source", "release"])
def test_every_contract_grade_id_once_with_valid_nbgrader_metadata(name, version):
    lab, paths = _versions(name)
    nb = read_notebook(paths[version])
    MetadataValidatorV3().validate_nb(nb)  # nbgrader's own validator (raises on invalid metadata)
    found = C.cells_by_grade_id(nb)
    for gid in [*CONTRACT[name]["code"], *CONTRACT[name]["written"]]:
        assert len(found.get(gid, [])) == 1, f"{gid} in {version}"
        meta = C.nbgrader_meta(nb.cells[found[gid][0]])
        assert meta["schema_version"] == 3 and meta["solution"] is True
        assert {"grade_id", "solution", "grade", "locked", "points"} <= set(meta)
    for gid, phrase in CONTRACT[name]["written"].items():
        cell = nb.cells[found[gid][0]]
        assert cell.cell_type == "markdown" and meta_is_graded(cell)
        before = " ".join(C.source_text(c) for c in nb.cells[: found[gid][0]])
        assert phrase.lower() in " ".join(before.split()).lower(), f"question for {gid} not shown before its answer cell"


def meta_is_graded(cell) -> bool:
    return bool(C.nbgrader_meta(cell).get("grade"))


@pytest.mark.parametrize("name", LABS)
def test_release_leaks_no_solution_and_hidden_tests_never_ship(name):
    lab, paths = _versions(name)
    solution, release = read_notebook(paths["solution"]), read_notebook(paths["release"])
    assert find_leaks(solution, release) == []
    release_dir = paths["release"].parent
    shipped = {p.relative_to(release_dir).as_posix() for p in release_dir.rglob("*") if p.is_file()}
    assert shipped == {f"{name}.ipynb"} | {f"tests/{p.name}" for p in lab.public_dir.glob("*.py")}
    for public in lab.public_dir.glob("*.py"):
        assert "points.yaml" not in public.read_text() and "thresholds" not in public.read_text()


@pytest.mark.parametrize("name", LABS)
def test_committed_release_is_what_release_generates(name, tmp_path):
    lab = load_lab(name)
    regenerated = release_lab(replace(lab, assignments_dir=tmp_path))
    assert regenerated.release.read_bytes() == lab.release_notebook.read_bytes(), "run `make release` and commit"
    assert regenerated.source.read_bytes() == lab.source_notebook.read_bytes(), "run `make release` and commit"


def _execute(notebook: Path, tmp_path: Path) -> nbformat.NotebookNode:
    """Execute a copy (with its tests/ folder) in fast mode, like a student would."""
    work = tmp_path / notebook.parent.name
    shutil.copytree(notebook.parent, work)
    import nbclient

    nb = nbformat.read(str(work / notebook.name), as_version=4)
    env_before = os.environ.get("LAB_FAST")
    os.environ["LAB_FAST"] = "1"
    try:
        nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(work)}}).execute()
    finally:
        if env_before is None:
            os.environ.pop("LAB_FAST", None)
        else:
            os.environ["LAB_FAST"] = env_before
    return nb


def _check_outputs(nb) -> dict[str, str]:
    out = {}
    for cell in nb.cells:
        if C.is_public_check(cell):
            text = ""
            for o in cell.get("outputs", []):
                text += o.get("text", "") + o.get("data", {}).get("text/plain", "")
            out[C.grade_id(cell)] = text
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", LABS)
def test_solution_runs_in_fast_mode_and_public_checks_pass(name, tmp_path):
    _, paths = _versions(name)
    checks = _check_outputs(_execute(paths["source"], tmp_path))
    assert checks, "no public-check cells"
    for gid, text in checks.items():
        assert "passed" in text and "failed" not in text, f"{gid}: {text[:300]}"


@pytest.mark.slow
@pytest.mark.parametrize("name", LABS)
def test_release_runs_with_stubs_and_public_checks_fail_clearly(name, tmp_path):
    _, paths = _versions(name)
    nb = _execute(paths["release"], tmp_path)  # raises CellExecutionError if any cell crashes
    checks = _check_outputs(nb)
    assert checks
    for gid, text in checks.items():
        assert "failed" in text.lower(), f"{gid} should fail on the stubs: {text[:300]}"
        assert "passed!" not in text
