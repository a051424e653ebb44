"""The instructor's class report: ``report.html``.

``render_class_report(views, lab_title, assignment, batch) -> str``, one
self-contained page (inline CSS, plots as base64 PNGs drawn with matplotlib's
Agg backend, no scripts), every text escaped. Sections (each has an ``id``):

* ``summary``: students, counts per status, mean / median, review queue, time;
* ``distribution``: histograms of the total and of each part (Build, Predict &
  probe, Explain & defend);
* ``tests``: the pass rate of every hidden test and the full-marks rate of
  every answer cell (grade_id);
* ``written``: per question the mean score, and per rubric item how often it
  was credited, not credited or left for review;
* ``misconceptions``: how many answers to each question show each named
  misconception of the rubric (the lesson plans' "common misconception to
  confront"), with the students concerned;
* ``problems``: submissions that could not be graded and why, partial runs and
  what stopped them, tampered / missing / duplicated cells;
* ``review``: the written items waiting for a TA, per question;
* ``timing``: how long grading took;
* ``students``: one row per student with links to their feedback pages.
"""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from html import escape
from typing import Any, Sequence

from autograder.labs import PART_TITLES
from autograder.reports.feedback import STATUS_TEXT, page_head
from autograder.reports.model import StudentView, fmt_points
from autograder.reports.plots import REFERENCE, STUDENT, _figure as _mpl, _png, data_uri

BINS = 10

REPORT_CSS = """
body{max-width:68rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.92rem;overflow-wrap:break-word}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa;font-weight:600} td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.tablewrap{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
.rate{display:flex;align-items:center;gap:.4rem;min-width:7rem} .rate .bar{flex:1;margin:0;min-width:3rem}
.rate .bar i.low{background:#c62828} .rate .bar i.mid{background:#b26a00}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.6rem;margin:.6rem 0}
.kpi{border:1px solid #d0d7de;border-radius:8px;padding:.5rem .7rem} .kpi .k{font-size:.82rem;color:#59636e} .kpi .v{font-size:1.3rem;font-weight:650}
details{margin:.3rem 0} summary{cursor:pointer;color:#0b57d0}
tr.group td{background:#fbfbfc;font-weight:600;border-top:1px solid #d0d7de}
@media print{.tablewrap{overflow:visible} details{display:block} details>*{display:block}}
"""


def _e(text: object) -> str:
    return escape("" if text is None else str(text), quote=True)


def _pct(n: float, d: float) -> str:
    return f"{100.0 * n / d:.0f}%" if d else "–"


def _rate(n: float, d: float) -> str:
    pct = 0 if not d else max(0, min(100, round(100 * n / d)))
    cls = "low" if pct < 50 else ("mid" if pct < 80 else "")
    return (f'<div class="rate"><span class="num" style="min-width:2.6rem">{_pct(n, d)}</span>'
            f'<div class="bar"><i class="{cls}" style="width:{pct}%"></i></div></div>')


def _img(png: bytes, alt: str) -> str:
    return f'<figure><img src="{data_uri(png)}" alt="{_e(alt)}"></figure>'


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


# --------------------------------------------------------------------------- plots


def _hist_png(scored: Sequence[StudentView]) -> bytes | None:
    """Small multiples: total and each part, points on the x axis."""
    panels: list[tuple[str, list[float], float]] = []
    if scored:
        panels.append(("Total", [v.total_points for v in scored], max(v.max_points for v in scored)))
        for key, title in PART_TITLES.items():
            vals, mx = [], 0.0
            for v in scored:
                part = next((p for p in v.parts if p.key == key), None)
                if part is not None and part.max_points:
                    vals.append(part.points)
                    mx = max(mx, part.max_points)
            if vals:
                panels.append((title, vals, mx))
    if not panels:
        return None
    plt = _mpl()
    cols = 2 if len(panels) > 1 else 1
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(7.6, 2.5 * rows), squeeze=False)
    for ax, (title, vals, mx) in zip([a for r in axes for a in r], panels):
        n_bins = int(min(max(mx, 1), 20))
        ax.hist(vals, bins=n_bins, range=(0, mx if mx else 1), color=STUDENT if title == "Total" else "#64b5f6",
                edgecolor="white")
        mean = sum(vals) / len(vals)
        ax.axvline(mean, color=REFERENCE, linestyle="--", linewidth=1.3, label=f"mean {mean:.1f}")
        ax.set_title(f"{title} (of {fmt_points(mx)})", fontsize=10)
        ax.set_xlim(0, mx if mx else 1)
        ax.set_ylabel("students", fontsize=9)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.legend(frameon=False, fontsize=8, loc="upper left")
        ax.tick_params(labelsize=8)
    for ax in [a for r in axes for a in r][len(panels):]:
        ax.axis("off")
    fig.tight_layout()
    return _png(fig)


def _barh_png(labels: list[str], values: list[float], *, xlabel: str, color: str = STUDENT,
              xmax: float = 100.0) -> bytes | None:
    if not labels:
        return None
    plt = _mpl()
    height = max(1.6, 0.32 * len(labels) + 0.8)
    fig, ax = plt.subplots(figsize=(7.6, height))
    ys = list(range(len(labels)))[::-1]
    ax.barh(ys, values, color=color, height=0.6)
    ax.set_yticks(ys)
    ax.set_yticklabels([lb if len(lb) <= 48 else lb[:46] + "…" for lb in labels], fontsize=8)
    ax.set_xlim(0, xmax)
    ax.set_xlabel(xlabel, fontsize=9)
    for y, v in zip(ys, values):
        ax.text(min(v + xmax * 0.01, xmax * 0.93), y, f"{v:.0f}%", va="center", fontsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


# --------------------------------------------------------------------------- the page


def _misconceptions(scored: Sequence[StudentView]) -> dict[tuple[str, str], dict[str, Any]]:
    """(question, item) -> {title, answered, present [sids], review [sids]} for misconception items."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for v in scored:
        for r in v.rubric:
            if r.detail.get("item_kind") != "misconception":
                continue
            entry = out.setdefault((r.grade_id, r.item), {"title": r.title, "answered": 0, "present": [], "review": [],
                                                           "part": r.part})
            if r.detail.get("decision") == "missing":
                continue
            answer = (v.answers.get(r.grade_id) or "").strip()
            if not answer or answer == "YOUR ANSWER HERE":
                continue
            entry["answered"] += 1
            if r.status == "fail" or ("ta" in r.detail and r.points < 0):
                entry["present"].append(v.student_id)
            elif r.status == "needs_review":
                entry["review"].append(v.student_id)
    return out


def render_class_report(views: Sequence[StudentView], *, lab_title: str, assignment: str,
                        batch: dict[str, Any] | None = None) -> str:
    out: list[str] = []
    add = out.append
    statuses = Counter(v.status for v in views)
    scored = [v for v in views if v.status != "error"]
    review = sum(v.needs_review for v in views)
    head = page_head(f"{lab_title}: class report")
    add(head.replace("</style>", REPORT_CSS + "</style>", 1))
    add(f'<header><p class="muted" style="margin:0">Class report · {_e(assignment)}</p><h1>{_e(lab_title)}</h1></header>')
    toc = [("summary", "Summary"), ("distribution", "Score distribution"), ("tests", "Hidden tests"),
           ("written", "Written answers"), ("misconceptions", "Misconceptions"), ("problems", "Problems"),
           ("review", "Review queue"), ("timing", "Grading time"), ("students", "Students")]
    add('<nav class="toc" aria-label="sections">' + "".join(f'<a href="#{k}">{_e(t)}</a>' for k, t in toc) + "</nav>")

    # -- summary ------------------------------------------------------------------------
    add('<section id="summary"><h2>Summary</h2><div class="kpis">')
    kpis = [("Students", str(len(views))), ("Graded", str(statuses.get("graded", 0))),
            ("Partial", str(statuses.get("partial", 0))), ("Errors", str(statuses.get("error", 0))),
            ("Waiting for a TA", str(review))]
    if scored:
        totals = [v.total_points for v in scored]
        mx = max(v.max_points for v in scored)
        kpis.append(("Mean total", f"{fmt_points(statistics.fmean(totals))} / {fmt_points(mx)}"))
        kpis.append(("Median total", f"{fmt_points(statistics.median(totals))} / {fmt_points(mx)}"))
    if batch and batch.get("seconds") is not None:
        kpis.append(("Last batch", f"{float(batch.get('seconds') or 0):.0f} s"))
    for k, v in kpis:
        add(f'<div class="kpi"><div class="k">{_e(k)}</div><div class="v">{_e(v)}</div></div>')
    add("</div>")
    add('<div class="tablewrap"><table><tr><th>Status</th><th class="num">Students</th><th>Meaning</th></tr>'
        f'<tr><td>graded</td><td class="num">{statuses.get("graded", 0)}</td><td>everything ran and was checked</td></tr>'
        f'<tr><td>partial</td><td class="num">{statuses.get("partial", 0)}</td><td>some tests could not run (time, memory, crash)</td></tr>'
        f'<tr><td>error</td><td class="num">{statuses.get("error", 0)}</td><td>nothing could be graded (see Problems)</td></tr>'
        "</table></div></section>")

    # -- distribution ---------------------------------------------------------------------
    add('<section id="distribution"><h2>Score distribution</h2>')
    add(f'<p class="muted">Graded and partial submissions ({len(scored)}); submissions with errors are left out. '
        "The dashed line is the mean.</p>")
    png = _hist_png(scored)
    if png:
        add(_img(png, "Histograms of the total and of each part"))
    add('<details><summary>As a table (total, in bands)</summary><div class="tablewrap"><table>'
        '<tr><th>Total score</th><th class="num">Students</th></tr>')
    for label, count in distribution(views):
        add(f'<tr><td>{_e(label)}</td><td class="num">{count}</td></tr>')
    add("</table></div></details>")
    if scored:
        add('<div class="tablewrap"><table><tr><th>Part</th><th class="num">Mean</th><th class="num">Median</th>'
            '<th class="num">Max</th><th>Full marks</th></tr>')
        for key, title in PART_TITLES.items():
            pts = [(p.points, p.max_points) for v in scored for p in v.parts if p.key == key and p.max_points]
            if not pts:
                continue
            vals = [p for p, _ in pts]
            full = sum(1 for p, m in pts if p >= m)
            add(f'<tr><td>{_e(title)}</td><td class="num">{fmt_points(statistics.fmean(vals))}</td>'
                f'<td class="num">{fmt_points(statistics.median(vals))}</td><td class="num">{fmt_points(pts[0][1])}</td>'
                f"<td>{_rate(full, len(pts))}</td></tr>")
        add("</table></div>")
    add("</section>")

    # -- hidden tests -----------------------------------------------------------------------
    add('<section id="tests"><h2>Hidden tests: pass rate</h2>')
    tests: dict[str, dict[str, Any]] = {}
    cells: dict[str, dict[str, Any]] = {}
    for v in scored:
        per_cell: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for t in v.tests:
            e = tests.setdefault(t.item, {"title": t.title, "grade_id": t.grade_id, "n": 0, "pass": 0,
                                          "status": Counter(), "points": t.max_points})
            e["n"] += 1
            e["pass"] += t.status == "pass"
            e["status"][t.status] += 1
            per_cell[t.grade_id][0] += t.points
            per_cell[t.grade_id][1] += t.max_points
        for gid, (p, m) in per_cell.items():
            c = cells.setdefault(gid, {"n": 0, "full": 0, "points": 0.0, "max": m})
            c["n"] += 1
            c["full"] += p >= m
            c["points"] += p
    if cells:
        add('<p class="muted">Per answer cell: how many students got full marks on all its tests, and the mean '
            "points. Then every test, by its student-facing title. Low rates point at a misunderstanding worth "
            "addressing in class (or at a test worth re-checking).</p>")
        png = _barh_png(list(cells), [100.0 * c["full"] / c["n"] for c in cells.values()],
                        xlabel="students with full marks on the cell (%)")
        if png:
            add(_img(png, "Full-marks rate per answer cell"))
        add('<div class="tablewrap"><table><tr><th>Answer cell (grade_id)</th><th>Full marks</th>'
            '<th class="num">Mean points</th></tr>')
        for gid, c in cells.items():
            add(f'<tr><td><code>{_e(gid)}</code></td><td>{_rate(c["full"], c["n"])}</td>'
                f'<td class="num">{fmt_points(c["points"] / c["n"])} / {fmt_points(c["max"])}</td></tr>')
        add("</table></div>")
        add('<div class="tablewrap"><table><tr><th>Test</th><th class="num">Pts</th><th>Pass rate</th><th>Outcomes</th></tr>')
        current = None
        for name, e in tests.items():
            if e["grade_id"] != current:
                current = e["grade_id"]
                add(f'<tr class="group"><td colspan="4"><code>{_e(current)}</code></td></tr>')
            outcomes = ", ".join(f"{STATUS_TEXT.get(s, s)} {n}" for s, n in sorted(e["status"].items()))
            add(f'<tr><td>{_e(e["title"] or name)}<div class="muted small">{_e(name)}</div></td>'
                f'<td class="num">{fmt_points(e["points"])}</td><td>{_rate(e["pass"], e["n"])}</td>'
                f'<td class="small">{_e(outcomes)}</td></tr>')
        add("</table></div>")
    else:
        add("<p>No hidden-test results yet.</p>")
    add("</section>")

    # -- written answers ----------------------------------------------------------------------
    add('<section id="written"><h2>Written answers: rubric items</h2>')
    questions: dict[str, dict[str, Any]] = {}
    for v in scored:
        per_q: dict[str, list[Any]] = defaultdict(list)
        for r in v.rubric:
            per_q[r.grade_id].append(r)
        for gid, rows in per_q.items():
            from autograder.grading.written import question_total

            p, m = question_total(rows)
            q = questions.setdefault(gid, {"part": rows[0].part, "n": 0, "points": 0.0, "max": m, "items": {},
                                           "question": rows[0].detail.get("question")})
            q["n"] += 1
            q["points"] += p
            for r in rows:
                item = q["items"].setdefault(r.item, {"title": r.title, "kind": r.detail.get("item_kind", "criterion"),
                                                      "status": Counter(), "ta": 0})
                item["status"][r.status] += 1
                item["ta"] += "ta" in r.detail
    if questions:
        add('<p class="muted">Credited: the scorer or a TA gave the item. Waiting: the scorer was unsure; the '
            "proposal counts until a TA decides. Misconception items are listed in the next section.</p>")
        add('<div class="tablewrap"><table><tr><th>Rubric item</th><th>Credited</th><th>Outcomes</th></tr>')
        for gid, q in questions.items():
            add(f'<tr class="group"><td colspan="3"><code>{_e(gid)}</code> · {_e(PART_TITLES.get(q["part"], q["part"]))} · '
                f'mean {fmt_points(q["points"] / q["n"])} / {fmt_points(q["max"])}'
                + (f'<div class="muted small" style="font-weight:400">{_e(q["question"])}</div>' if q["question"] else "")
                + "</td></tr>")
            for name, item in q["items"].items():
                if item["kind"] == "misconception":
                    continue
                n = sum(item["status"].values())
                credited = item["status"].get("credited", 0) + 0.5 * item["status"].get("partial", 0)
                outcomes = ", ".join(f"{STATUS_TEXT.get(s, s)} {c}" for s, c in sorted(item["status"].items()))
                if item["ta"]:
                    outcomes += f" (TA decided {item['ta']})"
                add(f'<tr><td>{_e(item["title"] or name)}<div class="muted small">{_e(name)}</div></td>'
                    f"<td>{_rate(credited, n)}</td><td class=\"small\">{_e(outcomes)}</td></tr>")
        add("</table></div>")
    else:
        add("<p>No written answers graded yet.</p>")
    add("</section>")

    # -- misconceptions -------------------------------------------------------------------------
    add('<section id="misconceptions"><h2>Misconceptions</h2>')
    mis = _misconceptions(scored)
    if mis:
        add('<p class="muted">The named misconceptions of the rubric (the lesson plans\' "common misconception to '
            'confront" and the answer key\'s), per question: the share of non-empty answers that show it. '
            "Worth revisiting in the next lecture when the share is high.</p>")
        labels = [f"{gid} · {item.split('/', 1)[-1]}" for (gid, item) in mis]
        values = [100.0 * len(e["present"]) / e["answered"] if e["answered"] else 0.0 for e in mis.values()]
        png = _barh_png(labels, values, xlabel="answers showing the misconception (%)", color="#c62828",
                        xmax=max(10.0, min(100.0, (max(values) if values else 0) * 1.3 + 5)))
        if png:
            add(_img(png, "Prevalence of each misconception"))
        add('<div class="tablewrap"><table><tr><th>Question</th><th>Misconception</th><th class="num">Present</th>'
            '<th class="num">Unsure</th><th>Students</th></tr>')
        for (gid, item), e in mis.items():
            who = ", ".join(e["present"])
            add(f'<tr><td><code>{_e(gid)}</code></td><td>{_e(e["title"])}<div class="muted small">{_e(item)}</div></td>'
                f'<td class="num">{len(e["present"])} / {e["answered"]} ({_pct(len(e["present"]), e["answered"])})</td>'
                f'<td class="num">{len(e["review"])}</td>'
                f'<td class="small">{_e(who) if who else "–"}</td></tr>')
        add("</table></div>")
    else:
        add("<p>No misconception items in this lab's rubric (or no written answers graded yet).</p>")
    add("</section>")

    # -- problems --------------------------------------------------------------------------------
    add('<section id="problems"><h2>Problems</h2>')
    errors = [v for v in views if v.status == "error"]
    add(f'<h3 id="errors">Could not be graded ({len(errors)})</h3>')
    if errors:
        add('<div class="tablewrap"><table><tr><th>Student</th><th>Why</th><th>File</th></tr>')
        for v in errors:
            add(f'<tr><td>{_e(v.student_id)}</td><td class="msg">{_e(v.message)}</td>'
                f'<td class="small">{_e(v.source_path)}</td></tr>')
        add("</table></div>")
    else:
        add("<p>None.</p>")
    partial = [v for v in views if v.status == "partial"]
    add(f'<h3 id="partial">Partly graded ({len(partial)})</h3>')
    if partial:
        add('<div class="tablewrap"><table><tr><th>Student</th><th>What stopped the run</th>'
            '<th class="num">Tests not run</th></tr>')
        for v in partial:
            stopped = sum(1 for t in v.tests if t.status in ("timeout", "memory", "error"))
            add(f'<tr><td>{_e(v.student_id)}</td><td class="msg">{_e(v.message)}</td><td class="num">{stopped}</td></tr>')
        add("</table></div>")
    else:
        add("<p>None.</p>")
    issues = [(v.student_id, i) for v in views for i in v.issues]
    add(f'<h3 id="issues">Tampered, missing or duplicated cells ({len(issues)})</h3>')
    if issues:
        kinds = Counter(str(i.get("kind")) for _, i in issues)
        add("<p>" + _e(", ".join(f"{k}: {n}" for k, n in sorted(kinds.items()))) + "</p>")
        add('<div class="tablewrap"><table><tr><th>Student</th><th>Kind</th><th>Cell</th><th>Detail</th></tr>')
        for sid, i in issues:
            add(f'<tr><td>{_e(sid)}</td><td>{_e(i.get("kind"))}</td><td><code>{_e(i.get("grade_id"))}</code></td>'
                f'<td class="small">{_e(i.get("message"))}</td></tr>')
        add("</table></div>")
    else:
        add("<p>None.</p>")
    crashed = [(v.student_id, c) for v in scored for c in v.cell_errors if c.get("origin") == "student"]
    if crashed:
        add(f'<h3 id="cell-errors">Answer cells that raised an error ({len(crashed)})</h3>')
        add('<div class="tablewrap"><table><tr><th>Student</th><th>Cell</th><th>Error</th></tr>')
        for sid, c in crashed:
            add(f'<tr><td>{_e(sid)}</td><td><code>{_e(c.get("grade_id"))}</code></td>'
                f'<td class="small">{_e(c.get("error_type"))}: {_e(str(c.get("error_message", ""))[:300])}</td></tr>')
        add("</table></div>")
    add("</section>")

    # -- review queue ---------------------------------------------------------------------------------
    add(f'<section id="review"><h2>Review queue ({review})</h2>')
    if review:
        per_q = Counter(r.grade_id for v in views for r in v.rubric if r.status == "needs_review")
        add(f"<p>{review} written item(s) of {sum(1 for v in views if v.needs_review)} student(s) wait for a TA. "
            "They are listed with the scorer's proposal, its reason and the answer in <code>review_queue.csv</code> "
            f"next to this report; record decisions with <code>autograder review {_e(assignment)} --out OUT "
            "--decisions review_queue.csv</code>.</p>")
        add('<div class="tablewrap"><table><tr><th>Question</th><th class="num">Items waiting</th></tr>')
        for gid, n in sorted(per_q.items()):
            add(f'<tr><td><code>{_e(gid)}</code></td><td class="num">{n}</td></tr>')
        add("</table></div>")
    else:
        add("<p>Nothing waits for a TA.</p>")
    add("</section>")

    # -- timing -----------------------------------------------------------------------------------------
    add('<section id="timing"><h2>Grading time</h2><div class="tablewrap"><table>')
    walls = sorted(v.wall_s for v in views if v.wall_s)
    if walls:
        add(f"<tr><th>Notebook run time per submission</th><td>mean {statistics.fmean(walls):.1f} s · median "
            f"{statistics.median(walls):.1f} s · max {max(walls):.1f} s</td></tr>")
    if batch:
        add(f'<tr><th>Last batch</th><td>{_e(batch.get("started_at"))}: {_e(batch.get("graded"))} graded, '
            f'{_e(batch.get("skipped"))} unchanged, {float(batch.get("seconds") or 0):.1f} s wall clock</td></tr>')
        if batch.get("graded"):
            add(f"<tr><th>Seconds per submission (last batch)</th><td>"
                f"{float(batch.get('seconds') or 0) / int(batch['graded']):.2f} s</td></tr>")
        add(f'<tr><th>Executor</th><td class="small">{_e(batch.get("executor"))} · {_e(batch.get("workers"))} '
            "worker(s)</td></tr>")
    add("</table></div></section>")

    # -- students ------------------------------------------------------------------------------------------
    add('<section id="students"><h2>Students</h2><p class="muted">Each name links to the feedback page the student '
        "receives.</p>")
    parts = [(k, t) for k, t in PART_TITLES.items() if any(p.key == k and p.max_points for v in views for p in v.parts)]
    add('<div class="tablewrap"><table><tr><th>Student</th><th>Status</th>'
        + "".join(f'<th class="num">{_e(t)}</th>' for _, t in parts)
        + '<th class="num">Total</th><th class="num">Review</th><th class="num">Issues</th></tr>')
    for v in views:
        name = v.display_name or ""
        cells_html = ""
        for key, _ in parts:
            p = next((p for p in v.parts if p.key == key), None)
            shown = fmt_points(p.points) if p and v.status != "error" else "–"  # error: nothing was graded
            cells_html += f'<td class="num">{shown}</td>'
        add(f'<tr><td><a href="feedback/{_e(v.student_id)}.html">{_e(v.student_id)}</a>'
            + (f'<div class="muted small">{_e(name)}</div>' if name and name != v.student_id else "")
            + f'</td><td>{_e(v.status)}{" · late" if v.late else ""}</td>{cells_html}'
            f'<td class="num">{"–" if v.status == "error" else fmt_points(v.total_points)} / {fmt_points(v.max_points)}</td>'
            f'<td class="num">{v.needs_review or ""}</td><td class="num">{len(v.issues) or ""}</td></tr>')
    add("</table></div></section>")
    add('<footer><p class="muted small">Generated by the course autograder from the gradebook; regenerate with '
        f"<code>autograder report {_e(assignment)} --out OUT</code> (this page and the feedback pages) or "
        f"<code>autograder export {_e(assignment)} --out OUT</code> (every file).</p></footer></body></html>\n")
    return "\n".join(out)
