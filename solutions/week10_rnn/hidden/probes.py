"""Probes for Week 10 (``week10_rnn``): call the student's objects, return plain data.

Every probe builds its inputs from its own ``torch.Generator`` and returns them
together with what the student's code produced, so the checks (trusted side)
recompute every reference from exactly what was used. No thresholds and no
solutions live here: only inputs, fixtures and questions.

Fixtures are deliberately *not* solutions of any graded object:

* ``SineCell`` and ``PairCell`` follow the cell contract (``hidden_size``,
  ``initial_state``, ``forward``) but are not RNN cells; ``PairCell`` carries an
  LSTM-like tuple state ``(h, c)``. They test ``RecurrentClassifier`` without the
  student's own ``RNNCell``.
* ``ToySeqModel`` follows the model interface ``model(x) -> (logits,
  hidden_states)`` with a decaying elementwise recurrence (no weight matrix
  between steps, no tanh). It tests ``hidden_grad_norms`` and
  ``train_classifier`` without the student's own classifier; in training runs
  it records every forward call (which samples, the logits, the parameters at
  that moment, and whether a gradient flowed back through the logits).
* ``train_classifier`` is run with ``clip_grad_norm`` replaced by a recording
  spy that clips with PyTorch's own ``torch.nn.utils.clip_grad_norm_``, so the
  training tests do not depend on the student's clipping.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from autograder.scoring.probe import ProbeSet

PROBES = ProbeSet("week10_rnn")


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _obj(ns, name: str):
    """The student's object ``name``; a clear NameError when the notebook does not define it."""
    if name not in ns:
        raise NameError(f"name '{name}' is not defined (is the cell that defines it still in your notebook?)")
    return ns[name]


def _param_count(module: nn.Module) -> int:
    return int(sum(p.numel() for p in module.parameters()))


# --------------------------------------------------------------------------- fixtures

class SineCell(nn.Module):
    """Toy cell: ``h' = 0.6 * roll(h, 1) * g + sin(x @ A)`` (elementwise recurrence, not an RNN)."""

    def __init__(self, input_size: int, hidden_size: int, seed: int) -> None:
        super().__init__()
        g = _gen(seed)
        self.hidden_size = hidden_size
        self.A = nn.Parameter(torch.randn(input_size, hidden_size, generator=g))
        self.g = nn.Parameter(torch.rand(hidden_size, generator=g) + 0.5)
        self.calls = 0

    def initial_state(self, batch_size: int, device=None) -> torch.Tensor:
        device = self.A.device if device is None else device
        return torch.zeros(batch_size, self.hidden_size, device=device)

    def forward(self, x_t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return 0.6 * torch.roll(h, 1, dims=-1) * self.g + torch.sin(x_t @ self.A)


class PairCell(nn.Module):
    """Toy cell with an LSTM-like tuple state: ``c' = 0.8 c + sin(x @ A) + 0.3 h``, ``h' = s * cos(c')``."""

    def __init__(self, input_size: int, hidden_size: int, seed: int) -> None:
        super().__init__()
        g = _gen(seed)
        self.hidden_size = hidden_size
        self.A = nn.Parameter(torch.randn(input_size, hidden_size, generator=g))
        self.s = nn.Parameter(torch.rand(hidden_size, generator=g) + 0.5)
        self.calls = 0

    def initial_state(self, batch_size: int, device=None):
        device = self.A.device if device is None else device
        zeros = torch.zeros(batch_size, self.hidden_size, device=device)
        return (zeros, zeros.clone())

    def forward(self, x_t: torch.Tensor, state):
        self.calls += 1
        h, c = state
        c_new = 0.8 * c + torch.sin(x_t @ self.A) + 0.3 * h
        return (self.s * torch.cos(c_new), c_new)


class ToySeqModel(nn.Module):
    """Toy model ``x -> (logits, hidden_states)``: ``h_t = 0.9 cos(g) * h_{t-1} + sin(x_t @ A)``,
    logits ``= h_T @ W + b``. Optionally records its forward calls (see the module docstring)."""

    def __init__(self, input_size: int, hidden_size: int, num_classes: int, seed: int) -> None:
        super().__init__()
        g = _gen(seed)
        self.A = nn.Parameter(torch.randn(input_size, hidden_size, generator=g))
        self.g = nn.Parameter(torch.rand(hidden_size, generator=g) * 2.0)
        self.W = nn.Parameter(torch.randn(hidden_size, num_classes, generator=g) * 0.5)
        self.b = nn.Parameter(torch.randn(num_classes, generator=g) * 0.1)
        self.log: list[dict] | None = None
        self.tags: dict[float, int] = {}

    def weights(self) -> dict:
        return {k: getattr(self, k).detach().clone() for k in ("A", "g", "W", "b")}

    def record(self, x: torch.Tensor) -> None:
        """Start recording; samples are recognised by their (unique) first feature."""
        self.log = []
        self.tags = {float(v): i for i, v in enumerate(x[:, 0, 0].tolist())}

    def forward(self, x: torch.Tensor):
        h = torch.zeros(x.shape[0], self.A.shape[1], device=x.device, dtype=x.dtype)
        hidden_states = []
        for t in range(x.shape[1]):
            h = 0.9 * torch.cos(self.g) * h + torch.sin(x[:, t] @ self.A)
            hidden_states.append(h)
        logits = h @ self.W + self.b
        if self.log is not None:
            entry = {
                "rows": [self.tags.get(float(v), -1) for v in x[:, 0, 0].tolist()],
                "logits": logits.detach().clone(),
                "params": torch.cat([p.detach().reshape(-1) for p in (self.A, self.g, self.W, self.b)]).clone(),
                "backward": False,
            }
            self.log.append(entry)
            if logits.requires_grad:
                def mark(grad, entry=entry):
                    entry["backward"] = True
                    return grad
                logits.register_hook(mark)
        return logits, hidden_states


# --------------------------------------------------------------------------- RNNCell

@PROBES.probe("rnn_cell_basic", doing="calling RNNCell(5, 7) on a batch of 4")
def rnn_cell_basic(ns):
    g = _gen(101)
    cell = _obj(ns, "RNNCell")(5, 7)
    x = torch.randn(4, 5, generator=g)
    h = torch.rand(4, 7, generator=g) * 1.6 - 0.8
    h_other = torch.rand(4, 7, generator=g) * 1.6 - 0.8
    out = cell(x, h)
    out_other_h = cell(x, h_other)
    return {"out": out, "out_other_h": out_other_h, "hidden_size": cell.hidden_size}


@PROBES.probe("rnn_cell_equation", doing="calling RNNCell(3, 4) on 64 random (x, h_prev) pairs")
def rnn_cell_equation(ns):
    g = _gen(102)
    cell = _obj(ns, "RNNCell")(3, 4)
    x = torch.randn(64, 3, generator=g) * 0.5
    h = torch.rand(64, 4, generator=g) * 1.2 - 0.6
    with torch.no_grad():
        out = cell(x, h)
        # The same question with every parameter scaled by 0.05 (still tanh of an affine map),
        # used only when an initialisation saturates most outputs at the original scale.
        for p in cell.parameters():
            p.mul_(0.05)
        out_small = cell(x, h)
    return {"x": x, "h": h, "out": out, "out_small": out_small}


@PROBES.probe("rnn_cell_parameters", doing="counting the trainable parameters of RNNCell(5, 7) and back-propagating through it")
def rnn_cell_parameters(ns):
    g = _gen(103)
    cell = _obj(ns, "RNNCell")(5, 7)
    params = [p for p in cell.parameters() if p.requires_grad]
    count = int(sum(p.numel() for p in params))
    x = torch.randn(4, 5, generator=g)
    h = torch.rand(4, 7, generator=g) - 0.5
    out = cell(x, h)
    with torch.no_grad():
        again = cell(x, h)

    def grad_norm_of(output) -> float:
        cell.zero_grad(set_to_none=True)
        if not (isinstance(output, torch.Tensor) and output.requires_grad):
            return 0.0
        output.sum().backward()
        return float(sum(float(p.grad.detach().pow(2).sum()) for p in params if p.grad is not None) ** 0.5)

    grad_norm = grad_norm_of(out.pow(2))
    # With x = 0 and h_prev = 0 only the bias can still move the output.
    zero_out = cell(torch.zeros(4, 5), torch.zeros(4, 7))
    zero_input_grad = grad_norm_of(zero_out)
    return {"count": count, "grad_norm": grad_norm, "zero_input_grad": zero_input_grad, "out": out, "again": again,
            "zero_out": zero_out, "zero_out_requires_grad": bool(getattr(zero_out, "requires_grad", False))}


@PROBES.probe("rnn_cell_initial_state", doing="calling RNNCell(5, 7).initial_state")
def rnn_cell_initial_state(ns):
    cell = _obj(ns, "RNNCell")(5, 7)
    return {
        "default": cell.initial_state(3),
        "cpu_string": cell.initial_state(2, device="cpu"),
        "cpu_device": cell.initial_state(1, device=torch.device("cpu")),
    }


@PROBES.probe("rnn_cell_meta_forward", doing="running RNNCell(5, 7) on PyTorch's 'meta' device (a stand-in for a GPU)")
def rnn_cell_meta_forward(ns):
    cell = _obj(ns, "RNNCell")(5, 7).to("meta")
    x = torch.empty(2, 5, device="meta")
    h = torch.empty(2, 7, device="meta")
    return {"out": cell(x, h)}


@PROBES.probe("rnn_cell_meta_initial_state", doing="calling RNNCell(5, 7).initial_state(2, device='meta')")
def rnn_cell_meta_initial_state(ns):
    cell = _obj(ns, "RNNCell")(5, 7).to("meta")
    return {"h0": cell.initial_state(2, device="meta")}


# --------------------------------------------------------------------------- RecurrentClassifier

def _grad_or_none(output, wrt):
    """d(output.sum())/d(wrt), or None where ``wrt`` is not on the graph of ``output``."""
    if not (isinstance(output, torch.Tensor) and isinstance(wrt, torch.Tensor)):
        return None
    if not (output.requires_grad and wrt.requires_grad):
        return None
    (grad,) = torch.autograd.grad(output.sum(), [wrt], allow_unused=True, retain_graph=True)
    return grad


def _classifier_run(ns, cell_cls, seed: int, B: int, T: int, D: int, H: int, C: int) -> dict:
    g = _gen(seed)
    cell = cell_cls(D, H, seed + 1)
    cell_params = {id(p) for p in cell.parameters()}
    model = _obj(ns, "RecurrentClassifier")(cell, C)
    count_before = _param_count(model)
    model_params = {id(p) for p in model.parameters()}
    # Change the cell's weights after construction: the classifier must use this very cell.
    with torch.no_grad():
        for p in cell.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=g))
    x = torch.randn(B, T, D, generator=g).requires_grad_(True)
    cell.calls = 0
    logits, hidden_states = model(x)
    calls = cell.calls
    is_list = isinstance(hidden_states, (list, tuple))
    states = list(hidden_states) if is_list else []
    grad_x = _grad_or_none(logits, x)
    grad_h = [_grad_or_none(logits, h) for h in states]
    logits_again, _ = model(x)
    longer = model(torch.randn(B, T + 3, D, generator=g))
    return {
        "x": x,
        "weights": {name: p.detach().clone() for name, p in cell.named_parameters()},
        "logits": logits,
        "logits_again": logits_again,
        "hidden_is_list": is_list,
        "hidden_states": states if is_list else hidden_states,
        "requires_grad": [bool(isinstance(h, torch.Tensor) and h.requires_grad) for h in states],
        "grad_x": grad_x,
        "grad_h": grad_h,
        "calls": calls,
        "cell_count": _param_count(cell),
        "count_before": count_before,
        "count_after": _param_count(model),
        "has_cell_params": cell_params <= model_params,
        "longer_steps": len(longer[1]),
    }


@PROBES.probe("classifier_sine_cell", doing="running RecurrentClassifier on a toy cell with hidden_size 4, batch 24, 5 steps")
def classifier_sine_cell(ns):
    return _classifier_run(ns, SineCell, seed=201, B=24, T=5, D=3, H=4, C=3)


@PROBES.probe("classifier_pair_cell", doing="running RecurrentClassifier on a toy cell whose state is a tuple (h, c), like an LSTM's")
def classifier_pair_cell(ns):
    return _classifier_run(ns, PairCell, seed=202, B=20, T=4, D=2, H=3, C=2)


@PROBES.probe("classifier_meta", doing="running RecurrentClassifier on PyTorch's 'meta' device (a stand-in for a GPU)")
def classifier_meta(ns):
    model = _obj(ns, "RecurrentClassifier")(SineCell(3, 4, 203), 2).to("meta")
    logits, hidden_states = model(torch.empty(2, 5, 3, device="meta"))
    return {"logits": logits, "last": list(hidden_states)[-1], "steps": len(hidden_states)}


# --------------------------------------------------------------------------- hidden_grad_norms

@PROBES.probe("grad_norms", doing="calling hidden_grad_norms on a toy model (batch 6, 7 steps, hidden size 5)")
def grad_norms(ns):
    g = _gen(301)
    model = ToySeqModel(3, 5, 4, seed=302)
    x = torch.randn(6, 7, 3, generator=g)
    y = torch.randint(0, 4, (6,), generator=g)
    norms = _obj(ns, "hidden_grad_norms")(model, x, y)
    short_x = torch.randn(2, 3, 3, generator=g)
    short_y = torch.randint(0, 4, (2,), generator=g)
    short_norms = _obj(ns, "hidden_grad_norms")(model, short_x, short_y)
    return {"weights": model.weights(), "x": x, "y": y, "norms": norms,
            "short_x": short_x, "short_y": short_y, "short_norms": short_norms}


@PROBES.probe("grad_norms_param_grads", doing="calling hidden_grad_norms on a toy model whose parameters already hold gradients")
def grad_norms_param_grads(ns):
    g = _gen(303)
    model = ToySeqModel(3, 5, 4, seed=304)
    x = torch.randn(4, 6, 3, generator=g)
    y = torch.randint(0, 4, (4,), generator=g)
    fresh = ToySeqModel(3, 5, 4, seed=304)
    _obj(ns, "hidden_grad_norms")(fresh, x, y)
    after_none = {name: p.grad for name, p in fresh.named_parameters()}
    before = {}
    for name, p in model.named_parameters():
        p.grad = torch.randn(p.shape, generator=g)
        before[name] = p.grad.clone()
    _obj(ns, "hidden_grad_norms")(model, x, y)
    after = {name: p.grad for name, p in model.named_parameters()}
    return {"after_none": after_none, "before": before, "after": after}


# --------------------------------------------------------------------------- clip_grad_norm

def _params_with_grads(seed: int, scale: float = 1.0) -> list[nn.Parameter]:
    g = _gen(seed)
    params = [nn.Parameter(torch.zeros(s)) for s in ((3, 4), (4,), (2, 2, 2), ())]
    for p in params:
        p.grad = torch.randn(p.shape, generator=g) * scale
    return params


def _clip_run(ns, params, max_norm, arg=None) -> dict:
    before = [p.grad.clone() if p.grad is not None else None for p in params]
    returned = _obj(ns, "clip_grad_norm")(params if arg is None else arg, max_norm)
    return {"max_norm": max_norm, "before": before, "after": [p.grad for p in params], "returned": returned}


@PROBES.probe("clip_above", doing="calling clip_grad_norm with a max_norm below the gradients' total norm")
def clip_above(ns):
    return _clip_run(ns, _params_with_grads(401), 0.5)


@PROBES.probe("clip_below", doing="calling clip_grad_norm with a max_norm above the gradients' total norm")
def clip_below(ns):
    return _clip_run(ns, _params_with_grads(402), 100.0)


@PROBES.probe("clip_generator", doing="calling clip_grad_norm(model.parameters(), max_norm) with a generator of parameters")
def clip_generator(ns):
    params = _params_with_grads(403)
    return _clip_run(ns, params, 0.5, arg=(p for p in params))


@PROBES.probe("clip_grad_none", doing="calling clip_grad_norm on parameters where one has no gradient (grad is None)")
def clip_grad_none(ns):
    params = _params_with_grads(404)
    params.insert(1, nn.Parameter(torch.ones(5)))  # never received a gradient
    return _clip_run(ns, params, 0.5)


@PROBES.probe("clip_by_hand", doing="calling clip_grad_norm(params, 0.5) on a list of parameters")
def clip_by_hand(ns):
    """Watches PyTorch's clipping functions (module attributes, and names the notebook
    imported from them) while the student's clip_grad_norm runs."""
    import torch.nn.utils as U
    import torch.nn.utils.clip_grad as CG

    used: list[str] = []
    patched = []  # (namespace-like, name, original, is_module)
    originals = {}
    for module in (U, CG):
        for name in ("clip_grad_norm_", "clip_grad_norm", "clip_grads_with_norm_"):
            if hasattr(module, name):
                originals[id(getattr(module, name))] = getattr(module, name)

    def make_spy(original, label):
        def spy(*args, **kwargs):
            used.append(label)
            return original(*args, **kwargs)
        return spy

    for module in (U, CG):
        for name in ("clip_grad_norm_", "clip_grad_norm", "clip_grads_with_norm_"):
            if hasattr(module, name):
                original = getattr(module, name)
                patched.append((module, name, original, True))
                setattr(module, name, make_spy(original, f"torch.nn.utils.{name}"))
    for key, value in list(ns.items()):
        if id(value) in originals and value is originals[id(value)]:
            patched.append((ns, key, value, False))
            ns[key] = make_spy(value, f"torch.nn.utils.{value.__name__}")
    try:
        fn = _obj(ns, "clip_grad_norm")
        fn(_params_with_grads(405), 0.5)
    finally:
        for target, name, original, is_module in reversed(patched):
            if is_module:
                setattr(target, name, original)
            else:
                target[name] = original
    return {"called": sorted(set(used))}


# --------------------------------------------------------------------------- train_classifier

def _train_data():
    """96 sequences of 4 steps; labels from a 'teacher' ToySeqModel; x[:, 0, 0] is unique per sample."""
    g = _gen(501)
    x = torch.randn(96, 4, 3, generator=g)
    x[:, 0, 0] = torch.randperm(96, generator=g).to(torch.float32) / 48.0 - 1.0
    teacher = ToySeqModel(3, 6, 2, seed=502)
    with torch.no_grad():
        y = teacher(x)[0].argmax(dim=-1)
    return x, y


class _ClipSpy:
    """Stands in for the student's clip_grad_norm during training; clips with PyTorch's own."""

    def __init__(self, model: ToySeqModel) -> None:
        self.model = model
        self.calls: list[dict] = []

    def __call__(self, parameters, max_norm, *args, **kwargs):
        params = [p for p in parameters]
        with_grad = [p for p in params if p.grad is not None]
        self.calls.append({
            "max_norm": float(max_norm),
            "n_params": len(params),
            "n_with_grad": len(with_grad),
            "grad_norm": float(sum(float(p.grad.detach().pow(2).sum()) for p in with_grad) ** 0.5),
            "params": torch.cat([p.detach().reshape(-1) for p in (self.model.A, self.model.g, self.model.W, self.model.b)]).clone(),
        })
        return torch.nn.utils.clip_grad_norm_(params, max_norm)


def _train_once(ns, x, y, seed: int, clip=None, epochs: int = 3, lr: float = 0.05, batch_size: int = 32) -> dict:
    model = ToySeqModel(3, 6, 2, seed=503)
    initial = model.weights()
    model.record(x)
    spy = _ClipSpy(model)
    saved = ns.get("clip_grad_norm")
    ns["clip_grad_norm"] = spy
    try:
        history = _obj(ns, "train_classifier")(model, x, y, epochs, lr, batch_size=batch_size, clip=clip, seed=seed)
    finally:
        if saved is None:
            ns.pop("clip_grad_norm", None)
        else:
            ns["clip_grad_norm"] = saved
    log, model.log = model.log or [], None
    train_calls = [e for e in log if e["backward"]]
    return {
        "history": history,
        "epochs": epochs, "lr": lr, "batch_size": batch_size, "seed": seed, "clip": clip,
        "initial": initial,
        "final": model.weights(),
        "rows": [e["rows"] for e in train_calls],
        "logits": [e["logits"] for e in train_calls],
        "params": [e["params"] for e in train_calls],
        "clip_calls": spy.calls,
        "other_calls": len(log) - len(train_calls),
    }


@PROBES.probe("train_run", doing="calling train_classifier on a toy model (96 sequences, 3 epochs, batch size 32)", timeout_s=20)
def train_run(ns):
    x, y = _train_data()
    first = _train_once(ns, x, y, seed=7)
    again = _train_once(ns, x, y, seed=7)
    other_seed = _train_once(ns, x, y, seed=8)
    return {"x": x, "y": y, "first": first,
            "again": {k: again[k] for k in ("history", "rows")},
            "other_seed": {k: other_seed[k] for k in ("history", "rows")}}


@PROBES.probe("train_clip", doing="calling train_classifier(..., clip=0.05) on a toy model", timeout_s=20)
def train_clip(ns):
    x, y = _train_data()
    run = _train_once(ns, x, y, seed=3, clip=0.05, epochs=2)
    return {k: run[k] for k in ("history", "clip_calls", "rows", "initial", "clip")}
