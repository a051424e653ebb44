"""Calibrate the Week 11 gradient-ratio thresholds and write ``thresholds.yaml``.

Usage (from the repository root; about a minute on one CPU thread)::

    .venv/bin/python solutions/week11_gated/hidden/calibrate_thresholds.py [--blocks 5] [--dry-run]

What is measured is exactly what the probe ``lstm_grad_ratio`` measures: the same
function (``probes._grad_ratio``: T = 50, H = 32, D = 8 one-hot recall inputs,
batch 64, every weight matrix re-drawn from U(-1/sqrt(H), 1/sqrt(H)), biases
kept, linear head on h_T) and the same statistic, the median over 7 seeds of
log10(||dL/dh_1|| / ||dL/dh_T||). The probe uses seeds 0..6 (block 0); the other
blocks (seeds 7..13, 14..20, ...) show how much that median moves with the seeds.

Populations:

* must pass: LSTM at forget_bias = 1 for every correct layout (the trusted
  reference, the fair variants of tests/corpus/fair/week11_gated/lstm_*.py and the
  solution notebook's cell when it exists);
* must fail: the same layouts at forget_bias = 0 (the "forget bias left at zero"
  bug) and the plain RNNCell (the calibration anchor; it carries no points).

The threshold is the midpoint between the two populations' nearest block medians,
rounded to 0.5; the script refuses to write it unless both populations stay at
least ``REQUIRED_MARGIN`` orders of magnitude away. The forget-bias monotonicity
threshold is a third of the smallest observed increase between consecutive
forget biases (0 -> 1 -> 3), rounded down to 0.5, with the same kind of check.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import math
import statistics
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
FAIR = REPO / "tests" / "corpus" / "fair" / "week11_gated"
REQUIRED_MARGIN = 2.0          # orders of magnitude between a population and the threshold
REQUIRED_INCREASE_MARGIN = 1.0  # orders of magnitude above the monotonicity threshold


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _cell_from_source(source: str, name: str):
    ns = {"torch": torch, "nn": nn, "F": F, "math": math, "np": np, "__name__": "__calibration__"}
    exec(compile(source, f"<{name}>", "exec"), ns)
    return ns


def layouts() -> tuple[dict, dict, dict]:
    """(LSTM classes, GRU classes, RNN classes) by layout name."""
    ref = _load("_week11_reference", HERE / "reference.py")
    lstm, gru, rnn = {"reference": ref.LSTMCell}, {"reference": ref.GRUCell}, {"reference_rnn": ref.RNNCell}
    for path in sorted(FAIR.glob("lstm_*.py")):
        lstm[path.stem] = _cell_from_source(path.read_text(), path.stem)["LSTMCell"]
    for path in sorted(FAIR.glob("gru_*.py")):
        gru[path.stem] = _cell_from_source(path.read_text(), path.stem)["GRUCell"]
    notebook = REPO / "solutions" / "week11_gated" / "week11_gated.ipynb"
    if notebook.exists():
        import nbformat

        from autograder.authoring import cells as C

        nb = nbformat.read(str(notebook), as_version=4)
        sources = {C.grade_id(c): C.source_text(c) for c in nb.cells if C.grade_id(c)}
        setup = next((s for g, s in sources.items() if g.endswith("provided_setup")), "")
        ns = _cell_from_source(setup.replace("grader = otter.Notebook", "grader = None  # "), "setup") if setup else {}
        for gid, key, store in (("w11_lstm_cell", "LSTMCell", lstm), ("w11_gru_cell", "GRUCell", gru)):
            if gid in sources:
                exec(compile(sources[gid], f"<{gid}>", "exec"), ns)
                store["solution_notebook"] = ns[key]
        for gid, src in sources.items():
            if "class RNNCell" in src:
                exec(compile(src, f"<{gid}>", "exec"), ns)
                rnn["notebook_rnn"] = ns["RNNCell"]
    return lstm, gru, rnn


def measure(make_cell, probes, seeds: list[int]) -> list[float]:
    out = []
    for seed in seeds:
        torch.manual_seed(seed)
        value = probes._grad_ratio(make_cell(), seed)
        out.append(float(value) if not isinstance(value, dict) else -math.inf)
    return out


def summary(values: list[float], block: int) -> dict:
    blocks = [values[i:i + block] for i in range(0, len(values), block)]
    medians = [float(np.median(b)) for b in blocks]
    return {"probe_median": round(medians[0], 3), "block_medians": [round(m, 3) for m in medians],
            "per_seed_min": round(min(values), 3), "per_seed_max": round(max(values), 3),
            "per_seed_sd": round(statistics.pstdev(values), 3)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=5, help="blocks of 7 seeds per layout (block 0 = the probe's seeds)")
    parser.add_argument("--dry-run", action="store_true", help="print, do not write thresholds.yaml")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    probes = _load("_week11_probes_for_calibration", HERE / "probes.py")
    block = len(probes.GRAD_SEEDS)
    assert probes.GRAD_SEEDS == list(range(block)), "block 0 must be the probe's seeds"
    seeds = list(range(block * args.blocks))
    D, H = probes.GRAD_D, probes.GRAD_H
    lstm, gru, rnn = layouts()

    measured: dict[str, dict] = {}
    for name, cls in lstm.items():
        measured[f"lstm/{name}"] = {
            f"forget_bias_{fb:g}": summary(measure(lambda cls=cls, fb=fb: cls(D, H, forget_bias=fb), probes, seeds), block)
            for fb in probes.GRAD_FORGET_BIASES}
        print(name, {k: v["block_medians"] for k, v in measured[f"lstm/{name}"].items()}, flush=True)
    for name, cls in rnn.items():
        measured[f"rnn/{name}"] = {"plain": summary(measure(lambda cls=cls: cls(D, H), probes, seeds), block)}
        print(name, measured[f"rnn/{name}"]["plain"]["block_medians"], flush=True)
    for name, cls in gru.items():
        measured[f"gru/{name}"] = {"plain": summary(measure(lambda cls=cls: cls(D, H), probes, seeds), block)}
        print("gru", name, measured[f"gru/{name}"]["plain"]["block_medians"], flush=True)

    lstm_rows = [v for k, v in measured.items() if k.startswith("lstm/")]
    must_pass = [m for row in lstm_rows for m in row["forget_bias_1"]["block_medians"]]
    must_fail = [m for row in lstm_rows for m in row["forget_bias_0"]["block_medians"]] + \
                [m for k, v in measured.items() if k.startswith("rnn/") for m in v["plain"]["block_medians"]]
    low_pass, high_fail = min(must_pass), max(must_fail)
    thr = math.floor((low_pass + high_fail) / 2 * 2) / 2
    margin_above, margin_below = low_pass - thr, thr - high_fail

    fbs = probes.GRAD_FORGET_BIASES
    increases = []
    for row in lstm_rows:
        for a, b in zip(fbs, fbs[1:]):
            ma, mb = row[f"forget_bias_{a:g}"]["block_medians"], row[f"forget_bias_{b:g}"]["block_medians"]
            increases += [y - x for x, y in zip(ma, mb)]
    min_increase = min(increases)
    inc_thr = math.floor(min_increase / 3 * 2) / 2
    inc_margin = min_increase - inc_thr

    problems = []
    if margin_above < REQUIRED_MARGIN or margin_below < REQUIRED_MARGIN:
        problems.append(f"populations too close: pass >= {low_pass:.2f}, fail <= {high_fail:.2f}, threshold {thr}")
    if inc_thr <= 0 or inc_margin < REQUIRED_INCREASE_MARGIN:
        problems.append(f"forget-bias increase too small: {min_increase:.2f}")

    out = {
        "lstm_fb1_min_log10_ratio": thr,
        "rnn_max_log10_ratio": thr,
        "lstm_fb_min_increase": inc_thr,
        "calibration": {
            "date": _dt.date.today().isoformat(),
            "torch": str(torch.__version__),
            "statistic": f"median over {block} seeds of log10(||dL/dh_1|| / ||dL/dh_T||)",
            "protocol": {"T": probes.GRAD_T, "H": H, "D": D, "batch": probes.GRAD_B, "classes": probes.GRAD_C,
                         "probe_seeds": probes.GRAD_SEEDS, "blocks": args.blocks,
                         "weights": "every parameter with dim >= 2 re-drawn from U(-1/sqrt(H), 1/sqrt(H)); biases kept",
                         "head": "linear head on h_T, weights U(-1/sqrt(H), 1/sqrt(H)), no bias; cross-entropy"},
            "must_pass": "LSTM, forget_bias 1, every correct layout: block medians >= threshold + margin",
            "must_fail": "LSTM forget_bias 0 (every layout) and the plain RNNCell: block medians <= threshold - margin",
            "required_margin": REQUIRED_MARGIN,
            "lowest_must_pass_median": round(low_pass, 3),
            "highest_must_fail_median": round(high_fail, 3),
            "margin_above": round(margin_above, 3),
            "margin_below": round(margin_below, 3),
            "smallest_forget_bias_increase": round(min_increase, 3),
            "increase_margin": round(inc_margin, 3),
            "required_increase_margin": REQUIRED_INCREASE_MARGIN,
            "measured": measured,
        },
    }
    text = ("# Written by calibrate_thresholds.py; do not edit by hand (re-run it instead).\n"
            "# Thresholds of the Week 11 gradient-ratio checks and the measurements behind them.\n"
            + yaml.safe_dump(out, sort_keys=False, width=120))
    print(f"threshold {thr} (pass >= {low_pass:.2f}, fail <= {high_fail:.2f}); increase > {inc_thr} (smallest {min_increase:.2f})")
    if problems:
        print("REFUSED:", "; ".join(problems))
        return 1
    if args.dry_run:
        print(text)
    else:
        (HERE / "thresholds.yaml").write_text(text)
        print(f"wrote {HERE / 'thresholds.yaml'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
