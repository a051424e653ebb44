"""Run a lab's checks (pytest tests) against probe data, on the trusted side.

One pytest session grades many submissions at once: every check is
parametrised over the submissions' probe data, so collection is paid once per
batch, not once per student. Outcomes are read from the exception objects,
never from pytest's text report (which would show the test's source).
"""
from __future__ import annotations

import contextlib
import io
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

import pytest

from autograder.scoring.checks import CheckFailed, ProbeFailed
from autograder.scoring.points import TestSpec, load_points

UNREADABLE = "Your code's output for this test had an unexpected type or structure, so it could not be checked against the contract."


@dataclass(frozen=True)
class TestOutcome:
    test: str
    grade_id: str
    title: str
    points: float
    max_points: float
    status: str  # pass | fail | error | timeout | memory | skipped
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class SubmissionData(dict):
    """Probe data of one submission; a dict that also remembers whose it is."""

    def __init__(self, sid: str, data: Mapping[str, Any]) -> None:
        super().__init__(data)
        self.sid = sid


class _Collector:
    def __init__(self, data: dict[str, Mapping[str, Any]]) -> None:
        self.data = data
        self.results: dict[tuple[str, str], tuple[str, str]] = {}
        self.collected: set[str] = set()
        self.collect_errors: list[str] = []

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "probes" in metafunc.fixturenames:
            sids = list(self.data)
            metafunc.parametrize("probes", [SubmissionData(s, self.data[s]) for s in sids], ids=sids)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collect_errors.append(str(report.longrepr))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        outcome = yield
        report = outcome.get_result()
        name = getattr(item, "originalname", item.name)
        self.collected.add(name)
        params = getattr(getattr(item, "callspec", None), "params", {})
        data = params.get("probes")
        if not isinstance(data, SubmissionData):
            return
        key = (data.sid, name)
        if report.when == "call" or report.failed or report.skipped:
            if key in self.results and self.results[key][0] != "pass":
                return  # keep the first failure (setup/call), ignore teardown
            self.results[key] = _classify(report, call)


def _classify(report: pytest.TestReport, call: pytest.CallInfo) -> tuple[str, str]:
    if report.passed:
        return "pass", ""
    if report.skipped:
        return "skipped", "This test was skipped."
    exc = call.excinfo.value if call.excinfo is not None else None
    if isinstance(exc, CheckFailed):
        return "fail", str(exc)
    if isinstance(exc, ProbeFailed):
        return exc.status, exc.message
    return "fail", UNREADABLE


class CheckSuiteError(RuntimeError):
    """The hidden suite itself is broken (an instructor problem, not a student's)."""


def run_checks(hidden_dir: Path, data: dict[str, Mapping[str, Any]]) -> dict[str, list[TestOutcome]]:
    """Grade every submission in ``data`` (sid -> probe results) with the checks in
    ``hidden_dir``; returns sid -> outcomes in points.yaml order."""
    specs = load_points(hidden_dir / "points.yaml")
    if not data:
        return {}
    collector = _Collector(data)
    args = [
        str(hidden_dir),
        "-q",
        "-p", "no:cacheprovider",
        "-p", "no:randomly",
        # per-test overhead the trusted checks never use: log capture (a third of the session's
        # CPU), faulthandler, junitxml/pastebin/doctest/stepwise, nose-style setup
        "-p", "no:logging",
        "-p", "no:faulthandler",
        "-p", "no:junitxml",
        "-p", "no:pastebin",
        "-p", "no:doctest",
        "-p", "no:stepwise",
        "-p", "no:nose",
        "--capture=no",  # stdout/stderr are redirected around the whole session below
        "--noconftest",
        "--import-mode=importlib",
        "--rootdir", str(hidden_dir),
        "-o", "python_files=test_*.py",
        "-o", "addopts=",
        "-W", "ignore",
        # outcomes come from the exception objects (_classify); pytest's default long tracebacks
        # (source re-parsed per frame) were two thirds of the checks' CPU and never shown
        "--tb=native",
    ]
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), _env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"):
        code = pytest.main(args, plugins=[collector])
    if collector.collect_errors or code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise CheckSuiteError(f"hidden suite in {hidden_dir} failed to run (exit {code}): {collector.collect_errors[:1]}")
    missing = set(specs) - collector.collected
    unlisted = collector.collected - set(specs)
    if missing or unlisted:
        raise CheckSuiteError(f"{hidden_dir}: points.yaml and the tests disagree: no test for {sorted(missing)}, no points for {sorted(unlisted)}")
    return {sid: [_outcome(specs[name], collector.results.get((sid, name))) for name in specs] for sid in data}


def _outcome(spec: TestSpec, result: tuple[str, str] | None) -> TestOutcome:
    status, message = result or ("error", "This test did not run.")
    points = spec.points if status == "pass" else 0.0
    return TestOutcome(spec.name, spec.grade_id, spec.title, points, spec.points, status, message)


@contextlib.contextmanager
def _env(**values: str):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
