"""The student's feedback page: ``feedback/<student_id>.html``.

``render_feedback(view) -> str`` is a pure function of a
:class:`~autograder.reports.model.StudentView`: one self-contained HTML page
(inline CSS, no scripts, no external resources; plots are PNGs embedded as
``data:`` URIs), readable on a phone (viewport meta, one column, no wide
tables) and printable (print CSS). Every piece of text is HTML-escaped.

What it shows, part by part (Build / Predict & probe / Explain & defend, from
the lab's ``lab.yaml``):

* the status of the submission and the points per part;
* issues with the notebook (edited provided cells, missing or duplicated
  answer cells) and errors raised by the student's cells;
* **Build**: every hidden test of every answer cell, by its course-language
  title, passed or not, its points and the check's message, then the plots
  drawn from the student's own probe data (``hidden/plots.py``);
* **Predict & probe / Explain & defend**: per question the student's answer,
  then every rubric item, credited or not, with its feedback; items a TA
  decided are marked, items waiting for a TA say so with the scorer's proposal.

Only student-facing text appears: titles, messages and feedback written for
students; never a test's source, a TA-only reason, or a threshold that a
message does not state.
"""
from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import Any, Iterable

from autograder.gradebook import ResultRow
from autograder.labs import PART_TITLES
from autograder.reports.atomic import write_text
from autograder.reports.model import StudentView, fmt_points
from autograder.reports.plots import spec_uri

STATUS_TEXT = {
    "pass": "passed", "fail": "failed", "error": "error", "timeout": "time limit", "memory": "memory limit",
    "skipped": "skipped", "credited": "credited", "partial": "partly credited", "needs_review": "waiting for a TA",
}
STATUS_ICON = {
    "pass": "✓", "credited": "✓", "fail": "✗", "error": "!", "timeout": "⏱", "memory": "!", "skipped": "–",
    "partial": "◐", "needs_review": "…",
}
RUN_STATUS_TEXT = {
    "graded": "Graded.",
    "partial": "Partly graded: some tests could not run (see below).",
    "error": "Your submission could not be graded.",
}
PART_BLURB = {
    "build": "Scored by hidden tests that call your code. Each line is one test: what it checks, and what it "
             "saw when it failed.",
    "predict_probe": "Your predictions and what your experiments showed. Graded on reasoning, not on being right.",
    "explain_defend": "Your explanations in your own words, read against the rubric.",
}
ISSUE_TEXT = {
    "tampered_cell": "Edited provided cell",
    "missing_cell": "Missing answer cell",
    "duplicate_cell": "Duplicated answer cell",
    "wrong_cell_type": "Wrong cell type",
    "not_run": "Cell not run",
}

CSS = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;max-width:54rem;margin:0 auto;
 padding:1rem 1rem 3rem;color:#1f2328;line-height:1.5;background:#fff;overflow-wrap:anywhere}
h1{font-size:1.45rem;margin:.3rem 0 .1rem;line-height:1.25} h2{font-size:1.2rem;margin:2rem 0 .5rem;padding-bottom:.25rem;
 border-bottom:2px solid #d0d7de} h3{font-size:1.02rem;margin:1.4rem 0 .4rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em;background:#f3f4f6;padding:.05rem .3rem;border-radius:4px}
.muted{color:#59636e;font-size:.9rem} .small{font-size:.85rem}
nav.toc{display:flex;flex-wrap:wrap;gap:.4rem;margin:.8rem 0} nav.toc a{font-size:.88rem;text-decoration:none;color:#0b57d0;
 border:1px solid #d0d7de;border-radius:999px;padding:.15rem .65rem;background:#f6f8fa}
.box{padding:.7rem .9rem;border-radius:8px;margin:.8rem 0;border:1px solid transparent}
.ok{background:#eef7ee;border-color:#b7dfb9} .warn{background:#fff6e5;border-color:#f3d08a} .err{background:#fdecea;border-color:#f5b5ae}
.info{background:#eef4fd;border-color:#bcd3f5}
.scores{display:grid;grid-template-columns:repeat(auto-fit,minmax(10.5rem,1fr));gap:.6rem;margin:.6rem 0}
.score{border:1px solid #d0d7de;border-radius:8px;padding:.55rem .7rem} .score .k{font-size:.85rem;color:#59636e}
.score .v{font-size:1.25rem;font-weight:650} .score.total{background:#f6f8fa}
.bar{height:.45rem;background:#eaeef2;border-radius:99px;overflow:hidden;margin-top:.35rem}
.bar i{display:block;height:100%;background:#2e7d32}
ul.items{list-style:none;padding:0;margin:.3rem 0}
ul.items li{border:1px solid #d0d7de;border-left-width:5px;border-radius:6px;padding:.5rem .7rem;margin:.45rem 0;break-inside:avoid}
ul.items li.st-pass,ul.items li.st-credited{border-left-color:#2e7d32;padding:.35rem .7rem}
ul.items li.st-fail,ul.items li.st-error,ul.items li.st-memory{border-left-color:#c62828;background:#fffafa}
ul.items li.st-timeout,ul.items li.st-partial{border-left-color:#b26a00;background:#fffcf5}
ul.items li.st-needs_review,ul.items li.st-skipped{border-left-color:#8c959f;background:#f8f9fa}
.row{display:flex;gap:.6rem;align-items:baseline;justify-content:space-between;flex-wrap:wrap}
.t{font-weight:600;flex:1 1 16rem} .pts{white-space:nowrap;font-variant-numeric:tabular-nums;color:#333}
.s{font-weight:650;white-space:nowrap;font-size:.9rem} .s-pass,.s-credited{color:#1a7f37} .s-fail,.s-error,.s-memory{color:#c62828}
.s-timeout,.s-partial{color:#9a5b00} .s-needs_review,.s-skipped{color:#59636e}
.msg{white-space:pre-wrap;margin:.3rem 0 0} .tag{display:inline-block;font-size:.78rem;border-radius:4px;padding:0 .35rem;margin-left:.3rem;
 background:#eef4fd;color:#0b57d0;border:1px solid #bcd3f5;font-weight:600;white-space:nowrap}
.tag.ta{background:#f3e8fd;color:#6d28d9;border-color:#d8c2f5} .tag.wait{background:#f6f8fa;color:#59636e;border-color:#d0d7de}
.gid{font-size:.82rem;color:#59636e;font-weight:400}
blockquote.answer{margin:.4rem 0;padding:.5rem .8rem;border-left:4px solid #d0d7de;background:#f6f8fa;white-space:pre-wrap;
 border-radius:0 6px 6px 0;font-size:.95rem}
blockquote.answer.empty{color:#59636e;font-style:italic}
figure{margin:1rem 0;border:1px solid #d0d7de;border-radius:8px;padding:.6rem;break-inside:avoid}
figure img{display:block;max-width:100%;height:auto;margin:0 auto} figcaption{font-size:.9rem;color:#333;margin-top:.4rem}
figcaption b{display:block;margin-bottom:.2rem}
footer{margin-top:2.5rem;border-top:1px solid #d0d7de;padding-top:.6rem}
@media (max-width:30rem){body{padding:.7rem .7rem 2rem} h1{font-size:1.25rem} .score .v{font-size:1.1rem}}
@media print{nav.toc{display:none} body{max-width:none;padding:0;font-size:10.5pt} h2{break-after:avoid}
 ul.items li,figure{break-inside:avoid} a{color:inherit;text-decoration:none} .box{border-color:#999}
 figure img{max-width:85%}}
"""


def _e(text: object) -> str:
    return escape("" if text is None else str(text), quote=True)


def _when(stamp: str) -> str:
    """A submission time to the minute ("2025-11-14 10:34 UTC"): nbgrader's timestamp.txt and
    the LMS carry microseconds nobody reads; anything unparseable is shown as given."""
    text = str(stamp).strip()
    m = re.match(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?\s*(.*)$", text)
    if not m:
        return text
    zone = m.group(3).strip()
    if zone in ("Z", "+00:00", "+0000"):
        zone = "UTC"
    return f"{m.group(1)} {m.group(2)}" + (f" {zone}" if zone else "")


def _status(status: str) -> str:
    icon = STATUS_ICON.get(status, "")
    return f'<span class="s s-{_e(status)}">{_e(icon)} {_e(STATUS_TEXT.get(status, status))}</span>'


def _pts(points: float, max_points: float) -> str:
    return f'<span class="pts">{fmt_points(points)} / {fmt_points(max_points)}</span>'


def _bar(points: float, max_points: float) -> str:
    pct = 0 if not max_points else max(0, min(100, round(100 * points / max_points)))
    return f'<div class="bar" role="presentation"><i style="width:{pct}%"></i></div>'


def page_head(title: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<meta name=\"color-scheme\" content=\"light\">"
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>")


def _figure(spec: dict[str, Any]) -> str:
    uri = spec_uri(spec)
    if not uri:
        return ""
    title = spec.get("title") or ""
    return (f'<figure id="plot-{_e(spec.get("id"))}"><img src="{uri}" alt="{_e(title)}" loading="eager">'
            f"<figcaption><b>{_e(title)}</b>{_e(spec.get('caption'))}</figcaption></figure>")


def _test_item(t: ResultRow) -> str:
    msg = f'<div class="msg">{_e(t.message)}</div>' if t.message and t.status != "pass" else ""
    return (f'<li class="st-{_e(t.status)}"><div class="row"><span class="t">{_e(t.title or t.item)}</span>'
            f"{_status(t.status)}{_pts(t.points, t.max_points)}</div>{msg}</li>")


def _rubric_item(r: ResultRow) -> str:
    tags = ""
    if "ta" in r.detail:
        tags += '<span class="tag ta">decided by a TA</span>'
    elif r.status == "needs_review" and r.detail.get("item_kind") == "criterion":
        # the status already says "waiting for a TA"; the tag adds what counts until then. A lab
        # without a rubric has one manual item per answer (no item_kind): nothing was proposed.
        proposal = r.detail.get("proposal_points")
        if proposal is not None:
            tags += (f'<span class="tag wait">counts {fmt_points(float(proposal))} / {fmt_points(r.max_points)} '
                     "until a TA decides</span>")
    kind = r.detail.get("item_kind")
    label = ("Misconception check: " if kind == "misconception" else "") + (r.title or r.item)
    if kind == "misconception":
        points = f'<span class="pts">{fmt_points(r.points)}</span>' if r.points < 0 else '<span class="pts">–</span>'
    else:
        points = _pts(r.points, r.max_points)
    status = r.status
    if kind == "misconception" and status == "credited":
        shown = '<span class="s s-credited">✓ not present</span>'
    elif kind == "misconception" and status == "fail":
        shown = '<span class="s s-fail">✗ present</span>'
    elif status == "fail":
        shown = '<span class="s s-fail">✗ not credited</span>'
    else:
        shown = _status(status)
    msg = f'<div class="msg">{_e(r.message)}</div>' if r.message else ""
    return (f'<li class="st-{_e(status)}"><div class="row"><span class="t">{_e(label)}{tags}</span>'
            f"{shown}{points}</div>{msg}</li>")


def _question_total(rows: list[ResultRow]) -> tuple[float, float]:
    from autograder.grading.written import question_total

    return question_total(rows)


def render_feedback(view: StudentView, plots: list[dict[str, Any]] | None = None) -> str:
    """The whole page for one student (a str of HTML)."""
    plots = list(plots if plots is not None else view.extra.get("plots", []) or [])
    out: list[str] = []
    add = out.append
    who = view.display_name or view.student_id
    add(page_head(f"{view.lab_title}: feedback for {who}"))
    add(f"<header><p class=\"muted\" style=\"margin:0\">Feedback · {_e(view.assignment)}</p>"
        f"<h1>{_e(view.lab_title)}</h1>")
    meta = [f"<b>{_e(who)}</b>" + (f" ({_e(view.student_id)})" if who != view.student_id else "")]
    if view.submitted_at:
        meta.append(f"submitted {_e(_when(view.submitted_at))}")
    if view.attempt:
        meta.append(f"attempt {view.attempt + 1} (the latest counts)")
    if view.late:
        meta.append("submitted late")
    add(f"<p class=\"muted\">{' · '.join(meta)}</p></header>")

    box = {"graded": "ok", "partial": "warn", "error": "err"}.get(view.status, "warn")
    add(f'<div class="box {box}" id="status"><b>{_e(RUN_STATUS_TEXT.get(view.status, view.status))}</b>'
        + (f'<div class="msg">{_e(view.message)}</div>' if view.message else "") + "</div>")

    parts_present = [p for p in view.parts if p.max_points or p.key in PART_TITLES]
    toc = ['<a href="#score">Score</a>']
    if view.issues or view.cell_errors:
        toc.append('<a href="#issues">Issues</a>')
    for p in (parts_present if view.status != "error" else []):
        toc.append(f'<a href="#part-{_e(p.key)}">{_e(p.title)}</a>')
    add(f'<nav class="toc" aria-label="sections">{"".join(toc)}</nav>')

    # -- score ------------------------------------------------------------------
    add('<section id="score"><h2>Score</h2><div class="scores">')
    for part in (view.parts if view.status != "error" else []):
        add(f'<div class="score"><div class="k">{_e(part.title)}</div><div class="v">{fmt_points(part.points)}'
            f' <span class="muted">/ {fmt_points(part.max_points)}</span></div>{_bar(part.points, part.max_points)}</div>')
    add(f'<div class="score total"><div class="k">Total</div><div class="v">{fmt_points(view.total_points)}'
        f' <span class="muted">/ {fmt_points(view.max_points)}</span></div>{_bar(view.total_points, view.max_points)}</div>')
    add("</div>")
    add(f'<p class="muted small">Code (hidden tests) {fmt_points(view.code_points)} / {fmt_points(view.code_max)} · '
        f'written answers {fmt_points(view.written_points)} / {fmt_points(view.written_max)}</p>')
    if view.needs_review:
        one = view.needs_review == 1
        add(f'<div class="box info">{view.needs_review} written item{"" if one else "s"} {"is" if one else "are"} '
            f"<b>waiting for a TA</b>. Until a TA decides, {'it counts' if one else 'they count'} the grader's "
            f"proposal, so {'its' if one else 'these'} points may still change.</div>")
    add("</section>")

    # -- issues -----------------------------------------------------------------
    student_errors = [c for c in view.cell_errors if c.get("origin") == "student"]
    if view.issues or student_errors:
        add('<section id="issues"><h2>Issues found in your notebook</h2><ul class="items">')
        for issue in view.issues:
            kind = str(issue.get("kind", ""))
            where = f' <span class="gid">{_e(issue.get("grade_id"))}</span>' if issue.get("grade_id") else ""
            add(f'<li class="st-fail"><div class="row"><span class="t">{_e(ISSUE_TEXT.get(kind, kind))}{where}</span></div>'
                f'<div class="msg">{_e(issue.get("message", ""))}</div></li>')
        for c in student_errors:
            detail = f"{c.get('error_type', 'Error')}: {c.get('error_message', '')}".rstrip(": ")
            hint = ""
            if "File too large" in detail:
                hint = "Your notebook printed more output than the grader keeps: remove large prints inside loops."
            elif c.get("error_type") == "MemoryError":
                hint = "Your notebook ran out of memory."
            add(f'<li class="st-error"><div class="row"><span class="t">Your cell <code>{_e(c.get("grade_id"))}</code> '
                f'raised an error</span></div><div class="msg"><code>{_e(detail)}</code>'
                + (f"\n{_e(hint)}" if hint else "") + "</div></li>")
        add("</ul></section>")

    # -- parts ------------------------------------------------------------------
    plots_by_gid: dict[str, list[dict[str, Any]]] = {}
    for spec in plots:
        plots_by_gid.setdefault(str(spec.get("grade_id") or ""), []).append(spec)
    placed: set[int] = set()
    for part in (view.parts if view.status != "error" else []):
        add(f'<section id="part-{_e(part.key)}"><h2>{_e(part.title)} '
            f'<span class="muted">{fmt_points(part.points)} / {fmt_points(part.max_points)}</span></h2>')
        blurb = PART_BLURB.get(part.key)
        if blurb:
            add(f'<p class="muted">{_e(blurb)}</p>')
        tests = [t for t in view.tests if t.part == part.key]
        rubric = [r for r in view.rubric if r.part == part.key]
        if not tests and not rubric:
            add('<p class="muted">Nothing was graded here' + (" because the submission could not be graded."
                if view.status == "error" else ".") + "</p>")
        groups: dict[str, list[ResultRow]] = {}
        for t in tests:
            groups.setdefault(t.grade_id, []).append(t)
        for gid, rows in groups.items():
            got, mx = sum(r.points for r in rows), sum(r.max_points for r in rows)
            passed = sum(r.status == "pass" for r in rows)
            add(f'<h3 id="cell-{_e(gid)}"><code>{_e(gid)}</code> <span class="muted">{passed} of {len(rows)} tests '
                f"passed · {fmt_points(got)} / {fmt_points(mx)} points</span></h3>")
            add('<ul class="items">' + "".join(_test_item(t) for t in rows) + "</ul>")
            for spec in plots_by_gid.get(gid, []):
                placed.add(id(spec))
                add(_figure(spec))
        questions: dict[str, list[ResultRow]] = {}
        for r in rubric:
            questions.setdefault(r.grade_id, []).append(r)
        for gid, rows in questions.items():
            got, mx = _question_total(rows)
            add(f'<h3 id="q-{_e(gid)}"><code>{_e(gid)}</code> <span class="muted">{fmt_points(got)} / '
                f"{fmt_points(mx)} points</span></h3>")
            question = next((r.detail.get("question") for r in rows if r.detail.get("question")), None)
            if question:
                add(f"<p><i>{_e(question)}</i></p>")
            answer = view.answers.get(gid)
            if answer is not None:
                text = answer.strip()
                if not text or text == "YOUR ANSWER HERE":
                    add('<blockquote class="answer empty">(no answer)</blockquote>')
                else:
                    add(f'<p class="muted small" style="margin-bottom:0">Your answer:</p>'
                        f'<blockquote class="answer">{_e(text)}</blockquote>')
            decided = any("ta" in x.detail for x in rows)
            qmsg = next((r.detail.get("question_message") for r in rows if r.detail.get("question_message")), None)
            qmsg = re.sub(r"^[\d.]+\s*/\s*[\d.]+ points?\.?\s*", "", str(qmsg or "").strip())  # shown above
            if qmsg and not decided:
                add(f'<p class="msg">{_e(qmsg)}</p>')
            add('<ul class="items">' + "".join(_rubric_item(r) for r in rows) + "</ul>")
        for gid in (part.key,):  # plots tied to a part rather than a cell
            for spec in plots_by_gid.get(gid, []):
                placed.add(id(spec))
                add(_figure(spec))
        add("</section>")
    rest = [s for s in plots if id(s) not in placed]
    if rest:
        add('<section id="plots"><h2>Plots from your code</h2>' + "".join(_figure(s) for s in rest) + "</section>")
    add('<footer><p class="muted small">Generated by the course autograder from your notebook. Hidden tests call '
        "your code and decide on the grader's side; nothing your notebook prints counts. Questions about a result: "
        "ask your TA.</p></footer>")
    add("</body></html>\n")
    return "\n".join(out)


def write_feedback(out_dir: Path, views: Iterable[StudentView]) -> list[Path]:
    """Write ``out_dir/feedback/<student_id>.html`` for every view (atomically);
    pages of students no longer in the gradebook are removed."""
    folder = Path(out_dir) / "feedback"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for view in views:
        path = folder / f"{view.student_id}.html"
        write_text(path, render_feedback(view))
        written.append(path)
    keep = {p.name for p in written}
    for stale in folder.glob("*.html"):
        if stale.name not in keep:
            stale.unlink()
    return written
