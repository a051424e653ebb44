"""Probes for Week 11 (``week11_gated``): call the student's objects on inputs made
here and return plain data. No solutions and no thresholds live in this file; the
checks (``test_*.py``) decide on the trusted side.

Fixtures defined here are deliberately *not* solutions of graded objects:

* ``_ToyTanhCell`` / ``_ToyPairCell``: tiny cells with the cell contract (neither an
  RNN, an LSTM nor a GRU) handed to ``compare_cells``;
* ``_SpyLSTM``: stands in for ``LSTMCell`` while ``ablation_study`` runs (records
  which ``ablate`` each model was built with);
* ``_SpyEncoder`` / ``_SpyDecoder``: record what ``Seq2Seq`` feeds them; their
  outputs are fixed, deterministic functions of their inputs;
* a data generator for the recall task and a linear head, for the gradient ratio.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from autograder.execution.run_cells import safe_text
from autograder.scoring.probe import ProbeSet

PROBES = ProbeSet("week11_gated")

# Sizes used by the probes (inputs, not thresholds).
D_SMALL, H_SMALL = 3, 4
N_FIT = 160                       # random (x, h) samples for the gate-equation fits
GRAD_T, GRAD_H, GRAD_D, GRAD_B, GRAD_C = 50, 32, 8, 64, 4
GRAD_SEEDS = list(range(7))
GRAD_FORGET_BIASES = [0.0, 1.0, 3.0]
FORGET_BIASES = [None, 0.0, 2.5, -1.0]  # None: the default
V_OUT, SOS, E_DIM, H_DEC = 11, 10, 5, 6


def _need(ns, name: str):
    """A name the student's notebook must define (a clear NameError otherwise)."""
    if name not in ns:
        raise NameError(f"name '{name}' is not defined (did its cell run, and is it spelled {name}?)")
    return ns[name]


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


def _redraw(module: nn.Module, bound: float, seed: int) -> None:
    """Re-draw every weight matrix (parameters with dim >= 2) from U(-bound, bound);
    biases (dim < 2) keep their initial values. Works for any parameter layout."""
    gen = _gen(seed)
    with torch.no_grad():
        for p in module.parameters():
            if p.dim() >= 2:
                fresh = (torch.rand(p.shape, generator=gen) * 2 - 1) * bound
                p.copy_(fresh.to(device=p.device, dtype=p.dtype))


def _n_params(module: nn.Module) -> int:
    return int(sum(p.numel() for p in module.parameters()))


def _detach(obj):
    """Detached copies of a tensor or a (nested) tuple/list of tensors; anything else as is."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if isinstance(obj, (tuple, list)):
        return [_detach(o) for o in obj]
    if isinstance(obj, dict):
        return {safe_text(k, 60): _detach(v) for k, v in obj.items()}
    return obj


def _describe(obj) -> str:
    if isinstance(obj, torch.Tensor):
        return f"tensor{tuple(obj.shape)}"
    return type(obj).__name__


def _num(value):
    """A per-seed accuracy as a float when it is one (float, int, NumPy or 1-element tensor)."""
    if isinstance(value, bool):
        return {"not_a_number": "bool"}
    if isinstance(value, torch.Tensor):
        return float(value.detach().reshape(-1)[0].item()) if value.numel() == 1 else {"not_a_number": _describe(value)}
    if isinstance(value, (int, float)):
        return float(value)
    item = getattr(value, "item", None)
    if callable(item):
        try:
            out = item()
        except Exception:  # noqa: BLE001
            out = None
        if isinstance(out, (int, float)) and not isinstance(out, bool):
            return float(out)
    return {"not_a_number": type(value).__name__}


def _values(value):
    if isinstance(value, torch.Tensor) and value.dim() == 1:
        return [_num(v) for v in value]
    if isinstance(value, (list, tuple)):
        return [_num(v) for v in value]
    return {"not_a_list": _describe(value)}


def _entries(result):
    """A results dict as plain entries: its keys (name, T) and per-seed values."""
    if not isinstance(result, dict):
        return {"not_a_dict": _describe(result)}
    out = []
    for key, value in result.items():
        plain_key = None
        if isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], str):
            try:
                plain_key = [key[0], int(key[1])] if int(key[1]) == key[1] else None
            except Exception:  # noqa: BLE001
                plain_key = None
        elif isinstance(key, str):
            plain_key = key
        try:
            key_text = safe_text(repr(key), 80)
        except Exception:  # noqa: BLE001 - a student's object with a broken __repr__
            key_text = "<unprintable key>"
        out.append({"key": plain_key, "key_text": key_text, "values": _values(value)})
    return out


class _Shrunk:
    """Temporarily shrink the namespace's RECALL_DEFAULTS (mutated in place, restored after)."""

    def __init__(self, ns, changes):
        self.d = ns["RECALL_DEFAULTS"]
        self.changes = changes

    def __enter__(self):
        self.saved = dict(self.d)
        self.d.update(self.changes)
        return self.d

    def __exit__(self, *exc):
        self.d.clear()
        self.d.update(self.saved)
        return False


class _ShrunkFast(_Shrunk):
    """The same for the notebook's fast-mode overrides (FAST_RECALL), if any: a runner that
    wraps itself in fast_mode_overrides() then still runs the tiny protocol."""

    def __init__(self, ns, changes):
        self.d = ns.get("FAST_RECALL") if isinstance(ns.get("FAST_RECALL"), dict) else {}
        self.changes = {k: v for k, v in changes.items() if k in self.d}


class _Swap:
    """Temporarily replace names in the namespace (restored after)."""

    def __init__(self, ns, **names):
        self.ns, self.names = ns, names

    def __enter__(self):
        self.saved = {k: self.ns.get(k, _MISSING) for k in self.names}
        self.ns.update(self.names)
        return self

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is _MISSING:
                self.ns.pop(k, None)
            else:
                self.ns[k] = v
        return False


_MISSING = object()


def _fingerprint(module: nn.Module) -> float:
    with torch.no_grad():
        return float(sum((p.double() * (i + 1)).sum().item() for i, p in enumerate(module.parameters())))


# --------------------------------------------------------------------------------------
# LSTMCell
# --------------------------------------------------------------------------------------

def _lstm_inputs(seed, n=N_FIT):
    g = _gen(seed)
    x = torch.randn(n, D_SMALL, generator=g) * 0.8
    h = torch.randn(n, H_SMALL, generator=g) * 0.8
    c = torch.randn(n, H_SMALL, generator=g)
    return x, h, c


@PROBES.probe("lstm_init", doing="creating LSTMCell(3, 4) and calling initial_state(5)")
def lstm_init(ns):
    cell = _need(ns, "LSTMCell")(D_SMALL, H_SMALL)
    return {"hidden_size": _num(getattr(cell, "hidden_size", None)) if hasattr(cell, "hidden_size") else None,
            "state": _detach(cell.initial_state(5)), "B": 5, "H": H_SMALL}


@PROBES.probe("lstm_params", doing="counting the parameters of LSTMCell(3, 4) and LSTMCell(5, 7)")
def lstm_params(ns):
    return {"sizes": [[D_SMALL, H_SMALL], [5, 7]],
            "counts": [_n_params(_need(ns, "LSTMCell")(D_SMALL, H_SMALL)), _n_params(_need(ns, "LSTMCell")(5, 7))]}


@PROBES.probe("lstm_forward", doing="calling LSTMCell(3, 4) on a batch of random inputs and states (h, c)")
def lstm_forward(ns):
    cell = _need(ns, "LSTMCell")(D_SMALL, H_SMALL)
    x, h, c = _lstm_inputs(1, 6)
    return {"B": 6, "H": H_SMALL, "out": _detach(cell(x, (h, c)))}


@PROBES.probe("lstm_gates", doing="calling LSTMCell(3, 4).gates and .forward on 160 random inputs and states")
def lstm_gates(ns):
    cell = _need(ns, "LSTMCell")(D_SMALL, H_SMALL)
    _redraw(cell, 1 / math.sqrt(H_SMALL), seed=11)
    x, h, c = _lstm_inputs(2)
    with torch.no_grad():
        gates = cell.gates(x, (h, c))
        out = cell(x, (h, c))
    return {"x": x, "h": h, "c": c, "gates": _detach(gates), "out": _detach(out)}


@PROBES.probe("lstm_forget_bias", doing="calling LSTMCell(3, 4, forget_bias=...) on zero input and zero state")
def lstm_forget_bias(ns):
    runs = []
    for fb in FORGET_BIASES:
        cell = _need(ns, "LSTMCell")(D_SMALL, H_SMALL) if fb is None else _need(ns, "LSTMCell")(D_SMALL, H_SMALL, forget_bias=fb)
        x = torch.zeros(5, D_SMALL)
        zeros = torch.zeros(5, H_SMALL)
        c0 = torch.randn(5, H_SMALL, generator=_gen(3))
        with torch.no_grad():
            gates = cell.gates(x, (zeros, zeros.clone()))
            out = cell(x, (zeros.clone(), c0))
        runs.append({"forget_bias": 1.0 if fb is None else fb, "default": fb is None,
                     "gates": _detach(gates), "c0": c0, "out": _detach(out)})
    return runs


@PROBES.probe("lstm_ablation", doing="calling LSTMCell(3, 4, ablate=...) .gates and .forward on random inputs")
def lstm_ablation(ns):
    runs = []
    for k, which in enumerate(("input", "forget", "output")):
        cell = _need(ns, "LSTMCell")(D_SMALL, H_SMALL, ablate=which)
        _redraw(cell, 1 / math.sqrt(H_SMALL), seed=20 + k)
        x, h, c = _lstm_inputs(30 + k, 64)
        with torch.no_grad():
            gates = cell.gates(x, (h, c))
            out = cell(x, (h, c))
        runs.append({"ablate": which, "x": x, "h": h, "c": c, "gates": _detach(gates), "out": _detach(out)})
    return runs


def _recall_batch(seed, n, T, C, V):
    """The recall task (same distribution as make_recall_dataset), generated here."""
    g = _gen(10_000 + seed)
    y = torch.randint(0, C, (n,), generator=g)
    tokens = torch.randint(C, V, (n, T), generator=g)
    tokens[:, 0] = y
    return F.one_hot(tokens, V).to(torch.float32), y


def _grad_ratio(cell, seed):
    """log10(||dL/dh_1|| / ||dL/dh_T||) for a many-to-one linear head on h_T (a fixture)."""
    H = GRAD_H
    _redraw(cell, 1 / math.sqrt(H), seed=seed)
    g = _gen(50_000 + seed)
    head_w = (torch.rand(GRAD_C, H, generator=g) * 2 - 1) / math.sqrt(H)
    x, y = _recall_batch(seed, GRAD_B, GRAD_T, GRAD_C, GRAD_D)
    state = cell.initial_state(GRAD_B)
    hs = []
    for t in range(GRAD_T):
        state = cell(x[:, t], state)
        hs.append(state[0] if isinstance(state, (tuple, list)) else state)
    loss = F.cross_entropy(hs[-1] @ head_w.T, y)
    g1, gT = torch.autograd.grad(loss, [hs[0], hs[-1]], allow_unused=True)
    n1 = 0.0 if g1 is None else float(g1.double().norm())
    nT = 0.0 if gT is None else float(gT.double().norm())
    if n1 == 0.0 or nT == 0.0 or not math.isfinite(n1) or not math.isfinite(nT):
        return {"first": n1, "last": nT}
    return math.log10(n1 / nT)


@PROBES.probe("lstm_grad_ratio", timeout_s=40,
              doing="measuring the gradient reaching step 1 of 50-step recall sequences with LSTMCell(8, 32) "
                    "(weight matrices re-drawn from U(-1/sqrt(32), 1/sqrt(32)), forget_bias 0, 1 and 3, 7 seeds)")
def lstm_grad_ratio(ns):
    out = {"T": GRAD_T, "seeds": GRAD_SEEDS, "forget_biases": GRAD_FORGET_BIASES, "log10_ratio": []}
    for fb in GRAD_FORGET_BIASES:
        row = []
        for seed in GRAD_SEEDS:
            torch.manual_seed(seed)
            row.append(_grad_ratio(_need(ns, "LSTMCell")(GRAD_D, GRAD_H, forget_bias=fb), seed))
        out["log10_ratio"].append(row)
    return out


@PROBES.probe("lstm_meta", doing="running LSTMCell(3, 4) on the 'meta' device (a stand-in for a GPU)")
def lstm_meta(ns):
    cell = _need(ns, "LSTMCell")(D_SMALL, H_SMALL).to("meta")
    x = torch.zeros(5, D_SMALL, device="meta")
    state = cell.initial_state(5, device="meta")
    return {"state": state, "out": cell(x, state), "gates": cell.gates(x, state)}


# --------------------------------------------------------------------------------------
# GRUCell
# --------------------------------------------------------------------------------------

@PROBES.probe("gru_init", doing="creating GRUCell(3, 4) and calling initial_state(5)")
def gru_init(ns):
    cell = _need(ns, "GRUCell")(D_SMALL, H_SMALL)
    return {"hidden_size": _num(getattr(cell, "hidden_size", None)) if hasattr(cell, "hidden_size") else None,
            "state": _detach(cell.initial_state(5)), "B": 5, "H": H_SMALL}


@PROBES.probe("gru_params", doing="counting the parameters of GRUCell(3, 4) and GRUCell(5, 7)")
def gru_params(ns):
    return {"sizes": [[D_SMALL, H_SMALL], [5, 7]],
            "counts": [_n_params(_need(ns, "GRUCell")(D_SMALL, H_SMALL)), _n_params(_need(ns, "GRUCell")(5, 7))]}


@PROBES.probe("gru_forward", doing="calling GRUCell(3, 4) on a batch of random inputs and hidden states")
def gru_forward(ns):
    cell = _need(ns, "GRUCell")(D_SMALL, H_SMALL)
    x, h, _ = _lstm_inputs(4, 6)
    return {"B": 6, "H": H_SMALL, "out": _detach(cell(x, h))}


@PROBES.probe("gru_gates", doing="calling GRUCell(3, 4).gates and .forward on 160 random inputs and hidden states")
def gru_gates(ns):
    cell = _need(ns, "GRUCell")(D_SMALL, H_SMALL)
    _redraw(cell, 1.0, seed=12)
    x, h, _ = _lstm_inputs(5)
    with torch.no_grad():
        gates = cell.gates(x, h)
        out = cell(x, h)
    return {"x": x, "h": h, "gates": _detach(gates), "out": _detach(out)}


@PROBES.probe("gru_meta", doing="running GRUCell(3, 4) on the 'meta' device (a stand-in for a GPU)")
def gru_meta(ns):
    cell = _need(ns, "GRUCell")(D_SMALL, H_SMALL).to("meta")
    x = torch.zeros(5, D_SMALL, device="meta")
    state = cell.initial_state(5, device="meta")
    return {"state": state, "out": cell(x, state), "gates": cell.gates(x, state)}


# --------------------------------------------------------------------------------------
# Runners: compare_cells and ablation_study on a shrunken protocol
# --------------------------------------------------------------------------------------

TINY = {"n_train": 48, "n_test": 24, "hidden_size": 5, "batch_size": 16, "epochs": {3: 1, 5: 1}}
RUN_LENS, RUN_SEEDS = [3, 5], [0, 1]


def _toy_cells(log):
    class _ToyTanhCell(nn.Module):
        """h_t = tanh(A x_t + 0.5 h_prev): a small test cell (not a graded object)."""

        def __init__(self, input_size, hidden_size):
            super().__init__()
            self.hidden_size = hidden_size
            self.A = nn.Parameter(torch.randn(input_size, hidden_size))
            log.append({"cell": "toy_tanh", "sizes": [input_size, hidden_size], "fingerprint": _fingerprint(self)})

        def initial_state(self, batch_size, device=None):
            return torch.zeros(batch_size, self.hidden_size, device=self.A.device if device is None else device)

        def forward(self, x_t, h):
            return torch.tanh(x_t @ self.A + 0.5 * h)

    class _ToyPairCell(nn.Module):
        """State (h, m): m_t = 0.9 m + B x_t, h_t = tanh(m_t): a small test cell with a tuple state."""

        def __init__(self, input_size, hidden_size):
            super().__init__()
            self.hidden_size = hidden_size
            self.B = nn.Parameter(torch.randn(input_size, hidden_size))
            log.append({"cell": "toy_pair", "sizes": [input_size, hidden_size], "fingerprint": _fingerprint(self)})

        def initial_state(self, batch_size, device=None):
            z = torch.zeros(batch_size, self.hidden_size, device=self.B.device if device is None else device)
            return z, z.clone()

        def forward(self, x_t, state):
            m = 0.9 * state[1] + x_t @ self.B
            return torch.tanh(m), m

    return {"toy_tanh": _ToyTanhCell, "toy_pair": _ToyPairCell}


def _data_spy(ns, calls):
    real = ns["make_recall_dataset"]

    def make_recall_dataset(n, seq_len, num_classes=4, vocab_size=8, seed=0):
        calls.append({"n": int(n), "seq_len": int(seq_len), "seed": int(seed)})
        return real(n, seq_len, num_classes, vocab_size, seed=seed)

    return make_recall_dataset


@PROBES.probe("compare_runs", timeout_s=40,
              doing="calling compare_cells([3, 5], {two small test cells}, seeds=[0, 1]) twice, "
                    "with RECALL_DEFAULTS shrunk to 48 training and 24 held-out sequences and 1 epoch")
def compare_runs(ns):
    out = {"seq_lens": RUN_LENS, "seeds": RUN_SEEDS, "names": ["toy_tanh", "toy_pair"],
           "n_train": TINY["n_train"], "n_test": TINY["n_test"], "runs": []}
    with _Shrunk(ns, TINY), _ShrunkFast(ns, TINY):
        for _ in range(2):
            builds, calls = [], []
            cells = _toy_cells(builds)
            with _Swap(ns, make_recall_dataset=_data_spy(ns, calls)):
                result = _need(ns, "compare_cells")(list(RUN_LENS), dict(cells), list(RUN_SEEDS))
            out["runs"].append({"result": _entries(result), "builds": builds, "data_calls": calls})
    return out


def _spy_lstm(log):
    class _SpyLSTM(nn.Module):
        """Stands in for LSTMCell while ablation_study runs: records how it was built.
        A small test cell with a tuple state (not an LSTM)."""

        def __init__(self, input_size, hidden_size, forget_bias=1.0, ablate=None):
            super().__init__()
            self.hidden_size = hidden_size
            self.A = nn.Parameter(torch.randn(input_size, hidden_size))
            log.append({"ablate": ablate if (ablate is None or isinstance(ablate, str)) else safe_text(ablate, 40),
                        "forget_bias": _num(forget_bias), "sizes": [input_size, hidden_size],
                        "fingerprint": _fingerprint(self)})

        def initial_state(self, batch_size, device=None):
            z = torch.zeros(batch_size, self.hidden_size, device=self.A.device if device is None else device)
            return z, z.clone()

        def gates(self, x_t, state):
            s = torch.sigmoid(x_t @ self.A)
            return {"input": s, "forget": s, "cell": torch.tanh(x_t @ self.A), "output": s}

        def forward(self, x_t, state):
            c = 0.9 * state[1] + x_t @ self.A
            return torch.tanh(c), c

    return _SpyLSTM


@PROBES.probe("ablation_runs", timeout_s=40,
              doing="calling ablation_study(4, seeds=[0, 1]) twice, with RECALL_DEFAULTS shrunk to 48 training "
                    "and 24 held-out sequences and 1 epoch (LSTMCell replaced by a small test cell that records "
                    "how it is built)")
def ablation_runs(ns):
    out = {"seq_len": 4, "seeds": RUN_SEEDS, "runs": []}
    with _Shrunk(ns, dict(TINY, epochs={4: 1})), _ShrunkFast(ns, dict(TINY, epochs={4: 1})):
        for _ in range(2):
            builds = []
            with _Swap(ns, LSTMCell=_spy_lstm(builds)):
                result = _need(ns, "ablation_study")(4, list(RUN_SEEDS))
            out["runs"].append({"result": _entries(result), "builds": builds})
    return out


# --------------------------------------------------------------------------------------
# Encoder and Decoder (the student's own)
# --------------------------------------------------------------------------------------

@PROBES.probe("encoder_states", doing="calling Encoder(10, 5, 6) on batches of 4 digit sequences of length 7")
def encoder_states(ns):
    enc = _need(ns, "Encoder")(10, E_DIM, H_DEC)
    enc.eval()
    g = _gen(7)
    src = torch.randint(0, 10, (4, 7), generator=g)
    last = src.clone()
    last[:, -1] = (last[:, -1] + 3) % 10
    first = src.clone()
    first[:, 0] = (first[:, 0] + 3) % 10
    row0 = src.clone()
    row0[0] = torch.randint(0, 10, (7,), generator=g)
    with torch.no_grad():
        return {"B": 4, "H": H_DEC, "src": src,
                "full": _detach(enc(src)), "prefix": _detach(enc(src[:, :-1])),
                "last_changed": _detach(enc(last)), "first_changed": _detach(enc(first)),
                "row0_changed": _detach(enc(row0))}


def _random_state(kind, B, H, g, device="cpu"):
    if kind == "tensor":
        return torch.randn(B, H, generator=g).to(device)
    return (torch.randn(B, H, generator=g).to(device), torch.randn(B, H, generator=g).to(device))


def _decoder_call(dec, token, B, H, seed, device="cpu"):
    """One decoder step. The state kind (a tensor for a GRU, (h, c) for an LSTM) is found by
    trying both: the first kind that the decoder accepts AND returns again wins; if none
    round-trips, the first kind accepted at all."""
    accepted, error = None, None
    for kind in ("tensor", "tuple"):
        state = _random_state(kind, B, H, _gen(seed), device)
        try:
            out = dec(token, state)
        except Exception as exc:  # noqa: BLE001 - the other kind may be the right one
            error = exc
            continue
        new_state = out[1] if isinstance(out, (tuple, list)) and len(out) == 2 else None
        if (kind == "tensor") == isinstance(new_state, torch.Tensor):
            return kind, state, out
        accepted = accepted or (kind, state, out)
    if accepted is not None:
        return accepted
    raise error


@PROBES.probe("decoder_step", doing="calling Decoder(11, 5, 6) for one step on 3 tokens with a random state "
                                    "(a (3, 6) tensor, or an (h, c) tuple if the tensor is refused)")
def decoder_step(ns):
    dec = _need(ns, "Decoder")(V_OUT, E_DIM, H_DEC)
    dec.eval()
    token = torch.tensor([SOS, 3, 7])
    with torch.no_grad():
        kind, state, (logits, new_state) = _decoder_call(dec, token, 3, H_DEC, seed=8)
        other_token = dec(torch.tensor([2, 9, 0]), state)[0]
        other_state = dec(token, _random_state(kind, 3, H_DEC, _gen(9)))[0]
        again = dec(token, state)[0]
    return {"kind": kind, "B": 3, "V": V_OUT, "H": H_DEC, "state": _detach(state), "logits": _detach(logits),
            "new_state": _detach(new_state), "logits_other_token": _detach(other_token),
            "logits_other_state": _detach(other_state), "logits_again": _detach(again)}


@PROBES.probe("encoder_meta", doing="running Encoder(10, 5, 6) on the 'meta' device (a stand-in for a GPU)")
def encoder_meta(ns):
    enc = _need(ns, "Encoder")(10, E_DIM, H_DEC).to("meta")
    return {"state": enc(torch.zeros(4, 7, dtype=torch.long, device="meta"))}


@PROBES.probe("decoder_meta", doing="running Decoder(11, 5, 6) for one step on the 'meta' device (a stand-in for a GPU)")
def decoder_meta(ns):
    dec = _need(ns, "Decoder")(V_OUT, E_DIM, H_DEC).to("meta")
    token = torch.zeros(3, dtype=torch.long, device="meta")
    kind, _, (logits, new_state) = _decoder_call(dec, token, 3, H_DEC, seed=8, device="meta")
    return {"kind": kind, "logits": logits, "new_state": new_state}


# --------------------------------------------------------------------------------------
# Seq2Seq with spy encoder and decoder
# --------------------------------------------------------------------------------------

class _SpyEncoder(nn.Module):
    """Returns a fixed function of the source: tanh of mean embedded source, (B, 6)."""

    def __init__(self):
        super().__init__()
        self.vocab_size, self.hidden_size = 10, H_DEC
        self.table = nn.Parameter(torch.randn(10, H_DEC, generator=_gen(101)))
        self.register_buffer("ids", torch.arange(10))
        self.calls = []

    def forward(self, src):
        state = torch.tanh(2.0 * ((src.long().unsqueeze(-1) == self.ids).to(self.table.dtype) @ self.table).mean(dim=1))
        self.calls.append(_detach(state))
        return state


class _SpyDecoder(nn.Module):
    """Records every step; logits and the new state are fixed functions of (token, state).

    Its argmax always lies in 0..4 and the probes draw targets from 5..9, so a fed
    target and a fed prediction can never be confused."""

    def __init__(self):
        super().__init__()
        self.vocab_size, self.output_size, self.hidden_size = V_OUT, V_OUT, H_DEC
        g = _gen(102)
        self.embed = nn.Parameter(torch.randn(V_OUT, H_DEC, generator=g))
        self.out = nn.Parameter(torch.randn(H_DEC, V_OUT, generator=g) * 2.0)
        mask = torch.zeros(V_OUT)
        mask[5:] = -30.0
        self.register_buffer("mask", mask)
        self.register_buffer("ids", torch.arange(V_OUT))
        self.calls = []
        self.record_states = True

    def forward(self, token, state):
        tok = token.reshape(-1).long() if token.dim() > 1 else token.long()
        # one-hot by comparison with a buffer: like nn.Embedding on a GPU, a token on another device fails
        emb = (tok.unsqueeze(-1) == self.ids).to(self.embed.dtype) @ self.embed
        new_state = torch.tanh(0.7 * state + emb)
        logits = new_state @ self.out + 0.3 * emb @ self.out + self.mask
        if logits.device.type != "meta":
            if self.record_states:
                self.calls.append({"token": _detach(token), "state_in": _detach(state),
                                   "state_out": _detach(new_state), "logits": _detach(logits)})
            else:  # lighter record: the token received and the decoder's own argmax prediction
                self.calls.append({"token": _detach(token), "pred": logits.detach().argmax(dim=-1)})
        return logits, new_state


def _seq2seq(ns):
    enc, dec = _SpyEncoder(), _SpyDecoder()
    return _need(ns, "Seq2Seq")(enc, dec, SOS), enc, dec


def _src_tgt(seed, B, T):
    g = _gen(seed)
    return torch.randint(0, 10, (B, T), generator=g), torch.randint(5, 10, (B, T), generator=g)


@PROBES.probe("seq2seq_forced", doing="calling Seq2Seq(encoder, decoder, sos_index=10)(src, tgt, 1.0) on a batch of 6 "
                                      "sequences of length 8, with a test encoder and decoder that record their inputs")
def seq2seq_forced(ns):
    model, enc, dec = _seq2seq(ns)
    src, tgt = _src_tgt(40, 6, 8)
    with torch.no_grad():
        out = model(src, tgt, 1.0)
    return {"sos": SOS, "src": src, "tgt": tgt, "out": _detach(out), "encoder_states": enc.calls, "calls": dec.calls}


@PROBES.probe("seq2seq_lookahead", doing="calling Seq2Seq(...)(src, tgt, 1.0) twice with targets that differ from step 4 on")
def seq2seq_lookahead(ns):
    model, _, _ = _seq2seq(ns)
    src, tgt = _src_tgt(41, 6, 8)
    tgt2 = tgt.clone()
    tgt2[:, 4:] = 5 + (tgt2[:, 4:] - 5 + 2) % 5
    with torch.no_grad():
        out1 = model(src, tgt, 1.0)
        out2 = model(src, tgt2, 1.0)
    return {"changed_from": 4, "tgt": tgt, "tgt2": tgt2, "out1": _detach(out1), "out2": _detach(out2)}


@PROBES.probe("seq2seq_free", doing="calling Seq2Seq(...)(src, tgt, 0.0) on a batch of 6 sequences of length 8")
def seq2seq_free(ns):
    model, enc, dec = _seq2seq(ns)
    src, tgt = _src_tgt(42, 6, 8)
    with torch.no_grad():
        out = model(src, tgt, 0.0)
    return {"sos": SOS, "tgt": tgt, "out": _detach(out), "encoder_states": enc.calls, "calls": dec.calls}


@PROBES.probe("seq2seq_mixed", doing="calling Seq2Seq(...)(src, tgt, 0.5) 8 times on a batch of 16 sequences of length 10")
def seq2seq_mixed(ns):
    model, _, dec = _seq2seq(ns)
    dec.record_states = False
    runs = []
    for k in range(8):
        src, tgt = _src_tgt(60 + k, 16, 10)
        dec.calls = []
        with torch.no_grad():
            model(src, tgt, 0.5)
        runs.append({"tgt": tgt, "calls": dec.calls})
    return {"sos": SOS, "runs": runs}


@PROBES.probe("seq2seq_generate", doing="calling Seq2Seq(...).generate(src, max_len=9) and forward(src, tgt, 0.0) "
                                        "on a batch of 6 sequences")
def seq2seq_generate(ns):
    model, enc, dec = _seq2seq(ns)
    src, tgt = _src_tgt(43, 6, 9)
    gen_out = model.generate(src, 9)
    gen_calls, gen_enc = dec.calls, enc.calls
    dec.calls, enc.calls = [], []
    with torch.no_grad():
        free = model(src, tgt, 0.0)
    short = model.generate(src, 3)
    return {"sos": SOS, "max_len": 9, "B": 6, "generated": _detach(gen_out), "calls": gen_calls,
            "encoder_states": gen_enc, "free_logits": _detach(free), "short": _detach(short)}


@PROBES.probe("seq2seq_meta", doing="running Seq2Seq(...) forward (ratio 1.0) and generate on the 'meta' device "
                                    "(a stand-in for a GPU)")
def seq2seq_meta(ns):
    model, _, _ = _seq2seq(ns)
    model = model.to("meta")
    src = torch.zeros(3, 5, dtype=torch.long, device="meta")
    tgt = torch.full((3, 4), 5, dtype=torch.long, device="meta")
    out = {"generated": model.generate(src, 4)}
    try:
        out["forward"] = model(src, tgt, 1.0)
    except Exception as exc:  # noqa: BLE001 - the check tells meta-only limits from device bugs
        out["forward_error"] = f"{type(exc).__name__}: {safe_text(exc, 300)}"
    return out
