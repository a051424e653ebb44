"""``make demo`` end to end: ``python -m autograder.demo.run`` on a copy of the course.

One run (both labs, the 20-student sample class each, the sandboxed worker pool:
about 3.5 minutes on 2 busy cores) and then every file a TA or a student opens is
checked against the grading-output spec (shared/spec/grading-output.md) and the
issue's list: grades.csv and results.jsonl columns and values, one feedback page
per student with the lab's parts and the plot from the student's own probe data,
every section of report.html, items.csv and the Canvas CSV, no hidden-test source
or threshold on any student page, and the pages in a real browser when playwright
and Chromium are installed. A second run must grade nothing.

The course (course.yaml, solutions/, rubrics/) is copied to a temp dir so the
release the demo writes never touches the repository's assignments/.
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from autograder.demo.run import main as demo_main

REPO = Path(__file__).resolve().parents[1]
LABS = ["week10_rnn", "week11_gated"]
GRADES_COLUMNS = ["student_id", "assignment", "status", "code_points", "code_max", "written_points", "written_max",
                  "total_points", "max_points", "needs_review"]
RESULT_KEYS = {"student_id", "assignment", "item", "kind", "grade_id", "points", "max_points", "status", "message"}
RESULT_STATUSES = {"pass", "fail", "error", "timeout", "memory", "skipped", "credited", "partial", "needs_review"}
REPORT_SECTIONS = ["summary", "distribution", "tests", "written", "misconceptions", "problems", "review", "timing",
                   "students"]
PART_SECTIONS = ["part-build", "part-predict_probe", "part-explain_defend"]
# the plot each lab draws from a student's own probe data (hidden/plots.py), by the cell it belongs to
PLOTS = {"week10_rnn": ["plot-grad_norms"], "week11_gated": ["plot-forget_bias", "plot-gates"]}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    course = root / "course"
    course.mkdir()
    shutil.copy(REPO / "course.yaml", course / "course.yaml")
    for folder in ("solutions", "rubrics"):
        shutil.copytree(REPO / folder, course / folder, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    out = root / "demo-out"
    assert demo_main(["--out", str(out), "--course", str(course / "course.yaml")]) == 0
    manifest = json.loads((out / "sample" / "manifest.json").read_text())
    return out, manifest, course


def _grades(path: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = {r["student_id"]: r for r in reader}
        return list(reader.fieldnames or []), rows


def test_demo_grades_as_the_sample_class_expects(demo):
    out, manifest, _ = demo
    summary = json.loads((out / "demo-summary.json").read_text())
    assert summary["unexpected"] == {lab: [] for lab in LABS}
    assert summary["students_per_lab"] == 20
    for lab in LABS:
        assert set(manifest["labs"][lab]["students"]) and len(manifest["labs"][lab]["students"]) == 20


@pytest.mark.parametrize("lab", LABS)
def test_grades_and_results_follow_the_spec(demo, lab):
    out, manifest, _ = demo
    students = manifest["labs"][lab]["students"]
    columns, rows = _grades(out / lab / "grades.csv")
    assert columns[:len(GRADES_COLUMNS)] == GRADES_COLUMNS
    assert set(rows) == set(students)
    results: dict[str, list[dict]] = {}
    for line in (out / lab / "results.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        assert set(r) == RESULT_KEYS, r
        assert r["assignment"] == lab and r["kind"] in ("test", "rubric") and r["status"] in RESULT_STATUSES, r
        assert isinstance(r["points"], (int, float)) and isinstance(r["max_points"], (int, float))
        results.setdefault(r["student_id"], []).append(r)
    statuses = {row["status"] for row in rows.values()}
    assert statuses == {"graded", "partial", "error"}  # the sample class has all three
    for sid, row in rows.items():
        assert row["assignment"] == lab
        code, written = float(row["code_points"]), float(row["written_points"])
        assert float(row["total_points"]) == pytest.approx(code + written)
        assert float(row["max_points"]) == pytest.approx(float(row["code_max"]) + float(row["written_max"]))
        items = results.get(sid, [])
        if row["status"] == "error":
            assert code == 0 and written == 0 and row["message"], sid
            continue
        assert sum(r["points"] for r in items if r["kind"] == "test") == pytest.approx(code), sid
        assert sum(r["max_points"] for r in items if r["kind"] == "test") == pytest.approx(float(row["code_max"]))
        assert int(row["needs_review"]) == sum(r["status"] == "needs_review" for r in items), sid
        for r in items:
            if r["status"] not in ("pass", "credited"):
                assert r["points"] < r["max_points"] or r["kind"] == "rubric", r
            if r["kind"] == "test" and r["status"] != "pass":
                assert r["message"], f"{sid} {r['item']}: a failed test must say why"


@pytest.mark.parametrize("lab", LABS)
def test_feedback_pages_and_report(demo, lab):
    out, manifest, _ = demo
    students = manifest["labs"][lab]["students"]
    _, rows = _grades(out / lab / "grades.csv")
    pages = {p.stem for p in (out / lab / "feedback").glob("*.html")}
    assert pages == set(students)
    plotted = 0
    for sid in students:
        page = (out / lab / "feedback" / f"{sid}.html").read_text(encoding="utf-8")
        assert "<script" not in page and 'id="score"' in page and 'id="status"' in page
        if rows[sid]["status"] == "error":
            assert "could not be graded" in page
            continue
        for section in PART_SECTIONS:
            assert f'id="{section}"' in page, (sid, section)
        if all(f'id="{p}"' in page for p in PLOTS[lab]):
            plotted += 1
            assert "data:image/png;base64," in page
    correct = [sid for sid, st in students.items() if st["category"] in ("correct", "fair") and not st["hostile"]]
    for sid in correct:  # a working implementation always gets its plot
        assert all(f'id="{p}"' in (out / lab / "feedback" / f"{sid}.html").read_text() for p in PLOTS[lab]), sid
    assert plotted >= len(correct)

    report = (out / lab / "report.html").read_text(encoding="utf-8")
    for section in REPORT_SECTIONS:
        assert f'id="{section}"' in report, section
    assert report.count("data:image/png;base64,") >= 3  # distribution, pass rate per cell, misconceptions
    problems = report[report.index('id="problems"'):report.index('id="review"')]
    for sid, st in students.items():
        assert f'href="feedback/{sid}.html"' in report
        if rows[sid]["status"] in ("error", "partial"):
            assert sid in problems, sid
        for kind in st["expect"]["issues"]:
            assert kind in problems and sid in problems, (sid, kind)
    waiting = sum(int(r["needs_review"]) for r in rows.values())
    assert f"Review queue ({waiting})" in report


@pytest.mark.parametrize("lab", LABS)
def test_exports(demo, lab):
    out, manifest, _ = demo
    _, rows = _grades(out / lab / "grades.csv")
    n_results = len((out / lab / "results.jsonl").read_text().splitlines())
    with open(out / lab / "items.csv", newline="", encoding="utf-8") as fh:
        items = list(csv.DictReader(fh))
    assert len(items) == n_results and {"part", "title", "ta_decided"} <= set(items[0])
    with open(out / lab / "canvas_import.csv", newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        canvas = list(reader)
    assert header[:4] == ["Student", "ID", "SIS User ID", "Section"] and len(header) == 5
    assert len(canvas) == len(rows)
    scores = sorted(r[4] for r in canvas)
    expected = sorted("" if r["status"] == "error" else r["total_points"] for r in rows.values())
    assert scores == expected
    if manifest["labs"][lab]["layout"] == "canvas":  # the LMS user id comes from the zip's file names
        ids = {st["lms_user_id"] for st in manifest["labs"][lab]["students"].values()}
        assert {r[1] for r in canvas} == ids
    with open(out / lab / "review_queue.csv", newline="", encoding="utf-8") as fh:
        queue = list(csv.DictReader(fh))
    assert len(queue) == sum(int(r["needs_review"]) for r in rows.values())


@pytest.mark.parametrize("lab", LABS)
def test_no_student_page_leaks(demo, lab):
    from test_no_leaks import assert_no_leak, page_texts

    out, _, _ = demo
    for page in sorted((out / lab / "feedback").glob("*.html")):
        other, messages = page_texts(page.read_text(encoding="utf-8"))
        assert_no_leak(f"{lab} {page.name}", other, lab, messages=messages)


def test_pages_in_a_browser(demo):
    try:
        from test_browser import ARGS, CHROMIUM, FEEDBACK_IDS, REPORT_IDS, check_page, screenshot_dir
    except BaseException as exc:  # pytest.skip raised at import when playwright or Chromium is missing
        pytest.skip(f"no browser check: {exc}")
    from playwright.sync_api import sync_playwright

    out, manifest, _ = demo
    shots = screenshot_dir()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for lab in LABS:
                check_page(browser, out / lab / "report.html", REPORT_IDS, shots, f"demo-{lab}-report")
                students = manifest["labs"][lab]["students"]
                good = next(s for s, st in sorted(students.items()) if st["category"] == "correct")
                buggy = next(s for s, st in sorted(students.items()) if st["category"] == "mutant")
                for sid in (good, buggy):
                    info = check_page(browser, out / lab / "feedback" / f"{sid}.html", FEEDBACK_IDS + PART_SECTIONS,
                                      shots, f"demo-{lab}-{sid}")
                    assert info["desktop"]["images"] >= 1, sid  # the plot from their own probe data
        finally:
            browser.close()


def test_second_run_grades_nothing(demo, capsys):
    out, _, course = demo
    before = {lab: (out / lab / "grades.csv").read_bytes() for lab in LABS}
    capsys.readouterr()
    assert demo_main(["--out", str(out), "--course", str(course / "course.yaml")]) == 0
    said = capsys.readouterr().out
    assert said.count("graded now 0") == len(LABS), said
    assert {lab: (out / lab / "grades.csv").read_bytes() for lab in LABS} == before
