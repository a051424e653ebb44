"""The ``bench`` verb: ``autograder bench [--n N] [--out DIR] ...``, the same as
``python -m autograder.bench.run`` (``make bench``). Registered by autograder/cli.py."""
from __future__ import annotations

import argparse


def _cmd_bench(args: argparse.Namespace) -> int:
    from autograder.bench.run import run

    return run(args)


def register(verbs: argparse._SubParsersAction) -> None:
    from autograder.bench.run import __doc__ as doc, add_arguments

    p = verbs.add_parser(
        "bench", help="measure grading cost against nbgrader autograde (same submissions) -> OUT/bench.json",
        description=(doc or "").split("\n\n", 1)[0] + "\n\nSame as: make bench N=100 OUT=bench-out",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p, course=False)
    p.set_defaults(handler=_cmd_bench)
