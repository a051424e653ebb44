"""``make demo``: the whole main job on the bundled sample data, from a fresh clone.

1. release every lab (student + instructor notebooks under ``assignments/``);
2. build the sample class (``autograder.demo.sample_class``) under ``OUT/sample``;
3. grade each lab with the ``grade`` verb into ``OUT/<lab>``: grades.csv,
   results.jsonl, feedback/<student_id>.html, report.html, review_queue.csv,
   gradebook.sqlite; then ``export`` adds items.csv and canvas_import.csv;
4. compare the results with what the sample class's manifest expects, and print
   where everything is and how long it took.

Running it again is cheap: the sample class is rebuilt byte for byte and the
grader skips every unchanged submission. ``--force`` regrades.

    python -m autograder.demo.run --out demo-out [--students 20] [--seed 0] [--workers N] [--sandbox auto]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from autograder.config import load_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.demo.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("demo-out"))
    parser.add_argument("--students", type=int, default=20, help="students per lab (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lab", action="append", dest="labs", help="only this lab (repeatable)")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--sandbox", default="auto", choices=["auto", "bwrap", "none"])
    parser.add_argument("--timeout", type=float, default=None, help="seconds per notebook (default: course.yaml)")
    parser.add_argument("--force", action="store_true", help="regrade every submission")
    parser.add_argument("--course", default=None, help="course.yaml (default: the repository's)")
    args = parser.parse_args(argv)

    from autograder.cli import main as cli
    from autograder.demo.sample_class import build_sample_class, check_expectations

    started = time.monotonic()
    config = load_config(args.course)
    labs = args.labs or list(config.labs)
    base = ["--course", args.course] if args.course else []
    out = args.out
    out.mkdir(parents=True, exist_ok=True)

    print(f"== 1/4 release: {', '.join(labs)}", flush=True)
    if cli(base + ["release", *labs]) != 0:
        return 1

    print(f"\n== 2/4 sample class: {args.students} students per lab (seed {args.seed})", flush=True)
    manifest = build_sample_class(out / "sample", args.students, args.seed, labs, course=args.course)
    for name, entry in manifest["labs"].items():
        print(f"{name}: {len(entry['students'])} submissions ({entry['layout']}) in {out / 'sample' / entry['submissions']}")

    timings: dict[str, float] = {}
    problems: dict[str, list[str]] = {}
    for i, name in enumerate(labs):
        entry = manifest["labs"][name]
        subs = out / "sample" / entry["submissions"]
        lab_out = out / name
        print(f"\n== 3/4 grade {name} ({i + 1}/{len(labs)}): autograder grade {name} {subs} --out {lab_out}", flush=True)
        t0 = time.monotonic()
        cmd = base + ["grade", name, str(subs), "--out", str(lab_out), "--sandbox", args.sandbox]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        if args.timeout:
            cmd += ["--timeout", str(args.timeout)]
        if args.force:
            cmd.append("--force")
        rc = cli(cmd)
        timings[name] = time.monotonic() - t0
        if rc != 0:
            print(f"grading {name} failed (exit {rc})", file=sys.stderr)
            return rc
        cli(base + ["export", name, "--out", str(lab_out)])
        problems[name] = check_expectations(entry, lab_out, name)

    total = time.monotonic() - started
    print("\n== 4/4 results")
    for name in labs:
        n = len(manifest["labs"][name]["students"])
        bad = problems[name]
        print(f"{name}: graded in {timings[name]:.0f} s; {n - len({p.split(' ')[0] for p in bad})}/{n} students "
              "graded as the sample class expects")
        for p in bad:
            print(f"  note: {p}")
        print(f"  report:   {out / name / 'report.html'}")
        print(f"  feedback: {out / name / 'feedback'}/<student_id>.html  (e.g. "
              f"{out / name / 'feedback' / (sorted(manifest['labs'][name]['students'])[0] + '.html')})")
        print(f"  grades:   {out / name / 'grades.csv'} · {out / name / 'results.jsonl'} · "
              f"{out / name / 'canvas_import.csv'}")
    (out / "demo-summary.json").write_text(json.dumps(
        {"seconds": round(total, 1), "grading_seconds": {k: round(v, 1) for k, v in timings.items()},
         "students_per_lab": args.students, "unexpected": problems}, indent=1) + "\n")
    print(f"\ndemo finished in {total:.0f} s; open {out / labs[0] / 'report.html'} in a browser")
    return 0


if __name__ == "__main__":
    sys.exit(main())
