"""The sample class (autograder.demo.sample_class): deterministic, realistic, and what it claims to be.

Everything here is static (no notebook runs): the manifest's claims are checked
against the files with the grader's own intake and assembly code. The graded
check (the grader concludes what the manifest expects) is in
tests/test_example_course_e2e.py (toy lab, fast) and in `make demo` (both labs).
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.authoring import cells as C
from autograder.demo.sample_class import (
    HOSTILE_KINDS, PLAN, _load_answers, build_class, build_lab, build_sample_class, release_notebook,
)
from autograder.execution.program import assemble
from autograder.intake import collect
from autograder.intake.validate import IntakeError, lab_grade_ids, parse_submission
from autograder.labs import load_lab

LABS = ["week10_rnn", "week11_gated"]


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    manifest = build_sample_class(out, 20, seed=0)
    return out, manifest


def test_deterministic(sample, tmp_path):
    out, manifest = sample
    again = build_sample_class(tmp_path / "again", 20, seed=0)
    assert again == manifest
    assert _digest(out) == _digest(tmp_path / "again")
    other = build_sample_class(tmp_path / "other", 20, seed=1)
    assert other != manifest


def test_every_category_and_written_style(sample):
    _, manifest = sample
    for lab in LABS:
        students = manifest["labs"][lab]["students"]
        assert len(students) == 20
        kinds = {s["hostile"] or s["category"] for s in students.values()}
        assert {"correct", "fair", "mutant", "stub", *HOSTILE_KINDS} <= kinds
        assert any(s["fair_variants"] for s in students.values())
        assert any(len(s["mutants"]) == 2 for s in students.values())
        styles = {w["style"] for s in students.values() for w in s["written"].values()}
        assert {"full", "partial", "misconception", "paraphrase", "keyword_salad", "empty"} <= styles, styles
        names = [s["name"] for s in students.values()]
        assert len(set(names)) == len(names)


def test_canvas_zip_layout_and_resubmission(sample):
    out, manifest = sample
    entry = manifest["labs"]["week10_rnn"]
    assert entry["layout"] == "canvas"
    zpath = out / entry["submissions"]
    with zipfile.ZipFile(zpath) as zf:
        names = zf.namelist()
    assert any(n.endswith("-2.ipynb") for n in names) and any(n.endswith("-1.ipynb") for n in names)
    assert any("_late_" in n for n in names)
    with collect(zpath, "week10_rnn") as intake:
        assert intake.layout == "canvas"
        got = {c.student_id: c for c in intake.candidates}
    assert set(got) == set(entry["students"])
    for sid, st in entry["students"].items():
        assert got[sid].source.endswith(st["graded_file"]), (sid, got[sid].source)
        if st["attempt"]:
            assert got[sid].attempt == st["attempt"] and len(st["files"]) == 3
        assert got[sid].late == st["late"]


def test_nbgrader_layout(sample):
    out, manifest = sample
    entry = manifest["labs"]["week11_gated"]
    assert entry["layout"] == "nbgrader"
    with collect(out / entry["submissions"], "week11_gated") as intake:
        assert intake.layout == "nbgrader"
        got = {c.student_id: c for c in intake.candidates}
    assert set(got) == set(entry["students"])
    assert all(got[sid].timestamp for sid in got)


@pytest.mark.parametrize("lab_name", LABS)
def test_notebooks_are_what_the_manifest_says(lab_name, tmp_path):
    """Assemble each notebook as the grader would: issues, answers and locked cells match the claims."""
    lab = load_lab(lab_name)
    cls = build_lab(lab_name, 20, 0, tmp_path / "subs", "folder")
    release = release_notebook(lab)
    labelled = {a["id"]: a for answers in _load_answers(lab).values() for a in answers}
    ids = lab_grade_ids(release)
    locked = {C.grade_id(c): C.source_text(c) for _, c in C.iter_graded_cells(release)
              if C.is_locked(c) and not C.is_solution(c)}
    for sid, st in cls.students.items():
        data = (tmp_path / "subs" / f"{sid}.ipynb").read_bytes()
        if st.hostile in ("invalid_json", "wrong_lab"):
            with pytest.raises(IntakeError):
                parse_submission(data, ids, lab_name)
            continue
        nb = parse_submission(data, ids, lab_name)
        program = assemble(release, nb)
        kinds = {i.kind for i in program.issues}
        assert kinds == set(st.expect["issues"]), (sid, st.hostile, program.issues)
        # locked cells carry the release's text (and checksums) except the one a tamperer edited
        sub_locked = {C.grade_id(c): C.source_text(c) for _, c in C.iter_graded_cells(nb)
                      if C.grade_id(c) in locked}
        edited = {g for g, src in sub_locked.items() if src != locked[g]}
        assert edited == ({st.expect["tampered"]} if st.hostile == "tampered_locked" else set()), sid
        # written answers are the labelled ones the manifest names
        for gid, w in st.written.items():
            assert gid in program.written
            if w["answer_id"] in labelled:
                assert program.written[gid].strip() == str(labelled[w["answer_id"]]["text"] or "").strip(), (sid, gid)
        if st.category == "stub":
            assert all("NotImplementedError" in c.source or not c.source.strip() for c in program.student_cells())
        if st.mutants:
            assert all(m["grade_id"] in lab.code_items for m in st.mutants)


def test_solution_markers_never_reach_students(sample):
    out, _ = sample
    for path in out.rglob("*.ipynb"):
        text = path.read_text(errors="replace")
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, path


def test_build_class_cycles_for_a_bench(tmp_path):
    paths = build_class("week10_rnn", 45, 3, tmp_path / "bench")
    assert len(paths) == 45 and len({p.name for p in paths}) == 45
    assert all(p.exists() and p.suffix == ".ipynb" for p in paths)
    cls = build_lab("week10_rnn", 45, 3, tmp_path / "bench2", hostile=False)
    assert not any(s.hostile for s in cls.students.values())
    assert len(PLAN) == 20
    manifest = json.loads(json.dumps(cls.manifest()))
    assert len(manifest["students"]) == 45
