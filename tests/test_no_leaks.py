"""Nothing a student can see carries hidden-test source or an unstated threshold.

Student-visible files: the release notebooks (generated fresh, and the ones in
assignments/release/ if present), the public checks shipped with them, and the
feedback pages. The feedback pages are rendered from real grading data: per lab,
the solution, a notebook with one realistic bug in every answer cell (from the
mutation corpus) and the untouched release are probed in-process, checked by the
hidden suite and rendered with their plots. With DEMO_OUT set, the demo's pages
are scanned too.

A leak is: any line of a hidden file (``solutions/<lab>/hidden/*.py``) longer
than 25 characters, ``def test_``, ``import pytest``, or a number from
``thresholds.yaml`` outside the message of a check (messages may state a
threshold on purpose when the test fails).
"""
from __future__ import annotations

import html
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder.authoring import cells as C
from autograder.config import load_config
from autograder.labs import load_lab

REPO = Path(__file__).resolve().parents[1]
LABS = ["week10_rnn", "week11_gated"]
MIN_LINE = 25
MARKERS = ("def test_", "import pytest", "BEGIN HIDDEN TESTS", "from autograder.scoring.checks")


def _lines(text: str) -> set[str]:
    return {ln.strip() for ln in text.splitlines() if len(ln.strip()) > MIN_LINE}


def hidden_lines(lab: str) -> set[str]:
    """Lines of the lab's hidden suite longer than 25 characters that the instructor does not
    ship anyway (a line shared with the solution notebook's cells or a public check, e.g.
    ``for p in cell.parameters():`` in provided code, is not hidden)."""
    lines: set[str] = set()
    for path in sorted((REPO / "solutions" / lab / "hidden").glob("*.py")):
        lines |= _lines(path.read_text())
    nb = nbformat.read(str(REPO / "solutions" / lab / f"{lab}.ipynb"), as_version=4)
    shipped = _lines("\n".join(C.source_text(c) for c in nb.cells))
    for path in (REPO / "solutions" / lab / "public").glob("*.py"):
        shipped |= _lines(path.read_text())
    return lines - shipped


def threshold_numbers(lab: str) -> set[str]:
    """Calibrated numbers of thresholds.yaml (the thresholds and the measurements behind them)."""
    path = REPO / "solutions" / lab / "hidden" / "thresholds.yaml"
    if not path.exists():
        return set()
    found: set[str] = set()

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, float) and value != int(value):
            found.add(repr(value))

    walk(yaml.safe_load(path.read_text()))
    return found


def number_in(text: str, number: str) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(number.lstrip('-'))}(?![\d])", text) is not None


class _Text(HTMLParser):
    """Visible text of a page, split into check messages (class "msg") and everything else."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []
        self.other: list[str] = []
        self.msgs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "img", "meta", "link", "hr", "input"):
            return
        cls = dict(attrs).get("class") or ""
        self.stack.append(("msg" in cls.split()) or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag):
        if self.stack and tag not in ("br", "img", "meta", "link", "hr", "input"):
            self.stack.pop()

    def handle_data(self, data):
        (self.msgs if self.stack and self.stack[-1] else self.other).append(data)


def page_texts(page: str) -> tuple[str, str]:
    parser = _Text()
    parser.feed(page)
    return "\n".join(parser.other), "\n".join(parser.msgs)


def assert_no_leak(name: str, text: str, lab: str, *, messages: str = "") -> None:
    """``text``: everything a student sees outside check messages; ``messages``: the messages."""
    both = text + "\n" + messages
    for marker in MARKERS:
        assert marker not in both, f"{name}: contains {marker!r}"
    lines = {ln.strip() for ln in both.splitlines()}
    flat = re.sub(r"\s+", " ", both)
    for line in hidden_lines(lab):
        assert line not in lines and re.sub(r"\s+", " ", line) not in flat, f"{name}: hidden source line {line!r}"
    for number in threshold_numbers(lab):
        assert not number_in(text, number), f"{name}: threshold value {number} outside a check message"


# --------------------------------------------------------------------------- release and public checks


@pytest.mark.parametrize("lab_name", LABS)
def test_release_notebook_and_public_checks(lab_name):
    from autograder.release.generate import student_version

    lab = load_lab(lab_name)
    release = student_version(nbformat.read(str(lab.notebook), as_version=4))
    notebooks = {"fresh release": release}
    if lab.release_notebook.exists():
        notebooks["assignments/release"] = nbformat.read(str(lab.release_notebook), as_version=4)
    for name, nb in notebooks.items():
        text = "\n".join(C.source_text(c) for c in nb.cells)
        assert_no_leak(f"{lab_name} {name}", text, lab_name)
    for check in sorted(lab.public_dir.glob("*.py")):
        assert_no_leak(f"public/{check.name}", check.read_text().replace("def test_", "def check_"), lab_name)
    shipped = lab.release_notebook.parent / "tests"
    if shipped.exists():
        assert sorted(p.name for p in shipped.glob("*.py")) == sorted(p.name for p in lab.public_dir.glob("*.py"))


# --------------------------------------------------------------------------- feedback pages


def _views(lab_name: str):
    """StudentViews with the hidden suite's real messages and plots for three notebooks."""
    from autograder.execution.program import assemble
    from autograder.gradebook import ResultRow
    from autograder.labs import PART_TITLES
    from autograder.release.generate import read_notebook, student_version
    from autograder.reports.model import PartTotal, StudentView
    from autograder.reports.plots import lab_plots
    from autograder.scoring.check_runner import run_checks
    from autograder.scoring.corpus import apply_mutant, load_mutants
    from autograder.scoring.inprocess import probes_of, run_in_process, trusted_notebook

    lab = load_lab(lab_name, load_config())
    solution = read_notebook(lab.notebook)
    buggy = solution
    seen: set[str] = set()
    for m in load_mutants(lab_name):
        if m.cell not in seen and not m.also_loses:
            buggy = apply_mutant(buggy, m)
            seen.add(m.cell)
    notebooks = {"solution": solution, "buggy": buggy, "stub": student_version(solution)}
    trusted = trusted_notebook(lab)
    probes = probes_of(lab)
    data = {k: run_in_process(lab, assemble(trusted, nb), probes).probes for k, nb in notebooks.items()}
    outcomes = run_checks(lab.hidden_dir, data)
    views = []
    for sid, outs in outcomes.items():
        tests = [ResultRow(o.test, "test", o.grade_id, lab.part_of(o.grade_id), o.title, o.points, o.max_points,
                           o.status, o.message) for o in outs]
        parts = [PartTotal(k, t, sum(r.points for r in tests if r.part == k), sum(r.max_points for r in tests if r.part == k))
                 for k, t in PART_TITLES.items() if k in lab.parts]
        views.append(StudentView(
            student_id=sid, assignment=lab_name, lab_title=lab.title, status="graded", message="",
            code_points=sum(r.points for r in tests), code_max=sum(r.max_points for r in tests), written_points=0,
            written_max=0, needs_review=0, parts=parts, tests=tests, rubric=[], issues=[], cell_errors=[], answers={},
            extra={"plots": lab_plots(lab.hidden_dir, data[sid])}))
    return views


@pytest.mark.slow
@pytest.mark.parametrize("lab_name", LABS)
def test_feedback_pages_from_real_grading(lab_name):
    from autograder.reports.feedback import render_feedback

    views = _views(lab_name)
    by_id = {v.student_id: v for v in views}
    assert by_id["solution"].code_points == by_id["solution"].code_max
    assert by_id["buggy"].code_points < by_id["solution"].code_points
    failed = [t for t in by_id["buggy"].tests if t.status != "pass"]
    assert {t.grade_id for t in failed} == set(load_lab(lab_name).code_items)  # every cell has a bug
    for v in views:
        page = render_feedback(v)
        other, messages = page_texts(page)
        assert_no_leak(f"{lab_name} feedback {v.student_id}", other, lab_name, messages=messages)
        for t in v.tests:
            if t.status != "pass" and t.message:
                assert html.escape(t.message, quote=True) in page  # every failure says why
    solution_page = render_feedback(by_id["solution"])
    assert "data:image/png;base64," in solution_page  # the lab's plots from the student's own probe data


DEMO_OUT = os.environ.get("DEMO_OUT")


@pytest.mark.skipif(not DEMO_OUT, reason="set DEMO_OUT=demo-out (after `make demo`) to scan the demo's pages")
def test_demo_pages_have_no_leaks():
    root = Path(DEMO_OUT)
    for lab_name in LABS:
        for page in sorted((root / lab_name / "feedback").glob("*.html")):
            other, messages = page_texts(page.read_text())
            assert_no_leak(f"{lab_name} {page.name}", other, lab_name, messages=messages)


def test_the_leak_check_can_fail():
    """assert_no_leak is not vacuous: a hidden line, a marker or a calibrated threshold outside a
    check's message is caught, and the same threshold inside a message is allowed."""
    lines = sorted(hidden_lines("week10_rnn"))
    assert len(lines) > 20  # the hidden suite is there and mostly not shipped
    with pytest.raises(AssertionError, match="hidden source line"):
        assert_no_leak("probe", f"<p>before</p>\n   {lines[len(lines) // 2]}  \n<p>after</p>", "week10_rnn")
    with pytest.raises(AssertionError, match="def test_"):
        assert_no_leak("probe", "def test_something(probes):", "week10_rnn")
    numbers = sorted(threshold_numbers("week11_gated"))
    assert "-7.5" in numbers
    with pytest.raises(AssertionError, match="threshold value"):
        assert_no_leak("probe", "the ratio must stay above -7.5 here", "week11_gated")
    assert_no_leak("probe", "Your gradient ratio", "week11_gated", messages="median -9.1 is below -7.5")
    page = '<p>Your ratio</p><div class="msg">median -9.1 is below <b>-7.5</b></div>'
    other, messages = page_texts(page)
    assert "-7.5" in messages and "-7.5" not in other
