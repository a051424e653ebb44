"""``make bench``: the project's ``grade`` against ``nbgrader autograde`` on the same submissions.

    python -m autograder.bench.run --n 100 --out bench-out        # what `make bench` runs
    python -m autograder.bench.run --quick --out /tmp/b           # a tiny run (tests)

1. release every lab and build N submissions per lab with the sample-class
   generator (``autograder.demo.sample_class``): correct, fair variants, typical
   bugs, stubs and *benign* hostile notebooks (fake "all passed" prints,
   monkeypatching, edited locked cells, duplicated or deleted cells, invalid JSON,
   the other lab's notebook). The infinite-loop student is left out: it costs
   every tool its time limit, which measures the limit, not the grader.
2. the project grades each lab with the real ``grade`` code path
   (``autograder.bench.grade_run`` wraps ``BatchGrader`` only to time phases),
   sandbox on, one warm worker per core: *default* mode (the experiment cells
   skipped, as the project grades by default) and *equal work*
   (``--run-experiments``: every cell nbgrader runs, in the labs' fast mode).
3. ``nbgrader autograde`` grades a documented, evenly spaced subset of the same
   notebooks in an nbgrader course built from the same release: *equal work*
   (``LAB_FAST=1``: the labs' fast mode, every cell) and *default* (the notebook
   as a student runs it, full experiments: minutes per notebook, so a smaller
   subset and by default Week 10 only). Per-submission costs are compared.
4. the whole hidden suite of each lab on its solution notebook, one process on
   one thread (``pytest solutions/<lab>/hidden``), and optionally a measured
   run of the project alone at ``--scale-n`` students x every lab.

Every command runs under :func:`autograder.bench.measure.run_measured`: wall
clock, CPU of the whole process tree (a cpuacct cgroup: sandboxed children
included), peak memory (sum of PSS over the tree, sampled every 0.25 s; and the
exact cgroup-v1 memory peak where available). Results: a table on stdout and
``OUT/bench.json``. Nothing here asserts a target; the table says which are met.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from autograder.bench.measure import loadavg, machine, run_measured
from autograder.config import load_config
from autograder.labs import Lab, load_lab

TARGETS = {
    "throughput_ratio_default": (">=", 30.0, "x nbgrader autograde's throughput (default modes)"),
    "project_code_cpu_s_per_submission": ("<=", 0.3, "s CPU per submission, code grading incl. sandbox"),
    "scale_wall_s": ("<=", 120.0, "s wall for 300 students x both labs, code and written"),
    "peak_rss_mb": ("<=", 1024.0, "MB peak memory of the whole batch"),
    "written_2400_s": ("<=", 60.0, "s for 200 students x 12 written answers"),
    "hidden_suite_cpu_s_max": ("<=", 5.0, "s CPU for one submission's whole hidden suite, one thread"),
}
SKIPPED_HOSTILE = ("infinite_loop",)


def _py() -> str:
    return sys.executable


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.setdefault(var, "1")  # one BLAS thread per process, for both tools: parallelism comes from processes
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- submissions


def build_submissions(lab: Lab, n: int, seed: int, dest: Path, course: str | None) -> tuple[list[str], dict[str, int]]:
    """``n`` notebooks ``dest/<sid>.ipynb`` (sample-class mix without the infinite loop); (sids in order, mix)."""
    from autograder.demo.sample_class import build_lab

    staging = dest.with_name(dest.name + ".staging")
    for d in (dest, staging):
        if d.exists():
            shutil.rmtree(d)
    cls = build_lab(lab.name, n + n // 19 + 2, seed, staging, "folder", course=course, resubmission=False)
    dest.mkdir(parents=True)
    sids: list[str] = []
    mix: dict[str, int] = {}
    for sid, st in cls.students.items():
        if st.hostile in SKIPPED_HOSTILE:
            continue
        if len(sids) == n:
            break
        shutil.move(str(staging / st.graded_file), str(dest / st.graded_file))
        sids.append(sid)
        kind = f"hostile:{st.hostile}" if st.hostile else st.category
        mix[kind] = mix.get(kind, 0) + 1
    shutil.rmtree(staging)
    return sids, mix


def spaced(items: list[str], k: int) -> list[str]:
    """``k`` items evenly spaced through ``items`` (the first included), for a subset that keeps the mix."""
    if k <= 0 or not items:
        return []
    k = min(k, len(items))
    return [items[(i * len(items)) // k] for i in range(k)]


# --------------------------------------------------------------------------- runs


def project_run(lab: Lab, subs: Path, out: Path, *, experiments: bool, workers: int | None, sandbox: str,
                course: str | None, tag: str) -> dict[str, Any]:
    """One ``grade`` of ``subs`` (the real code path), measured as a whole process tree."""
    report = out / f"{tag}-report.json"
    cmd = [_py(), "-m", "autograder.bench.grade_run", lab.name, str(subs), "--out", str(out / tag),
           "--report", str(report), "--sandbox", sandbox]
    if experiments:
        cmd.append("--run-experiments")
    if workers:
        cmd += ["--workers", str(workers)]
    if course:
        cmd += ["--course", course]
    out.mkdir(parents=True, exist_ok=True)
    with open(out / f"{tag}.log", "w") as log:
        m = run_measured(cmd, env=_env(), stdout=log, stderr=subprocess.STDOUT)
    if m.returncode != 0 or not report.exists():
        raise RuntimeError(f"grading {lab.name} ({tag}) failed with exit code {m.returncode}: see {out / (tag + '.log')}")
    detail = json.loads(report.read_text())
    n = int(detail["submissions"])
    written_cpu = detail["phases_cpu_s"].get("written", 0.0) + detail["phases_cpu_s"].get("written_model_load", 0.0)
    export_cpu = detail["phases_cpu_s"].get("export", 0.0)
    return {
        "lab": lab.name, "mode": "equal_work" if experiments else "default", "n": n,
        "wall_s": m.wall_s, "cpu_s": m.cpu_s, "cpu_method": m.cpu_method,
        "wall_s_per_submission": m.wall_s / n, "cpu_s_per_submission": m.cpu_s / n,
        # code grading: everything but the written-answer scorer and writing the report files
        "code_cpu_s_per_submission": max(0.0, m.cpu_s - written_cpu - export_cpu) / n,
        "peak_pss_mb": m.peak_pss_mb, "peak_rss_sum_mb": m.peak_rss_sum_mb,
        "memcg_peak_mb": m.extra.get("memcg_peak_mb", 0.0), "peak_processes": m.peak_processes,
        "pss_at_peak_mb": m.extra.get("pss_at_peak_mb", []),
        # the sandboxed workers and their per-submission children (student cells + probes), warm-up included,
        # and the trusted checks: the hidden suite as the batch pays it
        "sandbox_cpu_s": max(0.0, m.cpu_s - detail["self_cpu_s"]),
        "checks_cpu_s": detail["phases_cpu_s"].get("checks", 0.0),
        "statuses": detail["statuses"], "executor": detail["executor"],
        "written_answers": detail["written_answers"],
        "written_s": detail["phases_wall_s"].get("written", 0.0),
        "written_model_load_s": detail["phases_wall_s"].get("written_model_load", 0.0),
        "phases_wall_s": detail["phases_wall_s"], "phases_cpu_s": detail["phases_cpu_s"],
        "load": [m.load_before, m.load_after],
    }


def nbgrader_run(lab: Lab, subs: Path, sids: list[str], work: Path, *, fast: bool) -> dict[str, Any]:
    from autograder.bench.nbgrader_baseline import autograde

    tag = "fast" if fast else "default"
    files = {sid: subs / f"{sid}.ipynb" for sid in sids}
    t = autograde(lab, files, work / f"nbgrader-{lab.name}-{tag}", fast=fast, log=work / f"nbgrader-{lab.name}-{tag}.log")
    n = len(sids)
    return {"lab": lab.name, "mode": "equal_work" if fast else "default", "n": n, "students": sids,
            "wall_s": t.wall_s, "cpu_s": t.cpu_s, "wall_s_per_submission": t.wall_s / n, "cpu_s_per_submission": t.cpu_s / n,
            "graded": t.graded, "returncode": t.returncode, "cpu_method": t.measurement.get("cpu_method", ""),
            "peak_pss_mb": t.measurement.get("peak_pss_mb", 0.0), "load": [t.measurement.get("load_before"),
                                                                         t.measurement.get("load_after")]}


def hidden_suite_run(lab: Lab, work: Path) -> dict[str, Any]:
    """The lab's whole hidden suite on its solution: one pytest process, one thread (startup included)."""
    env = _env()
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    with open(work / f"hidden-{lab.name}.log", "w") as log:
        m = run_measured([_py(), "-m", "pytest", "-q", "-p", "no:cacheprovider", str(lab.hidden_dir)], env=env,
                         stdout=log, stderr=subprocess.STDOUT)
    return {"lab": lab.name, "cpu_s": m.cpu_s, "wall_s": m.wall_s, "passed": m.returncode == 0}


def startup_run() -> dict[str, Any]:
    """What any fresh process pays before the first test: the interpreter, torch, numpy and pytest imports."""
    env = _env()
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    m = run_measured([_py(), "-c", "import torch, numpy, pytest"], env=env, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
    return {"cpu_s": m.cpu_s, "wall_s": m.wall_s}


# --------------------------------------------------------------------------- summary


def _per_sub(runs: list[dict[str, Any]], key: str) -> float:
    n = sum(r["n"] for r in runs)
    return sum(r[key] for r in runs) / n if n else 0.0


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if a and b else None


def summarize(res: dict[str, Any]) -> dict[str, Any]:
    proj_d = res["project"]["default"]
    proj_e = res["project"]["equal_work"]
    nb_e = res["nbgrader"]["equal_work"]
    nb_d = res["nbgrader"]["default"]
    s: dict[str, Any] = {}
    s["project_wall_s_per_submission"] = _per_sub(proj_d, "wall_s")
    s["project_cpu_s_per_submission"] = _per_sub(proj_d, "cpu_s")
    s["project_code_cpu_s_per_submission"] = sum(r["code_cpu_s_per_submission"] * r["n"] for r in proj_d) / max(1, sum(r["n"] for r in proj_d))
    s["project_equal_work_wall_s_per_submission"] = _per_sub(proj_e, "wall_s")
    s["project_equal_work_cpu_s_per_submission"] = _per_sub(proj_e, "cpu_s")
    s["nbgrader_wall_s_per_submission"] = _per_sub(nb_e, "wall_s")  # fast mode, every cell
    s["nbgrader_cpu_s_per_submission"] = _per_sub(nb_e, "cpu_s")
    s["nbgrader_default_wall_s_per_submission"] = _per_sub(nb_d, "wall_s")
    s["nbgrader_default_cpu_s_per_submission"] = _per_sub(nb_d, "cpu_s")

    def lab_matched(nb_runs: list[dict[str, Any]], proj_runs: list[dict[str, Any]], key: str) -> float | None:
        """nbgrader per-submission cost / the project's, over the labs both measured (weighted by lab equally)."""
        labs = [r["lab"] for r in nb_runs if r["n"]]
        pr = {r["lab"]: r for r in proj_runs}
        pairs = [(r[key], pr[r["lab"]][key]) for r in nb_runs if r["lab"] in pr and r["lab"] in labs]
        if not pairs:
            return None
        return _ratio(sum(a for a, _ in pairs) / len(pairs), sum(b for _, b in pairs) / len(pairs))

    s["throughput_ratio_default"] = lab_matched(nb_d, proj_d, "wall_s_per_submission")
    s["cpu_ratio_default"] = lab_matched(nb_d, proj_d, "cpu_s_per_submission")
    s["throughput_ratio_equal_work"] = lab_matched(nb_e, proj_e, "wall_s_per_submission")
    s["cpu_ratio_equal_work"] = lab_matched(nb_e, proj_e, "cpu_s_per_submission")
    # the project grading by default vs nbgrader doing the least it can (fast mode): the conservative ratio
    s["throughput_ratio_project_default_vs_nbgrader_fast"] = lab_matched(nb_e, proj_d, "wall_s_per_submission")
    runs = proj_d + proj_e + res.get("scale", {}).get("runs", [])
    s["peak_rss_mb"] = max((r["peak_pss_mb"] for r in runs), default=0.0)
    s["peak_rss_method"] = ("largest sum of PSS over the grading process tree (sampled every 0.25 s) of any one "
                            "grade run; the labs are graded one after another")
    s["peak_memcg_mb"] = max((r["memcg_peak_mb"] for r in runs), default=0.0)
    answers = sum(r["written_answers"] for r in proj_d)
    written_s = sum(r["written_s"] for r in proj_d)
    s["written_answers_per_s"] = answers / written_s if written_s else None
    load_s = max((r["written_model_load_s"] for r in proj_d), default=0.0)
    s["written_model_load_s"] = load_s
    s["written_2400_s"] = (2400 / s["written_answers_per_s"] + load_s) if s["written_answers_per_s"] else None
    s["hidden_suite_cpu_s"] = {r["lab"]: r["cpu_s"] for r in res["hidden_suite"]}
    s["hidden_suite_cpu_s_max"] = max(s["hidden_suite_cpu_s"].values(), default=None)
    s["hidden_suite_batch_cpu_s_per_submission"] = {
        r["lab"]: (r["sandbox_cpu_s"] + r["checks_cpu_s"]) / r["n"] for r in proj_d if "sandbox_cpu_s" in r}
    startup = (res.get("startup") or {}).get("cpu_s")
    if startup is not None:  # the same suite without the fixed start-up a warm grader does not pay again
        s["hidden_suite_startup_cpu_s"] = startup
        s["hidden_suite_net_cpu_s"] = {k: max(0.0, v - startup) for k, v in s["hidden_suite_cpu_s"].items()}
    s["batch_probe_and_check_cpu_s_per_submission"] = {r["lab"]: r["code_cpu_s_per_submission"] for r in proj_d}
    scale = res.get("scale") or {}
    if scale.get("runs"):
        s["scale_n"] = scale["n"]
        s["scale_wall_s"] = sum(r["wall_s"] for r in scale["runs"])
        s["scale_cpu_s"] = sum(r["cpu_s"] for r in scale["runs"])
        s["scale_measured"] = True
        n_scale = sum(r["n"] for r in scale["runs"])
        s["scale_cpu_s_per_submission"] = s["scale_cpu_s"] / n_scale
        s["scale_code_cpu_s_per_submission"] = sum(r["code_cpu_s_per_submission"] * r["n"] for r in scale["runs"]) / n_scale
        s["scale_peak_rss_mb"] = max(r["peak_pss_mb"] for r in scale["runs"])
        if scale["n"] != 300:  # the target is 300 students: scale linearly from what ran
            s["scale_wall_s"] *= 300 / scale["n"]
            s["scale_measured"] = False
    elif proj_d:
        # extrapolated: 300 students per lab at the measured per-submission wall (start-up included once per lab)
        s["scale_wall_s"] = sum(r["wall_s_per_submission"] * 300 for r in proj_d)
        s["scale_measured"] = False
    met = {}
    for key, (op, target, _) in TARGETS.items():
        v = s.get(key)
        met[key] = None if v is None else (v >= target if op == ">=" else v <= target)
    s["targets_met"] = met
    return s


def table(res: dict[str, Any]) -> str:
    s = res["summary"]
    L = []
    m = res["machine"]
    L.append(f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; load average before "
             f"{res['load_before']} after {res['load_after']} (a loaded machine inflates every wall time)")
    L.append(f"submissions: {res['n']} per lab ({', '.join(res['labs'])}); mix {json.dumps(res['mix'])}")
    L.append("")
    L.append(f"{'tool / mode':56} {'lab':14} {'n':>4} {'wall s/sub':>10} {'CPU s/sub':>10} {'peak MB':>8}")
    for group, label in (("project", "project grade"), ("nbgrader", "nbgrader autograde")):
        for mode, mlabel in (("default", "default"), ("equal_work", "equal work (fast mode, every cell)")):
            for r in res[group][mode]:
                L.append(f"{label + ', ' + mlabel:56} {r['lab']:14} {r['n']:>4} {r['wall_s_per_submission']:>10.3f} "
                         f"{r['cpu_s_per_submission']:>10.3f} {r.get('peak_pss_mb', 0):>8.0f}")
    for r in res.get("scale", {}).get("runs", []):
        L.append(f"{'project grade, default (scale run)':56} {r['lab']:14} {r['n']:>4} {r['wall_s_per_submission']:>10.3f} "
                 f"{r['cpu_s_per_submission']:>10.3f} {r['peak_pss_mb']:>8.0f}")
    L.append("")

    def f(v: Any, fmt: str = "{:.1f}") -> str:
        return "n/a" if v is None else fmt.format(v)

    L.append(f"throughput ratio, default modes (nbgrader whole notebook / project default): {f(s['throughput_ratio_default'])}x"
             f"  (CPU {f(s['cpu_ratio_default'])}x)")
    L.append(f"throughput ratio, equal work (both fast mode, every cell):               {f(s['throughput_ratio_equal_work'])}x"
             f"  (CPU {f(s['cpu_ratio_equal_work'])}x)")
    L.append(f"throughput ratio, project default vs nbgrader fast mode:                 "
             f"{f(s['throughput_ratio_project_default_vs_nbgrader_fast'])}x")
    L.append(f"project CPU per submission: {f(s['project_cpu_s_per_submission'], '{:.3f}')} s in all, "
             f"{f(s['project_code_cpu_s_per_submission'], '{:.3f}')} s code grading incl. the sandbox")
    L.append(f"peak memory of a whole grade run: {f(s['peak_rss_mb'], '{:.0f}')} MB (sum of PSS over the process tree); "
             f"cgroup peak {f(s['peak_memcg_mb'], '{:.0f}')} MB (page cache included)")
    L.append(f"written answers: {f(s['written_answers_per_s'], '{:.0f}')}/s; 200 students x 12 answers: "
             f"{f(s['written_2400_s'])} s (model load {s['written_model_load_s']:.1f} s included)")
    L.append("hidden suite, one submission, one thread (pytest on the solution, start-up included): "
             + (", ".join(f"{k} {v:.1f} s CPU" for k, v in s["hidden_suite_cpu_s"].items()) or "not run"))
    if s["hidden_suite_batch_cpu_s_per_submission"]:
        L.append("  in the batch (warm sandboxed workers: student cells + probes, plus the trusted checks), per submission: "
                 + ", ".join(f"{k} {v:.2f} s CPU" for k, v in s["hidden_suite_batch_cpu_s_per_submission"].items()))
    if "hidden_suite_net_cpu_s" in s:
        L.append(f"  without the start-up every fresh process pays (python + import torch, numpy, pytest: "
                 f"{s['hidden_suite_startup_cpu_s']:.1f} s CPU): "
                 + ", ".join(f"{k} {v:.1f} s CPU" for k, v in s["hidden_suite_net_cpu_s"].items()))
    L.append(f"300 students x {len(res['labs'])} labs: {f(s.get('scale_wall_s'))} s wall "
             f"({'measured' if s.get('scale_measured') else 'extrapolated from the per-submission wall'})")
    if s.get("scale_measured"):
        L.append(f"  at that scale: {s['scale_cpu_s']:.0f} s CPU in all ({s['scale_cpu_s'] / max(1, res['machine']['cores']):.0f} s "
                 f"on {res['machine']['cores']} cores even when idle), {s['scale_cpu_s_per_submission']:.3f} s CPU per "
                 f"submission, {s['scale_code_cpu_s_per_submission']:.3f} s code grading; peak {s['scale_peak_rss_mb']:.0f} MB")
    L.append("")
    L.append("targets:")
    for key, (op, target, what) in TARGETS.items():
        ok = s["targets_met"].get(key)
        L.append(f"  {'met   ' if ok else ('MISSED' if ok is False else 'n/a   ')} {key} {op} {target:g} ({what}): "
                 f"{f(s.get(key), '{:.3f}')}")
    for note in res["notes"]:
        L.append(f"note: {note}")
    return "\n".join(L)


# --------------------------------------------------------------------------- main


def _labs_arg(text: str | None, labs: list[str]) -> list[str]:
    if text is None or text == "all":
        return list(labs)
    if text in ("", "none"):
        return []
    return [x for x in text.split(",") if x]


def add_arguments(ap: argparse.ArgumentParser, *, course: bool = True) -> None:
    """The runner's options (shared with the ``autograder bench`` verb, where ``--course`` is the CLI's own)."""
    ap.add_argument("--n", type=int, default=100, help="submissions per lab (default 100)")
    ap.add_argument("--out", type=Path, default=Path("bench-out"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lab", action="append", dest="labs", help="only this lab (repeatable; default every lab)")
    if course:
        ap.add_argument("--course", default=None)
    ap.add_argument("--workers", type=int, default=None, help="project workers (default: one per core)")
    ap.add_argument("--sandbox", default="auto", choices=["auto", "bwrap", "none"])
    ap.add_argument("--equal-n", type=int, default=40,
                    help="submissions per lab (evenly spaced) for the project's equal-work run (default 40)")
    ap.add_argument("--nbgrader-n", type=int, default=5, help="nbgrader, fast mode: submissions per lab (default 5)")
    ap.add_argument("--nbgrader-default-n", type=int, default=1,
                    help="nbgrader, default mode (full experiments): submissions per lab (default 1)")
    ap.add_argument("--nbgrader-default-labs", default="week10_rnn",
                    help="labs for nbgrader's default mode: comma list, 'all' or 'none' (default week10_rnn: a Week 11 "
                         "notebook runs up to ~15 min)")
    ap.add_argument("--scale-n", type=int, default=300,
                    help="also grade this many students per lab with the project alone (0: extrapolate; default 300)")
    ap.add_argument("--no-hidden-suite", action="store_true", help="skip the standalone hidden-suite timing")
    ap.add_argument("--quick", action="store_true",
                    help="a tiny run for tests: N=4, nbgrader on 1 notebook per lab (fast mode only), no scale run")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m autograder.bench.run", description=__doc__.split("\n\n")[0])
    add_arguments(ap)
    return run(ap.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """The whole benchmark (see the module doc); returns the exit status."""
    if args.quick:
        args.n = min(args.n, 4)
        args.nbgrader_n, args.nbgrader_default_n, args.scale_n = 1, 0, 0
    config = load_config(args.course)
    labs = args.labs or list(config.labs)
    default_labs = [x for x in _labs_arg(args.nbgrader_default_labs, labs) if x in labs]
    out: Path = Path(args.out).resolve()  # nbgrader resolves a relative root against its own cwd
    work = out / "work"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    started = time.monotonic()
    res: dict[str, Any] = {"n": args.n, "labs": labs, "seed": args.seed, "machine": machine(), "load_before": loadavg(),
                           "env": {k: _env()[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")},
                           "project": {"default": [], "equal_work": []}, "nbgrader": {"default": [], "equal_work": []},
                           "hidden_suite": [], "mix": {}, "notes": []}
    base = [_py(), "-m", "autograder"] + (["--course", args.course] if args.course else [])
    lab_objs = {name: load_lab(name, config) for name in labs}
    stale = [name for name, lab in lab_objs.items() if not lab.release_notebook.exists()
             or not lab.source_notebook.exists() or lab.release_notebook.stat().st_mtime < lab.notebook.stat().st_mtime]
    if stale:  # a clean clone: generate the student and instructor versions once
        _log(f"== release {' '.join(stale)}")
        rel = subprocess.run(base + ["release", *stale], capture_output=True, text=True, env=_env())
        if rel.returncode != 0:
            print(rel.stdout + rel.stderr, file=sys.stderr)
            return 1

    sids: dict[str, list[str]] = {}
    for name, lab in lab_objs.items():
        _log(f"== build {args.n} submissions of {name}")
        sids[name], mix = build_submissions(lab, args.n, args.seed, work / "subs" / name, args.course)
        res["mix"][name] = mix

    equal_n = min(args.equal_n or args.n, args.n)
    for name, lab in lab_objs.items():
        _log(f"== project grade {name}: default mode, {args.n} submissions")
        res["project"]["default"].append(project_run(lab, work / "subs" / name, work / "project" / name, experiments=False,
                                                     workers=args.workers, sandbox=args.sandbox, course=args.course,
                                                     tag="default"))
        subs = work / "subs" / name
        if equal_n < args.n:
            subs = work / "subs-equal" / name
            subs.mkdir(parents=True, exist_ok=True)
            for sid in spaced(sids[name], equal_n):
                shutil.copyfile(work / "subs" / name / f"{sid}.ipynb", subs / f"{sid}.ipynb")
        _log(f"== project grade {name}: equal work (--run-experiments, fast mode), {equal_n} submissions")
        res["project"]["equal_work"].append(project_run(lab, subs, work / "project" / name, experiments=True,
                                                        workers=args.workers, sandbox=args.sandbox, course=args.course,
                                                        tag="equal_work"))
    for name, lab in lab_objs.items():
        if args.nbgrader_n > 0:
            subset = spaced(sids[name], args.nbgrader_n)
            _log(f"== nbgrader autograde {name}: fast mode, {len(subset)} submissions")
            res["nbgrader"]["equal_work"].append(nbgrader_run(lab, work / "subs" / name, subset, work, fast=True))
        if args.nbgrader_default_n > 0 and name in default_labs:
            subset = spaced(sids[name], args.nbgrader_default_n)
            _log(f"== nbgrader autograde {name}: default mode (full experiments), {len(subset)} submissions")
            res["nbgrader"]["default"].append(nbgrader_run(lab, work / "subs" / name, subset, work, fast=False))
    if not args.no_hidden_suite:
        res["startup"] = startup_run()
        for name, lab in lab_objs.items():
            _log(f"== hidden suite of {name} on its solution, one thread")
            res["hidden_suite"].append(hidden_suite_run(lab, work))
    if args.scale_n > 0:
        res["scale"] = {"n": args.scale_n, "runs": []}
        for name, lab in lab_objs.items():
            _log(f"== scale: project grade {name}, {args.scale_n} submissions")
            build_submissions(lab, args.scale_n, args.seed + 1, work / "subs-scale" / name, args.course)
            res["scale"]["runs"].append(project_run(lab, work / "subs-scale" / name, work / "scale" / name,
                                                    experiments=False, workers=args.workers, sandbox=args.sandbox,
                                                    course=args.course, tag="default"))
    res["load_after"] = loadavg()
    res["bench_wall_s"] = time.monotonic() - started
    notes = res["notes"]
    notes.append("the infinite-loop hostile student is left out of the set (it measures the time limit, not the grader)")
    notes.append(f"nbgrader graded an evenly spaced subset of the same notebooks: {args.nbgrader_n} per lab in fast mode, "
                 f"{args.nbgrader_default_n if default_labs else 0} per lab in default mode ({', '.join(default_labs) or 'none'}); "
                 "per-submission costs are compared")
    if equal_n < args.n:
        notes.append(f"the project's equal-work run graded an evenly spaced {equal_n} of the {args.n} per lab")
    if not default_labs or not args.nbgrader_default_n:
        notes.append("nbgrader default mode was not measured: throughput_ratio_default is n/a")
    for r in res["nbgrader"]["default"] + res["nbgrader"]["equal_work"]:
        if r["graded"] < r["n"] or r["returncode"]:
            notes.append(f"nbgrader {r['lab']} ({r['mode']}): {r['graded']}/{r['n']} notebooks autograded, exit "
                         f"{r['returncode']} (unreadable or foreign notebooks fail in nbgrader; their time still counts)")
    for r in res["hidden_suite"]:
        if not r["passed"]:
            notes.append(f"the hidden suite of {r['lab']} did not pass on the solution: see work/hidden-{r['lab']}.log")
    for r in res["project"]["default"]:
        if r["statuses"].get("error", 0) > r["n"] // 2:
            notes.append(f"{r['lab']}: {r['statuses']} (more errors than expected: see work/project logs)")
    res["summary"] = summarize(res)
    out.mkdir(parents=True, exist_ok=True)
    flat = {k: v for k, v in res["summary"].items()}
    (out / "bench.json").write_text(json.dumps({**flat, "detail": res}, indent=1, sort_keys=True, default=str) + "\n")
    text = table(res)
    (out / "bench.txt").write_text(text + "\n")
    print(text)
    print(f"\nbench finished in {res['bench_wall_s']:.0f} s; {out / 'bench.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
