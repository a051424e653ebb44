"""Measure the recall-task protocol to choose ``RECALL_DEFAULTS`` for week10_rnn.

The script runs exactly the code students run: it executes the solution
notebook's provided cells and solution cells (not the experiments, not the
public checks) and then calls the notebook's own ``run_recall_protocol`` for
every sequence length and seed. It prints one row per length: the epochs used,
the held-out accuracy of every seed, the fraction of seeds solved
(``accuracy >= RECALL_DEFAULTS['solved_acc']``) and the seconds per run.

What the defaults must achieve (docs/week10_rnn.md): a short length that the
plain RNN solves in most seeds, a long length where it mostly fails, and a full
notebook run within 15 minutes on 2 CPU cores.

    python calibrate_defaults.py                      # the full sweep (minutes)
    python calibrate_defaults.py --lengths 10 80 --seeds 0 1 2
    python calibrate_defaults.py --fast               # a smoke test (seconds)
    python calibrate_defaults.py --markdown           # also print the table as Markdown

Training outcomes are bimodal per seed (solved, chance, or a 0.5 plateau), so
always read the fraction solved over several seeds, never a single run.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "week10_rnn.ipynb"
FAST_SETTINGS = {"lengths": [10, 20], "seeds": [0, 1], "overrides": {"n_train": 512, "n_test": 256, "epochs": 2}}


def load_lab_namespace(notebook: Path = NOTEBOOK) -> dict:
    """Execute the notebook's provided and solution code cells (no experiments, no public checks)."""
    import nbformat

    os.environ.setdefault("MPLBACKEND", "Agg")
    nb = nbformat.read(str(notebook), as_version=4)
    namespace: dict = {"__name__": "week10_rnn"}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        tags = set(cell.metadata.get("tags", []))
        if not meta.get("grade_id") or tags & {"experiment", "public-check"}:
            continue
        exec(compile(cell.source, f"<{meta['grade_id']}>", "exec"), namespace)
    return namespace


def sweep(ns: dict, lengths: list[int], seeds: list[int], overrides: dict, progress=print) -> list[dict]:
    """One record per (length, seed): held-out accuracy, final training accuracy, seconds."""
    records = []
    with ns["recall_overrides"](**overrides):
        for seq_len in lengths:
            epochs = ns["epochs_for"](seq_len)
            for seed in seeds:
                run = ns["run_recall_protocol"](seq_len, seed)
                record = {
                    "seq_len": seq_len,
                    "seed": seed,
                    "epochs": epochs,
                    "test_acc": run["test_acc"],
                    "train_acc": run["history"]["accuracy"][-1],
                    "seconds": run["seconds"],
                }
                records.append(record)
                progress(f"T={seq_len:4d} seed={seed:2d} epochs={epochs:3d} held-out acc={run['test_acc']:.3f} "
                         f"({run['seconds']:.1f} s)")
    return records


def summarise(records: list[dict], solved_acc: float) -> list[dict]:
    rows = []
    for seq_len in sorted({r["seq_len"] for r in records}):
        runs = [r for r in records if r["seq_len"] == seq_len]
        accs = [r["test_acc"] for r in runs]
        rows.append({
            "seq_len": seq_len,
            "epochs": runs[0]["epochs"],
            "seeds": [r["seed"] for r in runs],
            "accs": accs,
            "solved": sum(a >= solved_acc for a in accs),
            "n": len(accs),
            "sec_per_run": sum(r["seconds"] for r in runs) / len(runs),
        })
    return rows


def format_table(rows: list[dict], markdown: bool = False) -> str:
    seeds = rows[0]["seeds"] if rows else []
    if markdown:
        head = "| T | epochs | " + " | ".join(f"seed {s}" for s in seeds) + " | solved | s / run |"
        lines = [head, "|" + " --- |" * (len(seeds) + 4)]
        for row in rows:
            cells = " | ".join(f"{a:.3f}" for a in row["accs"])
            lines.append(f"| {row['seq_len']} | {row['epochs']} | {cells} | {row['solved']}/{row['n']} "
                         f"| {row['sec_per_run']:.1f} |")
        return "\n".join(lines)
    head = f"{'T':>5} {'epochs':>6}  " + " ".join(f"{'seed ' + str(s):>8}" for s in seeds) + f"  {'solved':>7} {'s/run':>6}"
    lines = [head]
    for row in rows:
        cells = " ".join(f"{a:>8.3f}" for a in row["accs"])
        lines.append(f"{row['seq_len']:>5} {row['epochs']:>6}  {cells}  {row['solved']:>3}/{row['n']:<3} "
                     f"{row['sec_per_run']:>6.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[10, 20, 40, 60, 80, 100])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(8)))
    parser.add_argument("--epochs", type=int, default=None, help="use this many epochs at every length")
    parser.add_argument("--fast", action="store_true", help="smoke test: lengths 10 20, seeds 0 1, tiny data, 2 epochs")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: the models are tiny)")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    parser.add_argument("--json", type=Path, default=None, help="write every run's record to this file")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    ns = load_lab_namespace()
    overrides: dict = {}
    lengths, seeds = args.lengths, args.seeds
    if args.fast:
        lengths, seeds, overrides = FAST_SETTINGS["lengths"], FAST_SETTINGS["seeds"], dict(FAST_SETTINGS["overrides"])
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    defaults = dict(ns["RECALL_DEFAULTS"], **overrides)
    print("protocol:", {k: v for k, v in defaults.items()}, "| device:", ns["DEVICE"], "| threads:", args.threads)

    start = time.perf_counter()
    records = sweep(ns, lengths, seeds, overrides, progress=lambda line: print(line, flush=True))
    rows = summarise(records, defaults["solved_acc"])
    print()
    print(format_table(rows))
    if args.markdown:
        print()
        print(format_table(rows, markdown=True))
    print(f"\n{len(records)} runs in {time.perf_counter() - start:.0f} s "
          f"(solved = held-out accuracy >= {defaults['solved_acc']})")
    if args.json:
        args.json.write_text(json.dumps({"protocol": {k: str(v) for k, v in defaults.items()}, "runs": records}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
