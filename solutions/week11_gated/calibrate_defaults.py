"""Measure the Week 11 experiment settings: RNN vs LSTM vs GRU, the ablation, seq2seq.

Runs the notebook's own code (the provided cells and the instructor's solution
cells of ``week11_gated.ipynb``, executed in one namespace, experiments and public
checks skipped), so the numbers are exactly those the notebook's experiments
produce for the same seeds. Prints one line per training run (held-out accuracy,
seconds) and summary tables: accuracy per cell, length and seed, the fraction of
seeds solved, seconds per run.

    nice -n 10 .venv/bin/python solutions/week11_gated/calibrate_defaults.py            # the notebook's settings
    .venv/bin/python solutions/week11_gated/calibrate_defaults.py --fast                # a smoke test (seconds)
    ... --seeds 0-9 --lengths 10,40 --cells rnn,lstm,gru,lstm_fb3 --no-ablation --no-seq2seq
    ... --only-seq2seq --s2s epochs=15 --s2s hidden_size=96 --ratios 1.0,0.5
    ... --set lr=0.005 --set 'epochs={10: 15, 40: 30}'   # try other RECALL_DEFAULTS (not what the notebook uses)

Every run is single-threaded (torch.set_num_threads(1)); run it under `nice`.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "week11_gated.ipynb"
WEEK10_NOTEBOOK = HERE.parent / "week10_rnn" / "week10_rnn.ipynb"
# Week 11 cells that must stay identical to Week 10's (same task, same protocol).
SHARED_CELLS = {
    "w11_provided_data": "w10_provided_data",
    "w11_provided_defaults": "w10_provided_defaults",
    "w11_provided_helpers": "w10_provided_helpers",
}
# Week 11's provided copy of Week 10's instructor solutions (solution markers removed).
WEEK10_SOLUTIONS = ("w10_rnn_cell", "w10_classifier", "w10_grad_norms", "w10_clip", "w10_train")


def check_week10_sync() -> list[str]:
    """Differences between Week 11's copies and the Week 10 notebook (empty when in sync)."""
    import nbformat

    if not WEEK10_NOTEBOOK.exists():
        return [f"{WEEK10_NOTEBOOK} not found: cannot check the shared cells"]

    def by_id(path):
        nb = nbformat.read(str(path), as_version=4)
        return {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells}

    w10, w11 = by_id(WEEK10_NOTEBOOK), by_id(NOTEBOOK)
    problems = [f"{mine} differs from Week 10's {theirs}" for mine, theirs in SHARED_CELLS.items()
                if w11.get(mine) != w10.get(theirs)]
    copied = w11.get("w11_provided_week10", "")
    for gid in WEEK10_SOLUTIONS:
        lines = [l for l in w10.get(gid, "").splitlines()
                 if l.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
        if "\n".join(lines) not in copied:
            problems.append(f"w11_provided_week10 no longer holds Week 10's solution of {gid}")
    return problems


def load_lab_namespace(fast: bool = False) -> dict:
    """Execute the notebook's non-experiment code cells (provided + solutions) and return the namespace."""
    import nbformat

    os.environ["LAB_FAST"] = "1" if fast else "0"
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    ns: dict = {"__name__": "week11_gated"}
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type != "code" or tags & {"experiment", "public-check"}:
            continue
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", "?")
        src = cell.source.replace("import otter\n", "raise ImportError\n")  # no public checks here
        exec(compile(src, f"<{gid}>", "exec"), ns)
    return ns


def parse_seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            seeds.extend(range(int(lo), int(hi) + 1))
        elif part:
            seeds.append(int(part))
    return seeds


def parse_assignments(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        out[key.strip()] = ast.literal_eval(value.strip())
    return out


def recall_table(ns: dict, rows: dict, seeds: list[int]) -> list[str]:
    solved_acc = ns["RECALL_DEFAULTS"]["solved_acc"]
    lines = ["| cell | T | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | solved | s/run |",
             "| --- | --- | " + " | ".join("---" for _ in seeds) + " | --- | --- | --- |"]
    for (name, T), runs in rows.items():
        accs = [r["acc"] for r in runs]
        solved = sum(a >= solved_acc for a in accs)
        secs = sum(r["seconds"] for r in runs) / len(runs)
        lines.append(f"| {name} | {T} | " + " | ".join(f"{a:.2f}" for a in accs)
                     + f" | {sum(accs) / len(accs):.2f} | {solved}/{len(accs)} | {secs:.1f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fast", action="store_true", help="tiny settings (LAB_FAST=1): a smoke test")
    ap.add_argument("--seeds", default=None, help="e.g. 0-4 or 0,3,7 (default: the notebook's SEEDS)")
    ap.add_argument("--lengths", default=None, help="comma-separated T (default: SHORT_LEN,LONG_LEN)")
    ap.add_argument("--cells", default="rnn,lstm,gru,lstm_fb3",
                    help="any of rnn, lstm, gru, lstm_fb0, lstm_fb3 (lstm_fb* only at the long length)")
    ap.add_argument("--no-ablation", action="store_true")
    ap.add_argument("--no-seq2seq", action="store_true")
    ap.add_argument("--only-seq2seq", action="store_true")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override RECALL_DEFAULTS")
    ap.add_argument("--s2s", action="append", default=[], metavar="KEY=VALUE", help="override SEQ2SEQ_DEFAULTS")
    ap.add_argument("--ratios", default=None, help="teacher-forcing ratios (default: 1.0 and low_ratio)")
    ap.add_argument("--json", default=None, help="write all results to this file")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    for problem in check_week10_sync():
        print(f"WARNING: {problem} (keep both notebooks identical in these cells)", flush=True)
    ns = load_lab_namespace(fast=args.fast)
    functools = ns["functools"]
    D = ns["RECALL_DEFAULTS"]
    if args.fast:
        D.update(ns["FAST_RECALL"])
    D.update(parse_assignments(args.set))
    seeds = parse_seeds(args.seeds) if args.seeds else list(ns["SEEDS"])
    lengths = [int(t) for t in args.lengths.split(",")] if args.lengths else [ns["SHORT_LEN"], ns["LONG_LEN"]]
    long_len = max(lengths)
    factories = {
        "rnn": ns["RNNCell"], "lstm": ns["LSTMCell"], "gru": ns["GRUCell"],
        "lstm_fb0": functools.partial(ns["LSTMCell"], forget_bias=0.0),
        "lstm_fb3": functools.partial(ns["LSTMCell"], forget_bias=3.0),
    }
    report: dict = {"recall_defaults": {k: (v if not isinstance(v, dict) else {str(a): b for a, b in v.items()})
                                        for k, v in D.items()},
                    "seeds": seeds, "lengths": lengths, "runs": [], "seq2seq": []}
    print(f"torch {torch.__version__}, 1 thread, seeds {seeds}, lengths {lengths}, RECALL_DEFAULTS {D}", flush=True)
    t_all = time.perf_counter()

    def one_run(name, factory, T, seed):
        start = time.perf_counter()
        acc = ns["compare_cells"]([T], {name: factory}, [seed])[(name, T)][0]
        secs = time.perf_counter() - start
        print(f"{name:>12} T={T:<3d} seed {seed}: held-out {acc:.3f}  ({secs:.1f} s)", flush=True)
        report["runs"].append({"cell": name, "T": T, "seed": seed, "acc": acc, "seconds": secs})
        return {"acc": acc, "seconds": secs}

    if not args.only_seq2seq:
        rows: dict = {}
        for name in args.cells.split(","):
            for T in lengths:
                if name.startswith("lstm_fb") and T != long_len:
                    continue
                rows[(name, T)] = [one_run(name, factories[name], T, s) for s in seeds]
        if not args.no_ablation:
            for variant in ("none", "input", "forget", "output"):
                factory = functools.partial(ns["LSTMCell"], ablate=None if variant == "none" else variant)
                rows[(f"ablate:{variant}", long_len)] = [one_run(f"ablate:{variant}", factory, long_len, s)
                                                         for s in seeds]
        print("\n" + "\n".join(recall_table(ns, rows, seeds)), flush=True)

    if not args.no_seq2seq or args.only_seq2seq:
        S = ns["seq2seq_settings"]()
        S.update(parse_assignments(args.s2s))
        ratios = [float(r) for r in args.ratios.split(",")] if args.ratios else [1.0, S["low_ratio"]]
        src_tr, tgt_tr = ns["make_reversal_dataset"](S["n_train"], S["seq_len"], seed=0)
        src_te, tgt_te = ns["make_reversal_dataset"](S["n_test"], S["seq_len"], seed=1)
        print(f"\nseq2seq {S}", flush=True)
        for ratio in ratios:
            model = ns["new_seq2seq"](seed=0, settings=S)
            start = time.perf_counter()
            hist = ns["train_seq2seq"](model, src_tr, tgt_tr, S["epochs"], S["lr"], S["batch_size"],
                                       teacher_forcing_ratio=ratio, seed=0, eval_data=(src_te, tgt_te))
            secs = time.perf_counter() - start
            print(f"ratio {ratio}: {secs:.1f} s ({secs / S['epochs']:.2f} s/epoch, evaluation included)")
            print("  epoch  loss   forced_token  free_token  free_exact")
            for e, (loss, ev) in enumerate(zip(hist["loss"], hist["eval"]), start=1):
                print(f"  {e:5d}  {loss:.3f}  {ev['forced_token']:12.3f}  {ev['free_token']:10.3f}  {ev['free_exact']:10.3f}")
            print("  free per position:", [round(v, 2) for v in hist["eval"][-1]["free_per_position"]], flush=True)
            report["seq2seq"].append({"ratio": ratio, "settings": S, "seconds": secs, "loss": hist["loss"],
                                      "eval": hist["eval"]})

    total = time.perf_counter() - t_all
    print(f"\ntotal {total:.0f} s", flush=True)
    report["total_seconds"] = total
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
