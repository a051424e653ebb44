"""Grade submissions with ``nbgrader autograde``, the anchor we compare against.

An nbgrader course is set up in a temp dir from the same solution notebook
(``source/``), the same student notebooks (``submitted/``), and graded by
nbgrader's own command line, exactly as a course using nbgrader would. The
wall-clock and CPU time (of nbgrader and every kernel it starts) are measured.
"""
from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.labs import Lab


@dataclass(frozen=True)
class BaselineTiming:
    submissions: int
    wall_s: float
    cpu_s: float
    graded: int  # autograded notebooks nbgrader produced
    returncode: int


def _nbgrader(course: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("nbgrader")
    return subprocess.run([str(exe), *args], cwd=course, env=env, capture_output=True, text=True)


def setup_course(lab: Lab, course: Path) -> None:
    """source/<lab>/ from the instructor version (with its public checks)."""
    if course.exists():
        shutil.rmtree(course)
    (course / "source").mkdir(parents=True)
    shutil.copytree(lab.source_notebook.parent, course / "source" / lab.name)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.ExecutePreprocessor.timeout = 600\n"
        "c.Execute.timeout = 600\n"
    )


def autograde(lab: Lab, submissions: dict[str, Path], course: Path, *, fast: bool = True) -> BaselineTiming:
    """``nbgrader generate_assignment`` once (not timed), then ``nbgrader autograde`` (timed)."""
    setup_course(lab, course)
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # nbgrader shells out to alembic
    if fast:
        env[lab.fast_env] = "1"
    env.setdefault("MPLBACKEND", "Agg")
    gen = _nbgrader(course, "generate_assignment", lab.name, "--force", env=env)
    if gen.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment failed: {gen.stderr[-2000:]}")
    for sid, path in submissions.items():
        dest = course / "submitted" / sid / lab.name
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest / f"{lab.name}.ipynb")
        # public checks next to the notebook, as a student's folder would have them
        tests = lab.release_notebook.parent / "tests"
        if tests.exists():
            shutil.copytree(tests, dest / "tests", dirs_exist_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run = _nbgrader(course, "autograde", lab.name, "--force", env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    graded = len(list((course / "autograded").glob(f"*/{lab.name}/{lab.name}.ipynb")))
    return BaselineTiming(len(submissions), wall, cpu, graded, run.returncode)
