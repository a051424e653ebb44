"""The instructor's class report: ``report.html``.

``render_class_report(views, lab_title, assignment, batch) -> str``: counts per
status, the score distribution, the pass rate of every hidden test, the credit
rate of every rubric item, submissions that could not be graded (and why),
partial runs, tampered or missing cells, the review-queue size and how long
grading took. Self-contained HTML, every text escaped.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from html import escape
from typing import Any, Sequence

from autograder.reports.feedback import CSS, STATUS_TEXT
from autograder.reports.model import StudentView, fmt_points

BINS = 10


def _e(text: object) -> str:
    return escape("" if text is None else str(text), quote=True)


def _pct(n: int, d: int) -> str:
    return f"{100.0 * n / d:.0f}%" if d else "–"


def distribution(views: Sequence[StudentView], bins: int = BINS) -> list[tuple[str, int]]:
    """(label, count) per score band of total/max over graded and partial submissions."""
    counts = [0] * bins
    for v in views:
        if v.status == "error" or not v.max_points:
            continue
        frac = max(0.0, min(1.0, v.total_points / v.max_points))
        counts[min(int(frac * bins), bins - 1)] += 1
    step = 100 // bins
    return [(f"{i * step}–{(i + 1) * step}%" if i < bins - 1 else f"{i * step}–100%", c) for i, c in enumerate(counts)]


def render_class_report(views: Sequence[StudentView], *, lab_title: str, assignment: str,
                        batch: dict[str, Any] | None = None) -> str:
    out: list[str] = []
    add = out.append
    statuses = Counter(v.status for v in views)
    scored = [v for v in views if v.status != "error"]
    review = sum(v.needs_review for v in views)
    add("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
    add(f"<title>{_e(lab_title)}: class report</title><style>{CSS}</style></head><body>")
    add(f"<h1>{_e(lab_title)}: class report</h1><p class=\"muted\">assignment {_e(assignment)}</p>")

    add("<h2>Summary</h2><table>")
    add(f"<tr><td>Students</td><td class=\"num\">{len(views)}</td></tr>")
    for st in ("graded", "partial", "error"):
        add(f"<tr><td>{_e(st)}</td><td class=\"num\">{statuses.get(st, 0)}</td></tr>")
    add(f"<tr><td>Written items waiting for review</td><td class=\"num\">{review}</td></tr>")
    if scored:
        totals = sorted(v.total_points for v in scored)
        mean = sum(totals) / len(totals)
        median = totals[len(totals) // 2] if len(totals) % 2 else (totals[len(totals) // 2 - 1] + totals[len(totals) // 2]) / 2
        add(f"<tr><td>Mean / median total</td><td class=\"num\">{fmt_points(mean)} / {fmt_points(median)} "
            f"(of {fmt_points(scored[0].max_points)})</td></tr>")
    add("</table>")

    add("<h2>Score distribution</h2><table><tr><th>Total score</th><th>Students</th><th></th></tr>")
    dist = distribution(views)
    peak = max((c for _, c in dist), default=0) or 1
    for label, count in dist:
        bar = "█" * round(20 * count / peak) if count else ""
        add(f"<tr><td>{_e(label)}</td><td class=\"num\">{count}</td><td>{bar}</td></tr>")
    add("</table>")

    tests: dict[str, dict[str, Any]] = {}
    for v in scored:
        for t in v.tests:
            entry = tests.setdefault(t.item, {"title": t.title, "grade_id": t.grade_id, "n": 0, "pass": 0, "status": Counter()})
            entry["n"] += 1
            entry["pass"] += t.status == "pass"
            entry["status"][t.status] += 1
    if tests:
        add("<h2>Hidden tests: pass rate</h2><table><tr><th>Test</th><th>Cell</th><th>Pass rate</th><th>Outcomes</th></tr>")
        for name, e in tests.items():
            outcomes = ", ".join(f"{STATUS_TEXT.get(s, s)} {n}" for s, n in sorted(e["status"].items()))
            add(f"<tr><td>{_e(e['title'] or name)}<div class=\"muted\">{_e(name)}</div></td><td>{_e(e['grade_id'])}</td>"
                f"<td class=\"num\">{_pct(e['pass'], e['n'])}</td><td>{_e(outcomes)}</td></tr>")
        add("</table>")

    items: dict[str, Counter] = defaultdict(Counter)
    for v in scored:
        for r in v.rubric:
            items[r.item][r.status] += 1
    if items:
        add("<h2>Written answers: rubric items</h2><table><tr><th>Item</th><th>Credited</th><th>Outcomes</th></tr>")
        for name, counter in items.items():
            n = sum(counter.values())
            outcomes = ", ".join(f"{STATUS_TEXT.get(s, s)} {c}" for s, c in sorted(counter.items()))
            add(f"<tr><td>{_e(name)}</td><td class=\"num\">{_pct(counter.get('credited', 0), n)}</td><td>{_e(outcomes)}</td></tr>")
        add("</table>")

    errors = [v for v in views if v.status == "error"]
    add(f"<h2>Could not be graded ({len(errors)})</h2>")
    if errors:
        add("<table><tr><th>Student</th><th>Why</th><th>File</th></tr>")
        for v in errors:
            add(f"<tr><td>{_e(v.student_id)}</td><td class=\"msg\">{_e(v.message)}</td><td>{_e(v.source_path)}</td></tr>")
        add("</table>")
    else:
        add("<p>None.</p>")
    partial = [v for v in views if v.status == "partial"]
    add(f"<h2>Partly graded ({len(partial)})</h2>")
    if partial:
        add("<table><tr><th>Student</th><th>What stopped the run</th></tr>")
        for v in partial:
            add(f"<tr><td>{_e(v.student_id)}</td><td class=\"msg\">{_e(v.message)}</td></tr>")
        add("</table>")
    else:
        add("<p>None.</p>")
    issues = [(v.student_id, i) for v in views for i in v.issues]
    add(f"<h2>Tampered, missing or duplicated cells ({len(issues)})</h2>")
    if issues:
        kinds = Counter(i.get("kind") for _, i in issues)
        add("<p>" + _e(", ".join(f"{k}: {n}" for k, n in sorted(kinds.items()))) + "</p>")
        add("<table><tr><th>Student</th><th>Kind</th><th>Cell</th><th>Detail</th></tr>")
        for sid, i in issues:
            add(f"<tr><td>{_e(sid)}</td><td>{_e(i.get('kind'))}</td><td>{_e(i.get('grade_id'))}</td><td>{_e(i.get('message'))}</td></tr>")
        add("</table>")
    else:
        add("<p>None.</p>")

    add("<h2>Grading time</h2><table>")
    walls = [v.wall_s for v in views if v.wall_s]
    if walls:
        add(f"<tr><td>Notebook run time per submission (mean / max)</td><td class=\"num\">"
            f"{sum(walls) / len(walls):.2f} s / {max(walls):.2f} s</td></tr>")
    if batch:
        add(f"<tr><td>Last batch</td><td class=\"num\">{_e(batch.get('started_at'))}: {_e(batch.get('graded'))} graded, "
            f"{_e(batch.get('skipped'))} unchanged, {_e(batch.get('seconds'))} s ({_e(batch.get('executor'))}, "
            f"{_e(batch.get('workers'))} workers)</td></tr>")
        if batch.get("graded"):
            add(f"<tr><td>Seconds per submission (last batch)</td><td class=\"num\">"
                f"{float(batch.get('seconds') or 0) / int(batch['graded']):.2f}</td></tr>")
    add("</table></body></html>\n")
    return "\n".join(out)
