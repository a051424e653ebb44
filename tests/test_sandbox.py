"""The sandboxed executor (``WorkerPool``) against the hostile corpus (tests/corpus/hostile).

One warm pool with ONE worker (bubblewrap when it works here, else the rlimits
fallback) runs every hostile entry, each followed by an honest submission, so
every honest run happens on the same worker right after a hostile one. Per
entry: the expected status and probe outcome, plain-data results, what the
attack must not achieve, the points the trusted checks give it (never more than
honest code earns) and the honest follower graded correctly. Across the run: no
process survives a job, no file appears outside the scratch space, and nothing
is left after ``close()``. The Week 10 and Week 11 solutions get full marks and
exactly the in-process probe data through the pool, also right after a
submission that patched torch globally. A second pool (two workers, forced
fallback) runs a safe subset in parallel and the solutions again.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import secrets
import shutil
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from autograder.config import load_config
from autograder.execution.api import ExecutionResult, Job
from autograder.execution.program import assemble
from autograder.labs import load_lab

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox is Linux-only")]

REPO = Path(__file__).resolve().parents[1]
HOSTILE = REPO / "tests" / "corpus" / "hostile"
EXAMPLE = REPO / "tests" / "example_course"
# timeout_s: the solutions take ~0.3 s (Week 10) and ~1.6 s (Week 11) of wall clock per child
# on 2 loaded cores; 5 s keeps them clear of it while the hanging entries stay cheap
LIMITS = {"timeout_s": 5, "memory_mb": 1024, "max_processes": 32, "max_output_kb": 64}
W10_PROBES = REPO / "solutions" / "week10_rnn" / "hidden" / "probes.py"
W11_PROBES = REPO / "solutions" / "week11_gated" / "hidden" / "probes.py"
HOST_LEAK_NAMES = ("PWNED", "daemon-marker", "_pwned_sandbox", "fill-", "torchinductor_student", "torch_compile_debug")
FALLBACK_IDS = ["infinite_loop", "sleep_forever", "memory_bomb_bytearray", "memory_bomb_growing_list", "os_exit",
                "ctypes_segfault", "daemon_double_fork", "fork_bomb_bounded", "threads_keep_running", "print_200_mb",
                "network_localhost", "network_public", "patch_torch_allclose", "forge_result_pipe",
                "write_inherited_fds", "read_environment_secrets", "sysv_ipc_and_mqueue", "raise_base_exception"]
HONEST = "def affine(x, w, b):\n    return x @ w + b\n"


# ----------------------------------------------------------------------------- helpers

def load_corpus(lab: str) -> list[dict[str, Any]]:
    return yaml.safe_load((HOSTILE / f"{lab}.yaml").read_text())


def _proc_table() -> dict[int, tuple[int, int, int]]:
    """pid -> (ppid, uid, start time in ticks), zombies left out."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            raw = Path(f"/proc/{name}/stat").read_bytes()
            uid = os.stat(f"/proc/{name}").st_uid
        except OSError:
            continue
        rest = raw[raw.rfind(b")") + 2:].split()
        if rest[0] in (b"Z", b"X"):
            continue
        table[int(name)] = (int(rest[1]), uid, int(rest[19]))
    return table


def _descendants(table: dict[int, tuple[int, int, int]], root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), list(children.get(root, []))
    while todo:
        p = todo.pop()
        if p not in found:
            found.add(p)
            todo.extend(children.get(p, []))
    return found


def leftover_processes(pool) -> list[int]:
    """Processes in the workers' trees beyond the workers themselves, plus anything
    running under a sandbox uid, at a moment when no job is in flight."""
    table = _proc_table()
    bad: set[int] = set()
    depth = 2 if pool.sandbox == "bubblewrap" else 0  # bwrap -> bwrap (pid 1 inside) -> worker
    for top in pool.worker_pids():
        allowed, cur = {top}, top
        for _ in range(depth):
            kids = sorted((p for p, v in table.items() if v[0] == cur), key=lambda p: table[p][2])
            if not kids:
                break
            cur = kids[0]  # the oldest child: what bwrap started, not what a submission left
            allowed.add(cur)
        bad |= _descendants(table, top) - allowed
    uids = set(pool.sandbox_uids())
    bad |= {p for p, v in table.items() if v[1] in uids}
    return sorted(bad)


def host_leaks() -> list[str]:
    found = []
    for folder in ("/tmp", "/dev/shm", str(REPO), str(REPO / "autograder"), str(REPO / "solutions")):
        try:
            found += [os.path.join(folder, n) for n in os.listdir(folder) if any(k in n for k in HOST_LEAK_NAMES)]
        except OSError:
            pass
    return found


def is_plain(value: Any, depth: int = 0) -> bool:
    if depth > 40:
        return False
    if value is None or type(value) in (bool, int, float, str):
        return True
    if type(value) is list:
        return all(is_plain(v, depth + 1) for v in value)
    if type(value) is dict:
        return all(type(k) is str and is_plain(v, depth + 1) for k, v in value.items())
    return False


def _tensor(raw: Any) -> tuple[list[int], list[float]] | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("__tensor__"), dict):
        return None
    t = raw["__tensor__"]
    shape, data = t.get("shape"), t.get("data")
    if not isinstance(shape, list) or not isinstance(data, list) or len(data) != math.prod(shape):
        return None
    return shape, data


def probe_category(result: ExecutionResult) -> str:
    """correct | wrong | error | missing, for the toy lab's affine_values probe."""
    entry = result.probes.get("affine_values")
    if entry is None:
        return "missing"
    if not entry.get("ok"):
        return "error"
    data = entry.get("data")
    if not isinstance(data, dict):
        return "wrong"
    parts = {k: _tensor(data.get(k)) for k in ("x", "w", "b", "out")}
    if any(v is None for v in parts.values()):
        return "wrong"
    (xs, x), (ws, w), (bs, b), (os_, out) = (parts[k] for k in ("x", "w", "b", "out"))
    if xs != [3, 2] or ws != [2, 4] or bs != [4] or os_ != [3, 4]:
        return "wrong"
    for i in range(3):
        for k in range(4):
            ref = sum(x[i * 2 + j] * w[j * 4 + k] for j in range(2)) + b[k]
            if not math.isclose(out[i * 4 + k], ref, rel_tol=1e-5, abs_tol=1e-5):
                return "wrong"
    return "correct"


class Listener:
    """A TCP server on the host's 127.0.0.1 that counts connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join(timeout=2)
        self.sock.close()


@dataclasses.dataclass
class Env:
    root: Path
    course: Path
    out: Path
    subs: Path
    marker: Path
    listener: Listener
    secret: str
    toy: Any
    toy_nb: dict
    w10: Any = None
    w10_trusted: dict | None = None
    w10_solution: dict | None = None
    w11: Any = None

    def labs(self) -> list[Any]:
        return [lab for lab in (self.toy, self.w10, self.w11) if lab is not None]

    def lab(self, name: str) -> Any:
        lab = {"week10_rnn": self.w10, "week11_gated": self.w11}[name]
        if lab is None:
            pytest.skip(f"solutions/{name}/hidden/probes.py does not exist yet")
        return lab

    def fill(self, source: str, original: str = "") -> str:
        for key, value in (("@REPO@", str(REPO)), ("@COURSE@", str(self.course)), ("@OUT@", str(self.out)),
                           ("@SUBS@", str(self.subs)), ("@MARKER@", str(self.marker)), ("@PORT@", str(self.listener.port)),
                           ("@SECRET@", self.secret), ("@ORIGINAL@", original)):
            source = source.replace(key, value)
        return source

    def toy_job(self, job_id: str, answer: str) -> Job:
        nb = json.loads(json.dumps(self.toy_nb))
        for cell in nb["cells"]:
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "toy_affine_fn":
                cell["source"] = answer
        return Job.from_program(job_id, "toy_affine", assemble(self.toy_nb, nb))

    def w10_job(self, job_id: str, cell: str | None = None, source: str | None = None) -> Job:
        nb = json.loads(json.dumps(self.w10_solution))
        if cell is not None:
            for c in nb["cells"]:
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == cell:
                    c["source"] = source
        return Job.from_program(job_id, "week10_rnn", assemble(self.w10_trusted, nb))

    def w10_original(self, cell: str) -> str:
        for c in self.w10_solution["cells"]:
            if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == cell:
                src = c["source"]
                return "".join(src) if isinstance(src, list) else src
        raise KeyError(cell)


def make_env(root: Path) -> Env:
    course = root / "course"
    shutil.copytree(EXAMPLE, course, ignore=shutil.ignore_patterns("assignments", "__pycache__"))
    raw = yaml.safe_load((course / "course.yaml").read_text())
    raw["grading"] = {**(raw.get("grading") or {}), **LIMITS}
    (course / "course.yaml").write_text(yaml.safe_dump(raw))
    config = load_config(course / "course.yaml")
    toy = load_lab("toy_affine", config)
    out, subs, marker = root / "out", root / "submissions", root / "markers"
    subs.mkdir()
    marker.mkdir()
    (subs / "other_student.ipynb").write_text('{"cells": [{"source": "OTHER-STUDENT-SECRET solution"}]}')
    env = Env(root, course, out, subs, marker, Listener(), "ENV-SECRET-" + secrets.token_hex(8), toy,
              json.loads(toy.notebook.read_text()))
    if W10_PROBES.exists():
        from autograder.scoring.inprocess import trusted_notebook

        env.w10 = load_lab("week10_rnn", load_config(REPO / "course.yaml"))
        env.w10_trusted = trusted_notebook(env.w10)
        env.w10_solution = json.loads(env.w10.notebook.read_text())
    if W11_PROBES.exists():
        env.w11 = load_lab("week11_gated", load_config(REPO / "course.yaml"))
    return env


def limits(config_path: Path):
    return load_config(config_path).grading


def solution_job(lab: Any, job_id: str) -> Job:
    """The lab's solution notebook, assembled against the trusted notebook like a submission."""
    from autograder.scoring.inprocess import program_for

    return Job.from_program(job_id, lab.name, program_for(lab, lab.notebook))


def score(lab: Any, probes_by_sid: dict[str, dict[str, Any]]) -> dict[str, tuple[float, float, list[str]]]:
    """sid -> (points, max points, tests not passed), decided by the lab's trusted checks."""
    from autograder.scoring.check_runner import run_checks

    outcomes = run_checks(lab.hidden_dir, probes_by_sid)
    return {sid: (sum(o.points for o in outs), sum(o.max_points for o in outs),
                  [f"{o.test}: {o.status}: {o.message[:120]}" for o in outs if o.status != "pass"])
            for sid, outs in outcomes.items()}


def _data(probes: dict[str, Any]) -> str:
    """Probe results without their timings, as canonical JSON."""
    return json.dumps({k: {f: v for f, v in r.items() if f != "seconds"} for k, r in probes.items()}, sort_keys=True)


# ----------------------------------------------------------------------------- the main run

@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("sandbox")
    old = os.environ.get("AUTOGRADER_TEST_SECRET")
    e = make_env(root)
    os.environ["AUTOGRADER_TEST_SECRET"] = e.secret  # the pool must not hand it to the sandbox
    yield e
    e.listener.close()
    if old is None:
        os.environ.pop("AUTOGRADER_TEST_SECRET", None)
    else:
        os.environ["AUTOGRADER_TEST_SECRET"] = old


@pytest.fixture(scope="module")
def pool(env):
    from autograder.execution.pool import WorkerPool

    p = WorkerPool(env.labs(), limits(env.course / "course.yaml"), workers=1)
    yield p
    p.close()


@pytest.fixture(scope="module")
def reference(env):
    """lab name -> probe data of its solution run in this process (the development path,
    no sandbox), computed once: what the pool must reproduce exactly."""
    from autograder.scoring.inprocess import program_for, run_in_process

    cache: dict[str, dict[str, Any]] = {}

    def get(name: str) -> dict[str, Any]:
        if name not in cache:
            lab = env.lab(name)
            cache[name] = run_in_process(lab, program_for(lab, lab.notebook)).probes
        return cache[name]

    return get


@pytest.fixture(scope="module")
def run(env, pool):
    """Every hostile entry followed by an honest job, through one worker, in one batch."""
    entries = [e for e in load_corpus("toy_affine") if pool.sandbox == "bubblewrap" or e.get("needs") != "bubblewrap"]
    jobs, followers = [], {}
    for e in entries:
        jobs.append(env.toy_job(e["id"], env.fill(e["source"])))
        jobs.append(env.toy_job("honest-after-" + e["id"], HONEST))
        followers[e["id"]] = "honest-after-" + e["id"]
    leaks_before = set(host_leaks())
    start = time.monotonic()
    results: dict[str, ExecutionResult] = {}
    markers_at_end: dict[str, int] = {}
    for r in pool.run_many(jobs):
        results[r.job_id] = r
        if r.job_id == "daemon_double_fork":
            markers_at_end[r.job_id] = len(os.listdir(env.marker))
    elapsed = time.monotonic() - start
    time.sleep(0.5)  # a surviving daemon would write more markers by now
    return {"entries": entries, "jobs": len(jobs), "results": results, "followers": followers, "elapsed": elapsed,
            "leftover": leftover_processes(pool), "markers_at_end": markers_at_end,
            "markers_later": len(os.listdir(env.marker)), "leaks": sorted(set(host_leaks()) - leaks_before)}


def _entry_ids() -> list[str]:
    return [e["id"] for e in load_corpus("toy_affine")]


@pytest.mark.parametrize("entry_id", _entry_ids())
def test_hostile_entry(entry_id, env, pool, run):
    entry = next(e for e in run["entries"] + load_corpus("toy_affine") if e["id"] == entry_id)
    if entry.get("needs") == "bubblewrap" and pool.sandbox != "bubblewrap":
        pytest.skip("needs bubblewrap (this machine runs the rlimits fallback)")
    result = run["results"][entry_id]
    expect = entry["expect"]
    statuses = expect["status"] if isinstance(expect["status"], list) else [expect["status"]]
    summary = f"{result.status}: {result.message} | output: {result.output_tail[-400:]!r}"
    assert result.status in statuses, summary
    assert result.sandbox == pool.sandbox
    if "probe" in expect:
        wanted = expect["probe"] if isinstance(expect["probe"], list) else [expect["probe"]]
        assert probe_category(result) in wanted, f"{result.probes} | {summary}"
    if "cell_error" in expect:
        hostile = [c for c in result.cells if c["grade_id"] == "toy_affine_fn"]
        assert hostile and hostile[0]["error_type"] == expect["cell_error"], result.cells
    for rule in expect.get("must_not", []):
        if rule.startswith("output:"):
            assert env.fill(rule[len("output:"):]) not in result.output_tail, summary
        elif rule.startswith("file:"):
            assert not Path(env.fill(rule[len("file:"):])).exists(), rule
        elif rule == "connection":
            assert env.listener.accepted == 0
        elif rule == "marker":
            assert run["markers_later"] == run["markers_at_end"].get(entry_id, 0), "a daemon kept writing markers"
    if "output_max_kb" in expect:
        assert len(result.output_tail.encode()) <= expect["output_max_kb"] * 1024
    if "output_contains" in expect:
        assert expect["output_contains"] in result.output_tail
    # plain data only, JSON round trip exact
    as_dict = dataclasses.asdict(result)
    assert is_plain(as_dict)
    assert json.loads(json.dumps(as_dict)) == json.loads(json.dumps(as_dict, allow_nan=True))
    # the pool kept serving: the honest job right after it (same worker) is graded correctly
    follower = run["results"][run["followers"][entry_id]]
    assert follower.status == "ok", follower.message
    assert follower.message == "", follower.message  # nothing patched, nothing left running
    assert probe_category(follower) == "correct", follower.probes
    assert all(c["ok"] for c in follower.cells), follower.cells


def test_no_process_survives_and_no_file_escapes(env, pool, run):
    assert run["leftover"] == [], "processes left running after the batch"
    assert run["leaks"] == [], "files written outside the sandbox's scratch space"
    assert not env.out.exists() or not any(env.out.iterdir()), "something was written into the output directory"
    # the sandbox's own scratch space is wiped after every job: a fresh job sees only itself
    probe = "import os\nprint(sorted(os.listdir('.')), sorted(os.listdir('/dev/shm')) if os.path.isdir('/dev/shm') else None)\n"
    listing = ("import os\nfor d in sorted(set(['/tmp', os.path.dirname(os.getcwd())])):\n"
               "    print(d, sorted(n for n in os.listdir(d) if n not in ('.mpl-worker', '.worker')))\n")
    [r] = list(pool.run_many([env.toy_job("listing", HONEST + probe + listing)]))
    assert r.status == "ok", r.message
    lines = r.output_tail.strip().splitlines()
    own, shm = lines[0].split("] [")
    # the scratch dir holds only this job's temp/cache folder and what its provided cells
    # wrote (otter's log); /dev/shm is empty
    assert set(eval(own + "]")) <= {".OTTER_LOG", ".cache"} and shm == "]", r.output_tail
    view = set(pool._tmp_view_names()) if pool.sandbox == "bubblewrap" else set()  # a checkout/venv under /tmp
    for line in lines[1:]:
        folder, _, names = line.partition(" ")
        names = [n for n in eval(names) if not (folder == "/tmp" and n in view)]
        assert len(names) <= 1, f"leftovers in {folder}: {names}"  # only this job's own scratch dir
    assert leftover_processes(pool) == []


def test_temp_and_compile_caches_are_private(env, pool):
    """tempfile and torch's compile caches point into the job's own scratch dir (the
    Week 10 solution lost 12 points when torch._dynamo's first import in a child tried
    /tmp/torchinductor_student on the worker's /tmp), and torch.compile works."""
    src = HONEST + (
        "import os, tempfile, torch\n"
        "here = os.getcwd()\n"
        "print('TMP', tempfile.gettempdir() == here, os.environ['TMPDIR'] == here)\n"
        "from torch._inductor.runtime.cache_dir_utils import cache_dir\n"
        "print('CACHE', cache_dir().startswith(here + '/'))\n"
        "f = torch.compile(lambda t: t * 2 + 1, backend='eager')\n"
        "print('COMPILED', f(torch.ones(2)).tolist())\n"
    )
    [r] = list(pool.run_many([env.toy_job("caches", src)]))
    assert r.status == "ok" and all(c["ok"] for c in r.cells), (r.message, r.cells, r.output_tail[-2000:])
    assert "TMP True True" in r.output_tail and "CACHE True" in r.output_tail, r.output_tail[-2000:]
    assert "COMPILED [3.0, 3.0]" in r.output_tail, r.output_tail[-2000:]
    assert probe_category(r) == "correct"


def test_honest_followers_pass_the_real_checks(env, run):
    """The trusted checks (pytest, on this side) grade every honest follower full marks."""
    scores = score(env.toy, {sid: run["results"][sid].probes for sid in run["followers"].values()})
    bad = {sid: failed for sid, (got, full, failed) in scores.items() if got != full or failed}
    assert not bad, bad


@pytest.fixture(scope="module")
def verdicts(env, run):
    """What the trusted checks make of every hostile entry: sid -> (points, max, not passed),
    plus the entries that got more than honest code earns ("forged")."""
    scores = score(env.toy, {e["id"]: run["results"][e["id"]].probes for e in run["entries"]})
    honest = score(env.toy, {"honest": run["results"][run["followers"][run["entries"][0]["id"]]].probes})["honest"]
    forged = []
    for e in run["entries"]:
        got, _full, failed = scores[e["id"]]
        values_passed = not any(f.startswith("test_affine_values:") for f in failed)
        correct = probe_category(run["results"][e["id"]]) == "correct"
        if got > honest[0] or (values_passed and not correct):
            forged.append((e["id"], got, failed))
    return {"scores": scores, "honest": honest, "forged": forged}


def test_no_hostile_entry_outscores_honest_code(run, verdicts):
    """The trusted checks never give a hostile entry more than honest code earns: an entry
    whose answer is wrong (or never reached the probe) never passes the values test,
    whatever it patched, printed or forged."""
    honest, scores = verdicts["honest"], verdicts["scores"]
    assert honest[0] == honest[1] == 3, honest
    assert verdicts["forged"] == []
    # and the wrong answers really were graded as wrong (the attacks reached the checks)
    wrong = [e["id"] for e in run["entries"] if e["expect"].get("probe") in ("wrong", "error", "missing")]
    assert wrong and all(scores[i][0] < honest[0] for i in wrong), {i: scores[i] for i in wrong}


def test_report_table(pool, run, verdicts, capsys):
    """Prints the corpus table (id, expected, observed, points, seconds) and the figures
    quoted in docs/security.md; fails if the batch lost or could not run a job."""
    rows = []
    for e in run["entries"]:
        r = run["results"][e["id"]]
        exp = e["expect"]["status"]
        pts = verdicts["scores"][e["id"]][0]
        rows.append(f"{e['id']:<32} {str(exp):<18} {r.status:<10} {probe_category(r):<8} {pts:3g}/3 {r.wall_s:6.2f}s")
    crashes = run["jobs"] - len(run["results"]) + sum(r.status == "sandbox_error" for r in run["results"].values())
    with capsys.disabled():
        print(f"\nhostile corpus ({pool.sandbox}): {len(rows)} entries + honest followers in {run['elapsed']:.1f} s")
        print("\n".join(rows))
        print(f"FIGURES sandbox={pool.sandbox} hostile={len(rows)} forged={len(verdicts['forged'])} "
              f"batch_crashes={crashes} leftover_processes={len(run['leftover'])} leaked_files={len(run['leaks'])}")
    assert crashes == 0


def test_warm_up_is_complete_and_single_threaded(pool):
    """Every warm-up step ran in the worker, which is still single-threaded (safe to fork)."""
    ready = pool._workers[0].ready
    assert ready.get("warm_up_failed") == [], ready
    assert ready.get("threads") == 1, ready


def test_sandbox_view_holds_no_hidden_files(env, pool):
    if pool.sandbox != "bubblewrap":
        pytest.skip("bubblewrap is not available here: the rlimits fallback does not restrict the file system view")
    targets = [str(p) for p in sorted(REPO.glob("solutions/*/hidden/test_*.py"))]
    targets += [str(p) for p in sorted(REPO.glob("solutions/*/hidden/*.yaml"))]
    targets += [str(p) for p in sorted(REPO.glob("solutions/*/hidden/reference.py"))]
    targets += [str(p) for p in sorted(REPO.glob("rubrics/*.yaml"))]
    targets += [str(p) for p in sorted(env.course.glob("solutions/*/hidden/*"))]
    targets += [str(p) for p in sorted(REPO.glob("solutions/*/*.ipynb"))]
    assert any("test_" in t for t in targets) and any("points.yaml" in t for t in targets)
    src = HONEST + "import os\nopened = []\n"
    src += f"for path in {targets!r}:\n"
    src += "    try:\n        open(path).read(1)\n        opened.append(path)\n    except OSError:\n        pass\n"
    src += f"print('OPENED', opened)\nprint('REPO', sorted(os.listdir({str(REPO)!r})))\n"
    src += "print('PROBES', sorted(os.listdir('/grader/probes')))\n"
    [r] = list(pool.run_many([env.toy_job("view", src)]))
    assert r.status == "ok", r.message
    out = dict(line.split(" ", 1) for line in r.output_tail.strip().splitlines())
    assert eval(out["OPENED"]) == [], out["OPENED"]
    assert set(eval(out["REPO"])) <= {"autograder", ".venv"}, out["REPO"]  # no solutions/, rubrics/, tests/
    probes = eval(out["PROBES"])
    assert "toy_affine.py" in probes and all(p.endswith(".py") for p in probes)


def test_patches_do_not_reach_the_next_submission(env, pool):
    """Monkeypatching torch/builtins/numpy in one child cannot reach the next (fork from a
    clean worker): the second job sees the original objects."""
    patcher = HONEST + (
        "import builtins, torch, numpy, torch.nn.functional as F\n"
        "torch.allclose = lambda *a, **k: 'PATCHED'\nF.relu = lambda *a, **k: 'PATCHED'\n"
        "numpy.allclose = lambda *a, **k: 'PATCHED'\nbuiltins.PATCH_MARK = 'PATCHED'\nbuiltins.len = lambda x: -1\n"
        "import autograder.scoring.probe as P\nP.PROBE_SEED = 1\n"
    )
    checker = HONEST + (
        "import builtins, torch, numpy, torch.nn.functional as F\n"
        "import autograder.scoring.probe as P\n"
        "print('CLEAN' if (torch.allclose(torch.ones(2), torch.ones(2)) is True and F.relu(torch.ones(1)).item() == 1.0"
        " and numpy.allclose([1], [1]) and not hasattr(builtins, 'PATCH_MARK') and len([1, 2]) == 2"
        " and P.PROBE_SEED == 20251122) else 'DIRTY')\n"
    )
    results = list(pool.run_many([env.toy_job("patcher", patcher), env.toy_job("checker", checker)]))
    by_id = {r.job_id: r for r in results}
    assert "replaced" in by_id["patcher"].message, by_id["patcher"].message  # the patches did happen
    assert by_id["checker"].status == "ok"
    assert "CLEAN" in by_id["checker"].output_tail, by_id["checker"].output_tail
    assert probe_category(by_id["checker"]) == "correct"


def test_week10_hostile_then_honest_equals_baseline(env, pool, reference, capsys):
    """Each Week 10 hostile entry (w10_patch_functional patches torch.nn.functional, torch.tanh,
    nn.Linear.forward and builtins globally) is followed, on the same warm worker, by the
    honest solution: its probe data equal the in-process run's exactly and it gets full marks."""
    lab = env.lab("week10_rnn")
    ref = reference("week10_rnn")
    jobs = []
    for e in load_corpus("week10_rnn"):
        jobs.append(env.w10_job(e["id"], e["cell"], env.fill(e["source"], env.w10_original(e["cell"]))))
        jobs.append(env.w10_job("honest-after-" + e["id"]))
    leaks_before = set(host_leaks())
    results = {r.job_id: r for r in pool.run_many(jobs)}
    assert len(results) == len(jobs)
    assert sorted(set(host_leaks()) - leaks_before) == []
    scores = score(lab, {sid: r.probes for sid, r in results.items()})
    for e in load_corpus("week10_rnn"):
        r = results[e["id"]]
        statuses = e["expect"]["status"] if isinstance(e["expect"]["status"], list) else [e["expect"]["status"]]
        assert r.status in statuses, (e["id"], r.status, r.message)
        assert is_plain(dataclasses.asdict(r))
        if e["expect"].get("clean_after_first_probe"):
            # the patch made during one probe reached no later probe
            order = [n for n in ref if n in r.probes]
            assert order == list(ref), (e["id"], sorted(set(ref) - set(r.probes)))
            hit = [n for n in order if _data({n: r.probes[n]}) != _data({n: ref[n]})]
            assert hit and "torch.randn" in r.message, (e["id"], hit, r.message)  # the attack did fire
            later = order[order.index(hit[0]) + 1:]
            assert later and _data({n: r.probes[n] for n in later}) == _data({n: ref[n] for n in later}), (e["id"], hit)
        honest = results["honest-after-" + e["id"]]
        assert honest.status == "ok" and honest.message == "", (e["id"], honest.message)
        assert _data(honest.probes) == _data(ref), e["id"]
        got, full, failed = scores["honest-after-" + e["id"]]
        assert got == full and not failed, (e["id"], failed)
        assert scores[e["id"]][0] <= full, e["id"]
    assert "replaced" in results["w10_patch_functional"].message  # the global patches did happen
    left = leftover_processes(pool)
    with capsys.disabled():
        print(f"\nFIGURES week10 sandbox={pool.sandbox} hostile={len(load_corpus('week10_rnn'))} "
              f"forged={sum(scores[e['id']][0] > scores['honest-after-' + e['id']][0] for e in load_corpus('week10_rnn'))} "
              f"batch_crashes={len(jobs) - len(results)} leftover_processes={len(left)}")
    assert left == []


@pytest.mark.parametrize("lab_name", ["week10_rnn", "week11_gated"])
def test_solution_gets_full_marks_through_the_pool(env, pool, reference, lab_name):
    """The solution through the warm pool (bubblewrap when it works here): full marks and
    exactly the probe data of the in-process run."""
    lab = env.lab(lab_name)
    [r] = list(pool.run_many([solution_job(lab, "solution")]))
    assert r.status == "ok" and r.message == "", r.message
    assert r.sandbox == pool.sandbox
    assert r.cells and all(c["ok"] for c in r.cells), [c for c in r.cells if not c["ok"]]
    assert _data(r.probes) == _data(reference(lab_name))
    got, full, failed = score(lab, {"solution": r.probes})["solution"]
    assert got == full and not failed, failed


def test_close_leaves_nothing(env):
    """A pool that ran a daemon and a fork bomb leaves no process and no file after close();
    and a new pool removes what a pool killed without close() (kill -9) left behind."""
    import subprocess
    import tempfile

    from autograder.execution.pool import CGROUP_PREFIX, TMP_PREFIX, WorkerPool, Cgroup

    # processes earlier tests of the session left under pytest (a Dask cluster, a browser
    # driver) are not this pool's: only what appears from here on counts
    before = set(_descendants(_proc_table(), os.getpid()))
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that no longer runs: the "killed" pool's owner
    stale = [Path(tempfile.gettempdir()) / f"{TMP_PREFIX}{dead.pid}-test"]
    stale[0].mkdir()
    (stale[0] / "w0-x").mkdir()
    for _controller, base in Cgroup.bases():
        try:
            (base / f"{CGROUP_PREFIX}{dead.pid}-0").mkdir()
            stale.append(base / f"{CGROUP_PREFIX}{dead.pid}-0")
        except OSError:
            pass  # cgroups not writable here
    daemon = next(e for e in load_corpus("toy_affine") if e["id"] == "daemon_double_fork")
    bomb = next(e for e in load_corpus("toy_affine") if e["id"] == "fork_bomb_bounded")
    p = WorkerPool([env.toy], limits(env.course / "course.yaml"), workers=1)
    assert [str(x) for x in stale if x.exists()] == [], "the stale pool's folders were not removed"
    tmp = p._tmp
    uids = p.sandbox_uids()
    try:
        jobs = [env.toy_job("d", env.fill(daemon["source"])), env.toy_job("b", env.fill(bomb["source"]))]
        # stop consuming after the first result: the second job is cancelled mid-flight
        for r in p.run_many(jobs):
            assert r.status == "ok"
            break
    finally:
        p.close()
    time.sleep(0.3)
    table = _proc_table()
    left = _descendants(table, os.getpid()) - before
    assert not left, f"processes outlived the pool: {_cmdlines(left)}"
    assert not [pid for pid, v in table.items() if v[1] in set(uids)]
    assert not os.path.exists(tmp)


def _cmdlines(pids: set[int]) -> list[str]:
    out = []
    for pid in sorted(pids):
        try:
            out.append(f"{pid}: " + Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200])
        except OSError:
            out.append(f"{pid}: (gone)")
    return out


# ----------------------------------------------------------------------------- fallback, in parallel

@pytest.fixture(scope="module")
def fallback(env):
    """Two workers, bubblewrap forced off (the rlimits fallback), every lab loaded."""
    from autograder.execution.pool import WorkerPool

    with WorkerPool(env.labs(), limits(env.course / "course.yaml"), workers=2, sandbox="rlimits") as p:
        assert p.sandbox == "rlimits"
        yield p


def test_fallback_runs_the_safe_subset_in_parallel(env, fallback, capsys):
    """Forced rlimits fallback, two workers: the entries that are safe without bubblewrap
    behave as expected, honest followers pass, nothing survives."""
    entries = [x for x in load_corpus("toy_affine") if x["id"] in FALLBACK_IDS]
    assert len(entries) == len(FALLBACK_IDS)
    accepted = env.listener.accepted
    jobs = []
    for x in entries:
        jobs += [env.toy_job(x["id"], env.fill(x["source"])), env.toy_job("honest-after-" + x["id"], HONEST)]
    leaks_before = set(host_leaks())
    start = time.monotonic()
    results = {r.job_id: r for r in fallback.run_many(jobs)}
    elapsed = time.monotonic() - start
    assert len(results) == len(jobs)
    time.sleep(0.5)
    left = leftover_processes(fallback)
    assert left == []
    leaks = sorted(set(host_leaks()) - leaks_before)
    for path in leaks:  # the test's own hygiene: no marker stays on the host
        Path(path).unlink(missing_ok=True)
    if not fallback.sandbox_uids():
        # without a uid drop the fallback cannot tell a submission's files on the shared
        # /tmp and /dev/shm from anyone else's (docs/security.md): only the daemon's markers
        # may appear there, nothing in the repository
        leaks = [p for p in leaks if not (Path(p).name.startswith("daemon-marker") and str(Path(p).parent) in ("/tmp", "/dev/shm"))]
    assert leaks == [], "files written on the host's /tmp or the repository"
    markers = len(os.listdir(env.marker))
    time.sleep(0.5)
    assert len(os.listdir(env.marker)) == markers, "a daemon survived its submission"
    scores = score(env.toy, {sid: r.probes for sid, r in results.items()})
    forged: list[str] = []
    for x in entries:
        r = results[x["id"]]
        statuses = x["expect"]["status"] if isinstance(x["expect"]["status"], list) else [x["expect"]["status"]]
        assert r.status in statuses, (x["id"], r.status, r.message)
        assert r.sandbox == "rlimits"
        for rule in x["expect"].get("must_not", []):
            if rule.startswith("output:"):
                assert env.fill(rule[7:]) not in r.output_tail, x["id"]
        values_passed = not any(f.startswith("test_affine_values:") for f in scores[x["id"]][2])
        if scores[x["id"]][0] > 3 or (values_passed and probe_category(r) != "correct"):
            forged.append(x["id"])
        honest = results["honest-after-" + x["id"]]
        assert honest.status == "ok" and probe_category(honest) == "correct", (x["id"], honest.message)
        assert scores["honest-after-" + x["id"]][0] == 3
    with capsys.disabled():
        print(f"\nFIGURES fallback sandbox={fallback.sandbox} hostile={len(entries)} forged={len(forged)} "
              f"batch_crashes={len(jobs) - len(results)} leftover_processes={len(left)} elapsed={elapsed:.1f}s")
    assert forged == []
    assert env.listener.accepted == accepted
    serial = sum(results[x["id"]].wall_s + results["honest-after-" + x["id"]].wall_s for x in entries)
    assert elapsed < serial, f"two workers should overlap: {elapsed:.1f} s elapsed for {serial:.1f} s of jobs"


@pytest.mark.parametrize("lab_name", ["week10_rnn", "week11_gated"])
def test_solution_gets_full_marks_in_the_fallback(env, fallback, reference, lab_name):
    """The same without bubblewrap: full marks, in-process probe data, twice in a row (the
    second child on a worker that already ran the first)."""
    lab = env.lab(lab_name)
    results = list(fallback.run_many([solution_job(lab, "first"), solution_job(lab, "second")]))
    assert len(results) == 2
    for r in results:
        assert r.status == "ok" and r.message == "", r.message
        assert r.sandbox == "rlimits"
        assert _data(r.probes) == _data(reference(lab_name)), r.job_id
    scores = score(lab, {r.job_id: r.probes for r in results})
    assert all(got == full and not failed for got, full, failed in scores.values()), scores


def test_read_attacks_are_real_without_bubblewrap(env, fallback):
    """The read attacks' paths are real: in the fallback, running as the pool's own user
    with the whole file system visible, they do read the hidden files (so their
    "nothing read" outcome under bubblewrap is the view's doing, not a wrong path).
    Documents the fallback's limit (docs/security.md)."""
    if fallback.sandbox_uids():
        pytest.skip("the fallback drops to an unprivileged uid here; the files' permissions decide")
    ids = ["read_hidden_tests", "read_solution_notebooks", "read_points_and_thresholds",
           "read_reference_implementations", "read_rubrics", "read_other_submissions"]
    entries = [e for e in load_corpus("toy_affine") if e["id"] in ids]
    assert len(entries) == len(ids)
    results = {r.job_id: r for r in fallback.run_many([env.toy_job(e["id"], env.fill(e["source"])) for e in entries])}
    for e in entries:
        r = results[e["id"]]
        assert r.status == "ok" and "LEAKED" in r.output_tail, (e["id"], r.status, r.output_tail[-500:])
    assert "OTHER-STUDENT-SECRET" in results["read_other_submissions"].output_tail
