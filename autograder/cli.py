"""``autograder``: one verb per step of the course's workflow.

    autograder release            instructor: build student + instructor notebooks
    autograder grade LAB SUBS     TA: grade a class (see ``autograder grade --help``)
    autograder review LAB         TA: written answers waiting for review; record decisions
    autograder report LAB         rewrite the class report and feedback pages from the gradebook
    autograder export LAB         re-export grades, feedback and LMS files from the gradebook
    autograder bench              measure grading cost against nbgrader autograde

Each verb lives in its own package; this module only parses arguments.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from autograder.config import ConfigError, load_config
from autograder.labs import LabError, load_lab

Handler = Callable[[argparse.Namespace], int]


def _cmd_release(args: argparse.Namespace) -> int:
    from autograder.release.generate import ReleaseError, release_lab

    config = load_config(args.course)
    names = args.labs or list(config.labs)
    try:
        for name in names:
            result = release_lab(load_lab(name, config))
            checks = ", ".join(result.public_checks) or "none"
            print(f"{name}: student release -> {result.release.relative_to(config.root)}")
            print(f"{' ' * len(name)}  instructor version -> {result.source.relative_to(config.root)}")
            print(f"{' ' * len(name)}  public checks: {checks}")
    except ReleaseError as exc:
        print(f"release failed: {exc}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder",
        description="Autograded recurrent-network labs: release notebooks, grade a class, review written answers, report.",
    )
    parser.add_argument("--course", default=None, help="course.yaml to use (default: the repository's)")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    verbs.required = True

    p = verbs.add_parser("release", help="instructor: generate the student and instructor notebooks of each lab",
                         description="Strip solutions, clear outputs, lock provided cells and compute checksums "
                                     "with nbgrader's preprocessors; write assignments/source/<lab>/ and "
                                     "assignments/release/<lab>/ (with the public checks in tests/).")
    p.add_argument("labs", nargs="*", help="labs to release (default: all labs in course.yaml)")
    p.set_defaults(handler=_cmd_release)
    _register_later_verbs(verbs)
    return parser


def _register_later_verbs(verbs: argparse._SubParsersAction) -> None:
    """Verbs whose packages are importable register themselves here (each package owns its verb)."""
    import importlib

    for module in ("autograder.grading.command", "autograder.reports.command", "autograder.bench.command"):
        try:
            register = importlib.import_module(module).register
        except ModuleNotFoundError as exc:
            if exc.name != module:  # a real bug inside the verb's package: say so
                raise
            continue
        register(verbs)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (ConfigError, LabError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
