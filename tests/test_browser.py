"""What people see, checked in a real browser (headless Chromium through playwright).

Pages come from two sources:

* a fixture batch: the example course's toy lab graded end to end through the
  batch grader (real report.html and feedback pages), plus pages rendered from
  hand-built views that exercise everything a page can hold (plots, rubric
  items credited / waiting for a TA / decided by a TA, a present misconception,
  tampering notes, HTML in an answer);
* optionally a graded demo (``DEMO_OUT=demo-out pytest tests/test_browser.py``):
  its ``<lab>/report.html`` and a few feedback pages per lab.

Each page must load without a console error or a failed request, every image
must decode (naturalWidth > 0), the sections the renderers promise must be
there, there must be no script at all, and at a phone's viewport (390 x 844)
nothing may overflow horizontally; the print layout must render to PDF.
Screenshots (desktop full page, phone full page and first screen, the first plot)
go to ``$SCREENSHOT_DIR`` or else ``test-artifacts/screenshots/`` (overwritten by each
run), and to docs/screenshots/ when SAVE_SCREENSHOTS=1.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
FEEDBACK_IDS = ["status", "score"]
REPORT_IDS = ["summary", "distribution", "tests", "written", "misconceptions", "problems", "review", "timing",
              "students"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
    pytest.skip(f"no Chromium at {CHROMIUM} (install the Debian package 'chromium' or set CHROMIUM=...)",
                allow_module_level=True)



@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        exe = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
        b = pw.chromium.launch(executable_path=exe, args=ARGS)
        yield b
        b.close()


DOC_SHOT_MAX_HEIGHT = 2400  # px of a full-page desktop screenshot kept in docs/screenshots


SCREENSHOTS = REPO / "test-artifacts" / "screenshots"


def screenshot_dir() -> Path:
    """``$SCREENSHOT_DIR`` if set, else ``test-artifacts/screenshots/`` in the repository: a fixed
    place to look at (and for CI to upload) after the run; pytest's own tmp dirs are pruned after
    three runs, so they are no place to keep screenshots."""
    folder = Path(os.environ["SCREENSHOT_DIR"]) if os.environ.get("SCREENSHOT_DIR") else SCREENSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = screenshot_dir()
    yield folder
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        save_for_docs(folder, REPO / "docs" / "screenshots")


def save_for_docs(folder: Path, dest: Path) -> None:
    """Copy the screenshots worth showing (desktop pages cut to their top, phone first screens,
    plots) to ``dest``; full-length phone pages stay in the tmp dir (megabytes each)."""
    dest.mkdir(parents=True, exist_ok=True)
    for png in sorted(folder.glob("*.png")):
        if png.name.endswith("-phone.png"):
            continue
        try:
            from PIL import Image

            with Image.open(png) as im:
                if im.height > DOC_SHOT_MAX_HEIGHT:
                    im = im.crop((0, 0, im.width, DOC_SHOT_MAX_HEIGHT))
                im.save(dest / png.name, optimize=True)
        except ImportError:
            shutil.copyfile(png, dest / png.name)


def check_page(browser, path: Path, ids: list[str], shots: Path, name: str) -> dict:
    """Open ``path`` at desktop and phone sizes; fail on anything a reader would notice."""
    problems: list[str] = []
    info: dict = {}
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        ctx = browser.new_context(viewport=viewport, device_scale_factor=1 if label == "desktop" else 2,
                                  java_script_enabled=True)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
        external: list[str] = []

        def route(r):
            url = r.request.url
            if url.startswith(("file:", "data:")):
                r.continue_()
            else:
                external.append(url)
                r.abort()

        page.route("**/*", route)
        page.goto(path.resolve().as_uri(), wait_until="load")
        page.wait_for_load_state("networkidle")
        broken = page.evaluate("Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
                               ".map(i => i.alt || i.src.slice(0, 40))")
        n_images = page.evaluate("document.images.length")
        scripts = page.evaluate("document.scripts.length")
        missing = [i for i in ids if page.query_selector(f"#{i}") is None]
        h1 = page.evaluate("document.querySelector('h1') ? document.querySelector('h1').innerText : ''")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        viewport_meta = page.evaluate("!!document.querySelector('meta[name=viewport]')")
        page.screenshot(path=str(shots / f"{name}-{label}.png"), full_page=True)
        if label == "desktop" and page.query_selector("figure img"):
            page.locator("figure").first.screenshot(path=str(shots / f"{name}-plot.png"))
        if label == "phone":
            page.screenshot(path=str(shots / f"{name}-phone-top.png"), full_page=False)
        problems += [f"{label}: {e}" for e in errors]
        if external:
            problems.append(f"{label}: requests outside the file: {external[:3]}")
        if broken:
            problems.append(f"{label}: broken images {broken}")
        if scripts:
            problems.append(f"{label}: {scripts} script element(s) in a page that should have none")
        if missing:
            problems.append(f"{label}: missing sections {missing}")
        if not h1:
            problems.append(f"{label}: no h1")
        if not viewport_meta:
            problems.append("no viewport meta")
        if label == "phone" and overflow > 1:
            wide = page.evaluate("""Array.from(document.querySelectorAll('body *'))
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .slice(0, 5).map(e => e.tagName + '.' + e.className)""")
            problems.append(f"phone: the page is {overflow}px wider than the screen ({wide})")
        info[label] = {"images": n_images}
        ctx.close()
    # print layout: the page must render to PDF without errors (Chromium headless supports it)
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.emulate_media(media="print")
    assert page.pdf(format="A4")[:4] == b"%PDF"
    ctx.close()
    assert not problems, f"{path.name}: " + "; ".join(problems)
    return info


# --------------------------------------------------------------------------- fixture pages


def _row(item, kind, gid, part, title, points, mx, status, message, **detail):
    from autograder.gradebook import ResultRow

    return ResultRow(item, kind, gid, part, title, points, mx, status, message, "h", dict(detail))


@pytest.fixture(scope="module")
def synthetic_pages(tmp_path_factory):
    """A feedback page and a report rendered from hand-built views: every kind of content."""
    import numpy as np

    from autograder.labs import PART_TITLES
    from autograder.reports.class_report import render_class_report
    from autograder.reports.feedback import render_feedback
    from autograder.reports.model import PartTotal, StudentView

    folder = tmp_path_factory.mktemp("synthetic")
    steps = list(range(1, 8))
    expected = (0.3 * 0.7 ** np.arange(6, -1, -1)).tolist()
    plots = [
        {"id": "grad_norms", "grade_id": "w10_grad_norms", "kind": "lines", "log_y": True, "title": "Gradient per step",
         "caption": "Yours against the expected curve.", "x_label": "t", "y_label": "||dL/dh_t||", "x_ticks": steps,
         "series": [{"label": "expected", "x": steps, "y": expected, "role": "reference"},
                    {"label": "yours", "x": steps, "y": expected[::-1], "role": "student"}]},
        {"id": "gates", "grade_id": "w10_rnn_cell", "kind": "hist", "title": "Gates", "caption": "Values.",
         "bins": [-1, -0.5, 0, 0.5, 1], "panels": [{"label": "input gate", "counts": [0, 0, 5, 9],
                                                    "expected_range": [0, 1]}]},
    ]
    long_answer = ("Because the gradient is multiplied by W_hh at every step " * 12).strip()
    views = []
    for i, sid in enumerate(["ada_lovelace", "bob_<b>bold</b>", "carol"]):
        tests = [
            _row("test_rnn_cell_shape", "test", "w10_rnn_cell", "build", "RNNCell returns a (B, H) hidden state", 1, 1,
                 "pass", ""),
            _row("test_grad_norms_values", "test", "w10_grad_norms", "build", "||dL/dh_t|| matches an autograd reference",
                 0 if i else 4, 4, "fail" if i else "pass",
                 "hidden_grad_norms should return ||dL/dh_t||; yours are in reverse order: "
                 "[0.0282, 0.0384, 0.0525, 0.0727, 0.104, 0.159, 0.307] — a_very_long_identifier_without_spaces_"
                 "that_must_wrap_on_a_phone_screen_instead_of_overflowing_it" if i else ""),
            _row("test_train_history", "test", "w10_train", "build", "returns {'loss', 'accuracy'}", 0, 1,
                 "timeout" if i == 2 else "pass", "Grading stopped before this test ran." if i == 2 else ""),
        ]
        rubric = [
            _row("w10_explain_clipping/caps_exploding", "rubric", "w10_explain_clipping", "explain_defend",
                 "Clipping caps the norm: fixes exploding", 1, 1, "credited", "Right: clipping caps the norm.",
                 item_kind="criterion", question="Does gradient clipping fix vanishing or exploding gradients?",
                 question_max=3, met=True),
            _row("w10_explain_clipping/not_vanishing", "rubric", "w10_explain_clipping", "explain_defend",
                 "Says clipping does not fix vanishing", 0, 1, "needs_review",
                 "Say what clipping cannot do. (A TA will check this item.)", item_kind="criterion",
                 question_max=3, proposal_points=0.0, met=False),
            _row("w10_explain_clipping/clipping_fixes_vanishing", "rubric", "w10_explain_clipping", "explain_defend",
                 "Claims gradient clipping fixes vanishing gradients", -1 if i == 1 else 0, 0,
                 "fail" if i == 1 else "credited", "Clipping only rescales large gradients." if i == 1 else "",
                 item_kind="misconception", question_max=3, min_points=-1, cap=1, met=i == 1),
            _row("w10_predict_length/prediction", "rubric", "w10_predict_length", "predict_probe",
                 "Predicts that the gradient shrinks", 1, 1, "credited", "Exactly.", item_kind="criterion",
                 question_max=3, ta={"points": 1, "by": "ta1", "at": "2025-11-20"}),
        ]
        parts = [PartTotal(k, t, 0.0, 0.0) for k, t in PART_TITLES.items()]
        for p in parts:
            p.points = sum(r.points for r in tests + rubric if r.part == p.key)
            p.max_points = sum(r.max_points for r in tests + rubric if r.part == p.key and r.max_points > 0)
        views.append(StudentView(
            student_id=sid, assignment="week10_rnn", lab_title="Week 10 · Recurrent Networks (RNNs)",
            status="partial" if i == 2 else "graded", message="stopped after 60 s" if i == 2 else "",
            code_points=sum(t.points for t in tests), code_max=6, written_points=2, written_max=6,
            needs_review=1, parts=parts, tests=tests, rubric=rubric,
            issues=[{"kind": "tampered_cell", "grade_id": "w10_provided_data",
                     "message": "The provided cell 'w10_provided_data' was edited; the original version was used instead."}]
            if i == 1 else [],
            cell_errors=[{"origin": "student", "grade_id": "w10_train", "ok": False, "error_type": "ValueError",
                          "error_message": "<script>alert(1)</script>"}] if i == 1 else [],
            answers={"w10_explain_clipping": "<img src=x onerror=alert(1)> " + long_answer, "w10_predict_length": ""},
            display_name="Ada Lovelace" if i == 0 else None, late=i == 1, attempt=i, wall_s=3.0 + i,
            extra={"plots": plots}))
    feedback = folder / "feedback-synthetic.html"
    feedback.write_text(render_feedback(views[1]), encoding="utf-8")
    report = folder / "report-synthetic.html"
    report.write_text(render_class_report(views, lab_title="Week 10 · Recurrent Networks (RNNs)",
                                          assignment="week10_rnn",
                                          batch={"started_at": "2025-11-20T10:00:00", "graded": 3, "skipped": 0,
                                                 "seconds": 12.5, "executor": "test", "workers": 2}), encoding="utf-8")
    return feedback, report


def test_synthetic_feedback_page(browser, shots, synthetic_pages):
    feedback, _ = synthetic_pages
    html = feedback.read_text()
    assert "<script>alert" not in html and "onerror=alert" not in html.replace("&lt;img src=x onerror=alert", "")
    info = check_page(browser, feedback, FEEDBACK_IDS + ["issues", "part-build", "part-predict_probe",
                                                         "part-explain_defend", "plot-grad_norms"], shots,
                      "feedback-synthetic")
    assert info["desktop"]["images"] == 2
    for text in ("waiting for a TA", "decided by a TA", "present", "Edited provided cell"):
        assert text in html


def test_synthetic_class_report(browser, shots, synthetic_pages):
    _, report = synthetic_pages
    info = check_page(browser, report, REPORT_IDS, shots, "report-synthetic")
    assert info["desktop"]["images"] >= 3  # distribution, tests, misconceptions


@pytest.fixture(scope="module")
def toy_batch(tmp_path_factory):
    """The example course's toy lab, released and graded end to end (sandbox none: fast, no bwrap needed)."""
    from autograder.cli import main
    from grading_helpers import BUGGY, GOOD, dumps, variant

    root = tmp_path_factory.mktemp("toy")
    course = root / "course"
    shutil.copytree(REPO / "tests" / "example_course", course,
                    ignore=shutil.ignore_patterns("assignments", "__pycache__"))
    subs = root / "subs"
    subs.mkdir()
    (subs / "alice.ipynb").write_bytes(dumps(variant(GOOD, written="The bias shifts every output.")))
    (subs / "bob.ipynb").write_bytes(dumps(variant(BUGGY, setup="import torch\nprint('edited')")))
    (subs / "zoe.ipynb").write_text('{"cells": [')
    out = root / "out"
    cfg = str(course / "course.yaml")
    assert main(["--course", cfg, "release"]) == 0
    assert main(["--course", cfg, "grade", "toy_affine", str(subs), "--out", str(out), "--sandbox", "none",
                 "--workers", "1", "--no-progress"]) == 0
    return out


def test_toy_batch_pages(browser, shots, toy_batch):
    check_page(browser, toy_batch / "report.html", REPORT_IDS, shots, "toy-report")
    parts = ["part-build", "part-explain_defend"]  # the toy lab's parts (its lab.yaml)
    expected = {"alice": FEEDBACK_IDS + parts, "bob": FEEDBACK_IDS + parts + ["issues"], "zoe": FEEDBACK_IDS}
    for sid, ids in expected.items():
        check_page(browser, toy_batch / "feedback" / f"{sid}.html", ids, shots, f"toy-feedback-{sid}")
    bob = (toy_batch / "feedback" / "bob.html").read_text()
    assert "Edited provided cell" in bob and "affine computes x @ w + b" in bob
    assert "could not be graded" in (toy_batch / "feedback" / "zoe.html").read_text()


def test_checker_catches_a_broken_page(browser, shots, tmp_path):
    """The checks above can fail: a page with a broken image, a script that logs an error,
    a missing section and a table wider than a phone is rejected, each for its reason."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><head><meta charset="utf-8">'
                    '<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>'
                    '<h1>Broken</h1><section id="summary"></section><img src="missing.png" alt="gone">'
                    '<script>console.error("boom")</script><div style="width:900px">wide</div></body></html>')
    with pytest.raises(AssertionError) as err:
        check_page(browser, page, ["summary", "distribution"], shots, "checker-self-test")
    said = str(err.value)
    for reason in ("broken images", "console error: boom", "missing sections ['distribution']",
                   "script element", "wider than the screen"):
        assert reason in said, (reason, said)


DEMO_OUT = os.environ.get("DEMO_OUT")


@pytest.mark.skipif(not DEMO_OUT, reason="set DEMO_OUT=demo-out (after `make demo`) to check the demo's pages")
def test_demo_pages(browser, shots):
    root = Path(DEMO_OUT)
    reports = sorted(root.glob("*/report.html"))
    assert reports, f"no <lab>/report.html under {root}"
    for report in reports:
        lab = report.parent.name
        check_page(browser, report, REPORT_IDS, shots, f"demo-{lab}-report")
        pages = sorted((report.parent / "feedback").glob("*.html"))
        assert pages
        # the first few and the largest page (most content)
        chosen = pages[:2] + [max(pages, key=lambda p: p.stat().st_size)]
        for page in dict.fromkeys(chosen):
            check_page(browser, page, FEEDBACK_IDS, shots, f"demo-{lab}-{page.stem}")
