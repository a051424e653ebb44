"""``make bench`` in its tiny mode: it runs end to end and writes a sane bench.json.

It never asserts a timing target (the machine is shared and small); it checks that the
numbers exist, are consistent with one another and come from real runs.
"""
from __future__ import annotations

import json
import math

import pytest

from autograder.bench.run import spaced, summarize

KEYS = ("project_cpu_s_per_submission", "nbgrader_cpu_s_per_submission", "throughput_ratio_default",
        "throughput_ratio_equal_work", "peak_rss_mb", "written_answers_per_s")


def test_spaced_subset_keeps_the_first_and_spreads_the_rest():
    items = [f"s{i}" for i in range(10)]
    assert spaced(items, 1) == ["s0"]
    assert spaced(items, 3) == ["s0", "s3", "s6"]
    assert spaced(items, 20) == items
    assert spaced(items, 0) == []


def _run(lab, mode, n, wall, cpu, **kw):
    return {"lab": lab, "mode": mode, "n": n, "wall_s": wall, "cpu_s": cpu, "wall_s_per_submission": wall / n,
            "cpu_s_per_submission": cpu / n, "code_cpu_s_per_submission": cpu / n, "peak_pss_mb": 100.0,
            "memcg_peak_mb": 120.0, "written_answers": n * 5, "written_s": 1.0, "written_model_load_s": 2.0, **kw}


def test_ratios_compare_the_same_labs_per_submission():
    res = {"project": {"default": [_run("a", "default", 10, 5.0, 4.0), _run("b", "default", 10, 10.0, 8.0)],
                       "equal_work": [_run("a", "equal_work", 10, 20.0, 30.0)]},
           "nbgrader": {"default": [_run("a", "default", 1, 100.0, 90.0)],
                        "equal_work": [_run("a", "equal_work", 2, 20.0, 12.0)]},
           "hidden_suite": [{"lab": "a", "cpu_s": 3.0}], "scale": {}}
    s = summarize(res)
    assert s["throughput_ratio_default"] == pytest.approx(100.0 / 0.5)  # only lab a was measured by nbgrader default
    assert s["throughput_ratio_equal_work"] == pytest.approx(10.0 / 2.0)
    assert s["project_cpu_s_per_submission"] == pytest.approx(12.0 / 20)
    assert s["written_answers_per_s"] == pytest.approx(100 / 2.0)
    assert s["targets_met"]["hidden_suite_cpu_s_max"] is True
    assert s["targets_met"]["throughput_ratio_default"] is True


@pytest.mark.slow
def test_quick_bench_writes_bench_json(tmp_path, capsys):
    from autograder.bench.run import main

    out = tmp_path / "bench"
    assert main(["--quick", "--lab", "week10_rnn", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "throughput ratio" in printed and "targets:" in printed
    data = json.loads((out / "bench.json").read_text())
    for key in KEYS:
        assert key in data, key
    detail = data["detail"]
    proj = detail["project"]["default"][0]
    assert proj["n"] == 4 and sum(proj["statuses"].values()) == 4
    assert proj["statuses"].get("graded", 0) >= 1  # the correct student at least was graded
    nb = detail["nbgrader"]["equal_work"][0]
    assert nb["n"] == 1 and nb["graded"] == 1 and nb["returncode"] == 0
    for key in ("project_cpu_s_per_submission", "nbgrader_cpu_s_per_submission", "peak_rss_mb",
                "written_answers_per_s", "throughput_ratio_equal_work"):
        v = data[key]
        assert isinstance(v, (int, float)) and v > 0 and math.isfinite(v), (key, v)
    # CPU is measured over the whole process tree, so it is at least what the grading process alone used
    assert proj["cpu_s"] >= sum(proj["phases_cpu_s"].values()) * 0.9
    assert data["throughput_ratio_default"] is None  # nbgrader's default mode is not run in quick mode
    assert detail["hidden_suite"] and detail["hidden_suite"][0]["passed"]
    assert (out / "bench.txt").exists()
