"""The ``report`` verb (registered by autograder/cli.py): rewrite the pages from the gradebook.

A TA runs it after changing how pages look (a new grader version, an edited
lab title, a rubric feedback text fixed) or after deleting the pages by
mistake: it reads the gradebook only, so nothing is regraded and grades.csv,
results.jsonl and the LMS files are left as they are (``export`` rewrites
those too).
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

REPORT_DESCRIPTION = """\
Rewrite OUT/report.html (the class report) and OUT/feedback/<student_id>.html (one page
per student) from the gradebook. Nothing is regraded: the pages show exactly what the
gradebook holds, TA decisions included. grades.csv, results.jsonl, review_queue.csv and
the LMS files are not touched (use 'autograder export' for those).

Feedback pages of students no longer in the gradebook are removed.
"""

REPORT_EPILOG = """\
examples:
  autograder report week10_rnn --out out/week10
  autograder report week10_rnn --out out/week10 --gradebook backups/week10.sqlite
"""


def _cmd_report(args: argparse.Namespace) -> int:
    from autograder.config import load_config
    from autograder.gradebook import Gradebook
    from autograder.labs import load_lab
    from autograder.reports.exports import write_pages
    from autograder.reports.model import view_of

    lab = load_lab(args.assignment, load_config(args.course))
    out = Path(args.out)
    path = Path(args.gradebook) if args.gradebook else out / "gradebook.sqlite"
    if not path.exists():
        print(f"error: no gradebook at {path}: grade first (autograder grade {lab.name} SUBMISSIONS --out {out})",
              file=sys.stderr)
        return 2
    with Gradebook(path) as gb:
        views = [view_of(run, lab) for run in gb.current(lab.name)]
        if not views:
            print(f"error: the gradebook {path} holds no submission of {lab.name}", file=sys.stderr)
            return 2
        pages = write_pages(gb, lab, out, views)
    st = Counter(v.status for v in views)
    waiting = sum(v.needs_review for v in views)
    print(f"{lab.name}: {len(views)} students (graded {st.get('graded', 0)}, partial {st.get('partial', 0)}, "
          f"errors {st.get('error', 0)}; {waiting} written items waiting for review)")
    print(f"  class report:   {out / 'report.html'}")
    print(f"  feedback pages: {len(pages)} in {out / 'feedback'}/<student_id>.html")
    return 0


def register(verbs: argparse._SubParsersAction) -> None:
    """Add ``autograder report`` to the CLI's verbs."""
    p = verbs.add_parser(
        "report", help="rewrite report.html and the feedback pages in OUT from the gradebook (no regrading)",
        description=REPORT_DESCRIPTION, epilog=REPORT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("assignment", metavar="ASSIGNMENT", help="the lab, e.g. week10_rnn")
    p.add_argument("--out", default="out", metavar="OUT",
                   help="folder holding the gradebook and receiving the pages (default: ./out)")
    p.add_argument("--gradebook", default=None, metavar="PATH", help="gradebook database (default: OUT/gradebook.sqlite)")
    p.set_defaults(handler=_cmd_report)
