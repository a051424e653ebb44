"""Dask backend: chunks of submissions on a LocalCluster (worker processes), the grade
verb with --scheduler, and a Dask worker process SIGKILLed mid-chunk."""
from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from autograder.cli import main  # noqa: E402
from autograder.config import load_config  # noqa: E402
from autograder.execution.api import Job  # noqa: E402
from autograder.execution.dask_executor import DaskExecutor, lab_from_json, lab_to_json  # noqa: E402
from autograder.execution.program import assemble  # noqa: E402
from autograder.labs import load_lab  # noqa: E402
from autograder.release.generate import read_notebook, release_lab  # noqa: E402
from grading_helpers import BUGGY, SLOW, class_folder, dumps, variant  # noqa: E402

LAB = "toy_affine"


def _jobs(course_yaml, n, sleep_s=0.0):
    lab = load_lab(LAB, load_config(course_yaml))
    release_lab(lab)
    trusted = read_notebook(lab.release_notebook)
    solution = read_notebook(lab.notebook)
    for cell in solution.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "toy_affine_fn" and sleep_s:
            cell.source = f"import time\ntime.sleep({sleep_s})\n" + cell.source
    program = assemble(trusted, solution)
    return [Job.from_program(f"s{i:02d}", lab.name, program) for i in range(n)]


@pytest.fixture
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=50) as lc, Client(lc) as client:
        yield client


def _grade(course, subs, out, *extra):
    return main(["--course", str(course), "grade", LAB, str(subs), "--out", str(out), "--no-progress", *extra])


def _runs_per_student(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as db:
        return dict(db.execute("SELECT student_id, COUNT(*) FROM runs GROUP BY student_id").fetchall())


def _worker_pids(client) -> dict[str, int]:
    return client.run(os.getpid)


def test_lab_travels_as_json():
    lab = load_lab(LAB, load_config(Path(__file__).parent / "example_course" / "course.yaml"))
    assert lab_from_json(lab_to_json(lab)) == lab


@pytest.mark.slow
def test_chunks_run_on_the_cluster_with_warm_local_graders(cluster, example_course):
    jobs = _jobs(example_course, 6)
    with DaskExecutor(cluster, example_course, [LAB], chunk_size=2, workers_per_node=1) as ex:
        results = list(ex.run_many(jobs))
        # the same warm pool served every chunk a worker process received: one per worker, not per chunk
        pools = cluster.run(lambda: len(__import__("autograder.execution.dask_executor",
                                                   fromlist=["_LOCAL"])._LOCAL))
    assert sorted(r.job_id for r in results) == [j.job_id for j in jobs]
    assert all(r.status == "ok" for r in results), [(r.job_id, r.status, r.message) for r in results]
    assert all(r.probes["affine_values"]["ok"] for r in results)
    assert sum(pools.values()) >= 1 and all(n <= 1 for n in pools.values()), pools


@pytest.mark.slow
def test_grade_verb_with_scheduler_gives_the_same_grades_as_a_local_run(cluster, example_course, tmp_path, capsys):
    subs = tmp_path / "subs"
    class_folder(subs)  # 5 notebooks that run (one buggy, one tampered, ...) and 2 unreadable ones
    assert main(["--course", str(example_course), "release"]) == 0
    local, remote = tmp_path / "local", tmp_path / "remote"
    assert _grade(example_course, subs, local, "--workers", "1") == 0
    capsys.readouterr()
    assert _grade(example_course, subs, remote, "--scheduler", cluster.scheduler.address) == 0
    summary = capsys.readouterr().out
    assert "Dask cluster" in summary and "graded now 7" in summary, summary
    assert (remote / "grades.csv").read_bytes() == (local / "grades.csv").read_bytes()
    assert (remote / "results.jsonl").read_bytes() == (local / "results.jsonl").read_bytes()
    assert set(_runs_per_student(remote / "gradebook.sqlite").values()) == {1}


@pytest.mark.slow
def test_scheduler_from_course_yaml_and_local_override(cluster, example_course, tmp_path, capsys):
    text = example_course.read_text().replace("grading:\n", f"grading:\n  scheduler: {cluster.scheduler.address}\n")
    example_course.write_text(text)
    assert load_config(example_course).grading.scheduler == cluster.scheduler.address
    subs = tmp_path / "subs"
    class_folder(subs, with_bad=False)
    assert main(["--course", str(example_course), "release"]) == 0
    assert _grade(example_course, subs, tmp_path / "a") == 0
    assert "Dask cluster" in capsys.readouterr().out
    assert _grade(example_course, subs, tmp_path / "b", "--scheduler", "local", "--workers", "1") == 0
    assert "Dask cluster" not in capsys.readouterr().out
    assert (tmp_path / "a" / "grades.csv").read_bytes() == (tmp_path / "b" / "grades.csv").read_bytes()


def test_unreachable_scheduler_is_a_clear_error(example_course, tmp_path, capsys):
    subs = tmp_path / "subs"
    class_folder(subs, with_bad=False)
    assert main(["--course", str(example_course), "release"]) == 0
    rc = _grade(example_course, subs, tmp_path / "out", "--scheduler", "tcp://127.0.0.1:9")
    assert rc == 2
    assert "Dask scheduler" in capsys.readouterr().err


@pytest.mark.slow
def test_worker_killed_mid_chunk_loses_and_duplicates_nothing(cluster, example_course, tmp_path, capsys):
    """SIGKILL a Dask worker process while it runs a chunk: the scheduler reruns the chunk on the
    other worker (the nanny restarts the dead one); the coordinator, the only gradebook writer,
    stores every student exactly once, and the grades equal a serial local run."""
    subs = tmp_path / "subs"
    sids = []
    for i in range(12):
        sid = f"s{i:02d}"
        answer = BUGGY if i % 4 == 3 else SLOW.format(s=0.8)
        (subs / f"{sid}.ipynb").parent.mkdir(parents=True, exist_ok=True)
        (subs / f"{sid}.ipynb").write_bytes(dumps(variant(answer)))
        sids.append(sid)
    assert main(["--course", str(example_course), "release"]) == 0
    serial = tmp_path / "serial"
    assert _grade(example_course, subs, serial, "--workers", "1") == 0
    capsys.readouterr()

    before = _worker_pids(cluster)
    out = tmp_path / "out"
    rc: list[int] = []
    thread = threading.Thread(target=lambda: rc.append(_grade(example_course, subs, out, "--scheduler",
                                                              cluster.scheduler.address)))
    thread.start()
    victim = None
    deadline = time.time() + 180
    while victim is None and time.time() < deadline and thread.is_alive():
        busy = [addr for addr, keys in cluster.processing().items()
                if any(str(k).startswith("autograder-chunk-") for k in keys)]
        if busy:
            victim = busy[0]
        else:
            time.sleep(0.05)
    assert victim is not None, "no chunk ever started"
    time.sleep(1.5)  # into the chunk's submissions (each sleeps 0.8 s), past the pool's warm-up
    assert cluster.processing().get(victim), "the victim finished its chunk before it could be killed"
    os.kill(before[victim], signal.SIGKILL)
    thread.join(timeout=300)
    assert not thread.is_alive() and rc == [0]
    summary = capsys.readouterr().out
    assert "graded now 12" in summary, summary

    assert _runs_per_student(out / "gradebook.sqlite") == {sid: 1 for sid in sids}, "every student exactly once"
    assert (out / "grades.csv").read_bytes() == (serial / "grades.csv").read_bytes()
    assert (out / "results.jsonl").read_bytes() == (serial / "results.jsonl").read_bytes()
    # the worker really died: the nanny started a new process in its place
    deadline = time.time() + 60
    while time.time() < deadline:
        after = _worker_pids(cluster)
        if len(after) == 2 and before[victim] not in after.values():
            break
        time.sleep(0.5)
    assert before[victim] not in _worker_pids(cluster).values()


@pytest.mark.slow
def test_a_chunk_that_fails_for_good_still_yields_one_row_per_job(cluster, example_course):
    """A grader that cannot start on the workers (here: a factory that raises) exhausts the retries;
    every job still comes back once, as a sandbox_error (which the batch stores as retry-next-run)."""
    jobs = _jobs(example_course, 4)
    with DaskExecutor(cluster, example_course, [LAB], chunk_size=2, retries=1,
                      factory="builtins:ZeroDivisionError") as ex:
        results = list(ex.run_many(jobs))
    assert sorted(r.job_id for r in results) == [j.job_id for j in jobs]
    assert {r.status for r in results} == {"sandbox_error"}
    assert all("could not run" in r.message and "TypeError" in r.message for r in results), results[0].message
