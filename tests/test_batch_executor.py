"""The fallback executor (--sandbox none): limits, streaming of partial results, no stray files."""
from __future__ import annotations

from dataclasses import replace

import pytest

from autograder.config import load_config
from autograder.execution.api import Job
from autograder.execution.local import ForkExecutor
from autograder.execution.program import assemble
from autograder.labs import load_lab
from autograder.scoring.inprocess import trusted_notebook
from grading_helpers import GOOD, LOOP, variant


@pytest.fixture
def lab_and_limits(example_course):
    config = load_config(example_course)
    return load_lab("toy_affine", config), replace(config.grading, timeout_s=2, max_output_kb=64)


def test_fork_executor_outcomes(lab_and_limits, tmp_path, monkeypatch):
    lab, limits = lab_and_limits
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    trusted = trusted_notebook(lab)
    answers = {
        "good": GOOD + "open('written_by_student.txt', 'w').write('x')\n",
        "loop": LOOP,
        "exit": "import os\nos._exit(3)\n",
        "segv": "import ctypes\nctypes.string_at(0)\n",
        "chatty": "for _ in range(10**6):\n    print('spam' * 100)\n" + GOOD,
    }
    jobs = [Job.from_program(sid, lab.name, assemble(trusted, variant(src))) for sid, src in answers.items()]
    results = {r.job_id: r for r in ForkExecutor([lab], limits, workers=2).run_many(jobs)}
    assert set(results) == set(answers)
    good = results["good"]
    assert good.status == "ok" and good.probes["affine_values"]["ok"] is True
    assert results["loop"].status == "timeout" and "toy_affine_fn" in results["loop"].message
    assert [c["grade_id"] for c in results["loop"].cells] == ["toy_provided_setup"]  # streamed before the kill
    assert results["exit"].status == "crash" and "exit code 3" in results["exit"].message
    assert results["segv"].status == "crash" and "SIGSEGV" in results["segv"].message
    chatty = results["chatty"]
    assert chatty.status == "ok" and "spam" in chatty.output_tail and len(chatty.output_tail) <= 4096
    assert any("File too large" in c["error_message"] for c in chatty.cells)
    assert not list(cwd.iterdir())  # the notebooks wrote into their own temp folders
