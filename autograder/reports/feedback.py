"""The student's feedback page: ``feedback/<student_id>.html``.

``render_feedback(view) -> str`` is a pure function of a
:class:`~autograder.reports.model.StudentView`: one self-contained HTML page
(inline CSS, no scripts, no external resources), every piece of text
HTML-escaped. It shows the status, the totals per part (Build / Predict &
probe / Explain & defend), every hidden test's title, outcome and message,
every rubric item, and issues such as edited provided cells. Only
student-facing text appears: no test source, no thresholds, no TA-only notes.
"""
from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Iterable

from autograder.labs import PART_TITLES
from autograder.reports.atomic import write_text
from autograder.reports.model import StudentView, fmt_points

STATUS_TEXT = {
    "pass": "passed", "fail": "failed", "error": "error", "timeout": "time limit", "memory": "memory limit",
    "skipped": "skipped", "credited": "credited", "partial": "partly credited", "needs_review": "waiting for a TA",
}
RUN_STATUS_TEXT = {
    "graded": "Graded.",
    "partial": "Partly graded: some tests could not run (see below).",
    "error": "Your submission could not be graded.",
}

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0} th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eee;vertical-align:top}
th{background:#f6f6f6} td.num{text-align:right;white-space:nowrap}
.s{font-weight:600;white-space:nowrap} .s-pass,.s-credited{color:#1a7f37} .s-fail,.s-error{color:#c62828}
.s-timeout,.s-memory,.s-partial{color:#b26a00} .s-needs_review,.s-skipped{color:#555}
.box{padding:.6rem .8rem;border-radius:6px;margin:.6rem 0} .warn{background:#fff4e5} .err{background:#fdecea} .ok{background:#eef7ee}
.msg{white-space:pre-wrap} .muted{color:#666;font-size:.9rem}
"""


def _e(text: object) -> str:
    return escape("" if text is None else str(text), quote=True)


def _status(status: str) -> str:
    return f'<span class="s s-{_e(status)}">{_e(STATUS_TEXT.get(status, status))}</span>'


def render_feedback(view: StudentView) -> str:
    """The whole page for one student (a str of HTML)."""
    out: list[str] = []
    add = out.append
    add("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
    add(f"<title>{_e(view.lab_title)}: feedback for {_e(view.student_id)}</title>")
    add(f"<style>{CSS}</style></head><body>")
    add(f"<h1>{_e(view.lab_title)}</h1>")
    add(f'<p class="muted">Feedback for <b>{_e(view.student_id)}</b> · assignment {_e(view.assignment)}'
        + (" · submitted late" if view.late else "") + "</p>")
    box = {"graded": "ok", "partial": "warn", "error": "err"}.get(view.status, "warn")
    add(f'<div class="box {box}"><b>{_e(RUN_STATUS_TEXT.get(view.status, view.status))}</b>'
        + (f'<div class="msg">{_e(view.message)}</div>' if view.message else "") + "</div>")

    add("<h2>Score</h2><table><tr><th>Part</th><th>Points</th></tr>")
    for part in view.parts:
        add(f'<tr><td>{_e(part.title)}</td><td class="num">{fmt_points(part.points)} / {fmt_points(part.max_points)}</td></tr>')
    add(f'<tr><th>Code (hidden tests)</th><th class="num">{fmt_points(view.code_points)} / {fmt_points(view.code_max)}</th></tr>')
    add(f'<tr><th>Written answers</th><th class="num">{fmt_points(view.written_points)} / {fmt_points(view.written_max)}</th></tr>')
    add(f'<tr><th>Total</th><th class="num">{fmt_points(view.total_points)} / {fmt_points(view.max_points)}</th></tr></table>')
    if view.needs_review:
        add(f'<p class="muted">{view.needs_review} written item(s) are waiting for a TA; their points may still change.</p>')

    if view.issues:
        add("<h2>Issues found in your notebook</h2><ul>")
        for issue in view.issues:
            add(f"<li>{_e(issue.get('message', ''))}</li>")
        add("</ul>")
    student_errors = [c for c in view.cell_errors if c.get("origin") == "student"]
    if student_errors:
        add("<h2>Errors while running your notebook</h2><ul>")
        for c in student_errors:
            detail = f"{c.get('error_type', 'Error')}: {c.get('error_message', '')}".rstrip(": ")
            hint = ""
            if "File too large" in detail:
                hint = " (your notebook printed more output than the grader keeps: remove large prints inside loops)"
            elif c.get("error_type") == "MemoryError":
                hint = " (your notebook ran out of memory)"
            add(f"<li>Cell <code>{_e(c.get('grade_id'))}</code> raised <code>{_e(detail)}</code>{_e(hint)}</li>")
        add("</ul>")

    if view.tests:
        add("<h2>Hidden tests</h2>")
        for key, title in PART_TITLES.items():
            rows = [t for t in view.tests if t.part == key]
            if not rows:
                continue
            add(f"<h3>{_e(title)}</h3><table><tr><th>Test</th><th>Result</th><th>Points</th><th>Explanation</th></tr>")
            for t in rows:
                add(f"<tr><td>{_e(t.title or t.item)}<div class=\"muted\">{_e(t.grade_id)}</div></td><td>{_status(t.status)}</td>"
                    f'<td class="num">{fmt_points(t.points)} / {fmt_points(t.max_points)}</td><td class="msg">{_e(t.message)}</td></tr>')
            add("</table>")

    if view.rubric:
        add("<h2>Written answers</h2>")
        current = None
        for r in view.rubric:
            if r.grade_id != current:
                if current is not None:
                    add("</table>")
                current = r.grade_id
                add(f"<h3>{_e(r.grade_id)} <span class=\"muted\">({_e(PART_TITLES.get(r.part, r.part))})</span></h3>")
                if r.detail.get("question"):
                    add(f"<p><i>{_e(r.detail['question'])}</i></p>")
                decided = any("ta" in x.detail for x in view.rubric if x.grade_id == r.grade_id)
                if r.detail.get("question_message") and not decided:
                    add(f"<p class=\"msg\">{_e(r.detail['question_message'])}</p>")
                add("<table><tr><th>Criterion</th><th>Result</th><th>Points</th><th>Feedback</th></tr>")
            add(f"<tr><td>{_e(r.title or r.item)}</td><td>{_status(r.status)}</td>"
                f'<td class="num">{fmt_points(r.points)} / {fmt_points(r.max_points)}</td><td class="msg">{_e(r.message)}</td></tr>')
        add("</table>")
    add('<p class="muted">Generated by the course autograder. Questions about a result: ask your TA.</p>')
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
