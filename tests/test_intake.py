"""Intake: the three layouts, Canvas resubmissions, unsafe zips and symlinks, per-file validation."""
from __future__ import annotations

import io
import json
import os
import stat
import zipfile

import pytest

from autograder.intake import IntakeError, collect, lab_grade_ids, parse_submission
from autograder.intake.collect import CANVAS_NAME, safe_student_id
from grading_helpers import GOOD, BUGGY, dumps, toy_solution, variant

LAB = "toy_affine"


def by_sid(result):
    return {c.student_id: c for c in result.candidates}


def test_folder_layout(tmp_path):
    (tmp_path / "alice.ipynb").write_bytes(dumps(variant(GOOD)))
    (tmp_path / "bob.ipynb").write_bytes(dumps(variant(BUGGY)))
    (tmp_path / "README.md").write_text("not a submission")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "alice-checkpoint.ipynb").write_text("{}")
    result = collect(tmp_path, LAB)
    assert result.layout == "folder"
    assert [c.student_id for c in result.candidates] == ["alice", "bob"]
    assert all(c.error is None and c.data for c in result.candidates)
    assert result.ignored == ["README.md"]


@pytest.mark.parametrize("nested", [False, True])
def test_nbgrader_layout_with_timestamp(tmp_path, nested):
    for sid in ("s001", "s002"):
        folder = tmp_path / "submitted" / sid / (LAB if nested else "")
        folder.mkdir(parents=True)
        (folder / f"{LAB}.ipynb").write_bytes(dumps(variant(GOOD)))
    (tmp_path / "submitted" / "s001" / (LAB if nested else "") / "timestamp.txt").write_text("2025-11-20 17:03:11.123456 UTC\n")
    result = collect(tmp_path, LAB)
    assert result.layout == "nbgrader"
    cands = by_sid(result)
    assert sorted(cands) == ["s001", "s002"]
    assert cands["s001"].timestamp == "2025-11-20 17:03:11.123456 UTC"
    assert cands["s002"].timestamp is None


def test_nbgrader_renamed_notebook_and_ambiguous_folder(tmp_path):
    (tmp_path / "s1").mkdir()
    (tmp_path / "s1" / f"{LAB}.ipynb").write_bytes(dumps(variant(GOOD)))
    (tmp_path / "s2").mkdir()
    (tmp_path / "s2" / "my copy.ipynb").write_bytes(dumps(variant(GOOD)))
    (tmp_path / "s3").mkdir()
    (tmp_path / "s3" / "a.ipynb").write_bytes(dumps(variant(GOOD)))
    (tmp_path / "s3" / "b.ipynb").write_bytes(dumps(variant(GOOD)))
    cands = by_sid(collect(tmp_path, LAB))
    assert cands["s1"].error is None and cands["s2"].error is None
    assert "several notebooks" in cands["s3"].error


def _canvas_zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_canvas_names():
    m = CANVAS_NAME.match("doe_jane_12345_67890_week10_rnn-2.ipynb")
    assert (m["name"], m["uid"], m["sub"], m["file"], m["attempt"], m["late"]) == ("doe_jane", "12345", "67890", "week10_rnn", "2", None)
    m = CANVAS_NAME.match("doejane_LATE_12345_67890_week10_rnn.ipynb")
    assert (m["name"], m["late"], m["attempt"]) == ("doejane", "LATE", None)
    assert CANVAS_NAME.match("alice.ipynb") is None


def test_canvas_zip_latest_attempt_counts(tmp_path):
    good, buggy = dumps(variant(GOOD)), dumps(variant(BUGGY))
    zpath = tmp_path / "download.zip"
    _canvas_zip(zpath, {
        "submissions/doe_jane_12345_67890_toy_affine.ipynb": buggy,
        "submissions/doe_jane_12345_67891_toy_affine-1.ipynb": buggy,
        "submissions/doe_jane_12345_67892_toy_affine-2.ipynb": good,
        "submissions/roe_rick_late_22222_77777_toy_affine.ipynb": good,
        "submissions/stray_notes.ipynb": good,
        "__MACOSX/submissions/._doe_jane_12345_67890_toy_affine.ipynb": b"junk",
    })
    result = collect(zpath, LAB)
    assert result.layout == "canvas" and "zip" in result.description
    cands = by_sid(result)
    jane = cands["doe_jane"]
    assert jane.data == good and jane.attempt == 2 and jane.lms_user_id == "12345"
    assert len(jane.superseded) == 2
    assert cands["roe_rick"].late is True and cands["roe_rick"].error is None
    assert "does not follow the LMS pattern" in cands["stray_notes"].error


def test_canvas_same_name_two_students_are_kept_apart(tmp_path):
    _canvas_zip(tmp_path / "d.zip", {"lee_sam_111_1_toy_affine.ipynb": dumps(variant(GOOD)),
                                     "lee_sam_222_2_toy_affine.ipynb": dumps(variant(BUGGY))})
    assert sorted(by_sid(collect(tmp_path / "d.zip", LAB))) == ["lee_sam_111", "lee_sam_222"]


def test_zip_traversal_symlink_bomb_and_corrupt_members(tmp_path):
    zpath = tmp_path / "evil.zip"
    bomb = b"0" * (3 * 1024 * 1024)  # inflates past a 1 MB cap
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ok.ipynb", dumps(variant(GOOD)))
        zf.writestr("../../escape.ipynb", dumps(variant(GOOD)))
        zf.writestr("/abs.ipynb", dumps(variant(GOOD)))
        link = zipfile.ZipInfo("linked.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("bomb.ipynb", bomb)
    result = collect(zpath, LAB, max_notebook_mb=1)
    cands = by_sid(result)
    assert cands["ok"].error is None
    assert "outside the archive" in cands["escape"].error
    assert "outside the archive" in cands["abs"].error
    assert "symbolic link" in cands["linked"].error
    assert "too large" in cands["bomb"].error
    assert not (tmp_path / "escape.ipynb").exists() and not (tmp_path.parent / "escape.ipynb").exists()


def test_lying_zip_header_is_capped_by_bytes_read(tmp_path):
    """A member whose declared size is small but inflates to more than the cap."""
    zpath = tmp_path / "liar.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.ipynb", b"1" * (2 * 1024 * 1024))
    raw = bytearray(zpath.read_bytes())
    # patch the uncompressed size (local header offset 22, central directory entry offset 24)
    cd = raw.rfind(b"PK\x01\x02")
    raw[22:26] = (100).to_bytes(4, "little")
    raw[cd + 24:cd + 28] = (100).to_bytes(4, "little")
    zpath.write_bytes(bytes(raw))
    cand = by_sid(collect(zpath, LAB, max_notebook_mb=1))["big"]
    assert cand.data is None and cand.error


def test_symlinks_are_never_followed(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    secret = tmp_path / "secret.ipynb"
    secret.write_bytes(dumps(variant(GOOD)))
    (subs / "alice.ipynb").write_bytes(dumps(variant(GOOD)))
    os.symlink(secret, subs / "mallory.ipynb")
    cands = by_sid(collect(subs, LAB))
    assert cands["mallory"].data is None and "symbolic link" in cands["mallory"].error
    # nbgrader tree: a linked student folder
    tree = tmp_path / "tree"
    (tree / "s1").mkdir(parents=True)
    (tree / "s1" / f"{LAB}.ipynb").write_bytes(dumps(variant(GOOD)))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / f"{LAB}.ipynb").write_bytes(dumps(variant(GOOD)))
    os.symlink(outside, tree / "s2")
    cands = by_sid(collect(tree, LAB))
    assert cands["s1"].error is None
    assert "symbolic link" in cands["s2"].error


def test_size_cap_on_folder_files(tmp_path):
    (tmp_path / "big.ipynb").write_bytes(b" " * (2 * 1024 * 1024))
    cand = by_sid(collect(tmp_path, LAB, max_notebook_mb=1))["big"]
    assert cand.data is None and "too large" in cand.error and "limit is 1.0 MB" in cand.error


def test_student_ids_are_safe_file_names():
    assert safe_student_id("../../etc/passwd") == "_.._etc_passwd"
    assert safe_student_id("jane doe") == "jane_doe"
    assert safe_student_id("") == "unknown"


# -- validation --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lab_ids():
    return lab_grade_ids(toy_solution())


def test_validation_errors(lab_ids):
    cases = {
        b"": "empty",
        b"{not json": "invalid JSON",
        b"\xff\xfe\x00junk": "not UTF-8",
        b"[1, 2]": "not a notebook",
        json.dumps({"nbformat": 5, "cells": []}).encode(): "newer",
        json.dumps({"metadata": {}}).encode(): "no 'nbformat'",
        b"[" * 100000 + b"]" * 100000: "nested too deeply",
    }
    for data, expected in cases.items():
        with pytest.raises(IntakeError, match=expected):
            parse_submission(data, lab_ids, LAB)


def test_wrong_assignment(lab_ids):
    other = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "w11_lstm_cell", "solution": True}}, "source": "x = 1"}]}
    with pytest.raises(IntakeError, match="not this assignment.*w11_lstm_cell"):
        parse_submission(json.dumps(other).encode(), lab_ids, LAB)


def test_old_nbformat_is_converted(lab_ids):
    import nbformat
    from nbformat import v3

    cell = v3.new_code_cell(input=GOOD, metadata={"nbgrader": {"grade_id": "toy_affine_fn", "solution": True}})
    nb3 = v3.new_notebook(worksheets=[v3.new_worksheet(cells=[cell])])
    text = nbformat.writes(nb3, version=3)
    nb = parse_submission(text.encode(), lab_ids, LAB)
    assert nb["cells"][0]["source"] == GOOD
    assert nb["cells"][0]["metadata"]["nbgrader"]["grade_id"] == "toy_affine_fn"
    broken_v2 = json.dumps({"nbformat": 2, "worksheets": "nope"}).encode()
    with pytest.raises(IntakeError, match="old format"):
        parse_submission(broken_v2, lab_ids, LAB)


def test_malformed_cells_are_cleaned(lab_ids):
    nb = variant(GOOD)
    nb["cells"].insert(0, "not a cell")
    nb["cells"][1]["metadata"] = ["junk"]
    nb["cells"][3]["source"] = list(nb["cells"][3]["source"]) if isinstance(nb["cells"][3]["source"], str) else nb["cells"][3]["source"]
    clean = parse_submission(dumps(nb), lab_ids, LAB)
    assert all(isinstance(c, dict) and isinstance(c["source"], str) for c in clean["cells"])
    nb["cells"][3]["source"] = [1, 2]
    with pytest.raises(IntakeError, match="damaged"):
        parse_submission(dumps(nb), lab_ids, LAB)


def test_zip_as_bytes_is_not_confused_with_folder(tmp_path):
    """A zip whose members follow the folder layout (no Canvas names)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("class/alice.ipynb", dumps(variant(GOOD)))
        zf.writestr("class/bob.ipynb", dumps(variant(BUGGY)))
    (tmp_path / "class.zip").write_bytes(buf.getvalue())
    result = collect(tmp_path / "class.zip", LAB)
    assert result.layout == "folder" and sorted(by_sid(result)) == ["alice", "bob"]
