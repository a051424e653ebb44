"""The long-range recall task shared by Week 10 (``week10_rnn``) and Week 11 (``week11_gated``).

This module holds, verbatim, the instructor-provided (locked) definitions of the
Week 10 notebook: the seeding helper, the data generator, ``RECALL_DEFAULTS``
and the helpers that read it. Week 11 must use identical definitions so that
the RNN-versus-gated comparison runs on exactly the same task and protocol.

Each ``# %%`` section below is one locked notebook cell (its grade_id follows
the marker). The notebook is the source students see; keep the two in sync:
if you change a definition here, rebuild the notebook cell as well.

Rules the hidden tests rely on: the helpers read ``RECALL_DEFAULTS`` at call
time (tests shrink the protocol by mutating the dict), and nothing here
hard-codes a device other than the CPU for freshly generated data.
"""
import contextlib
import random

import numpy as np
import torch
import torch.nn.functional as F

# %% w10_provided_data
def set_seed(seed):
    """Seed Python, NumPy and PyTorch so that a run is reproducible."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_recall_dataset(n, seq_len, num_classes=4, vocab_size=8, seed=0):
    """The long-range recall task.

    Returns ``(x, y)``: ``x`` is one-hot float32 of shape ``(n, seq_len, vocab_size)``,
    ``y`` is long of shape ``(n,)``. The token at position 0 is a class symbol
    ``0..num_classes-1`` and *is* the label; positions ``1..seq_len-1`` are
    distractors drawn only from the other symbols ``num_classes..vocab_size-1``.
    The label can only be recovered by carrying information from the first step
    to the last. Deterministic given ``seed`` (its own ``torch.Generator``, so
    the global random state is left alone).
    """
    if n < 1 or seq_len < 1:
        raise ValueError(f"need n >= 1 and seq_len >= 1, got n={n}, seq_len={seq_len}")
    if not 0 < num_classes < vocab_size:
        raise ValueError(f"need 0 < num_classes < vocab_size, got {num_classes} and {vocab_size}")
    gen = torch.Generator().manual_seed(int(seed))
    y = torch.randint(0, num_classes, (n,), generator=gen)
    tokens = torch.randint(num_classes, vocab_size, (n, seq_len), generator=gen)
    tokens[:, 0] = y
    x = F.one_hot(tokens, vocab_size).to(torch.float32)
    return x, y


# %% w10_provided_defaults
# The fixed training protocol for the recall task (chosen by measurement: see
# docs/week10_rnn.md). Do not edit: Week 11 compares against the same numbers.
RECALL_DEFAULTS = {
    "n_train": 8192,           # training sequences per run
    "n_test": 1024,            # held-out sequences per run
    "num_classes": 4,          # class symbols 0..3 (chance accuracy 0.25)
    "vocab_size": 8,           # distractor symbols 4..7
    "hidden_size": 32,
    "lr": 1e-2,                # Adam
    "batch_size": 256,
    "epochs": {10: 15, 40: 20, 80: 20},  # epochs per sequence length
    "short_len": 10,
    "long_len": 80,
    "test_seed_offset": 10_000,  # held-out data uses seed + offset
    "solved_acc": 0.9,           # held-out accuracy that counts as "solved"
}


def epochs_for(seq_len):
    """Epochs for ``seq_len``: its own entry, else that of the nearest listed length."""
    epochs = RECALL_DEFAULTS["epochs"]
    if isinstance(epochs, int):
        return epochs
    if seq_len in epochs:
        return epochs[seq_len]
    nearest = min(epochs, key=lambda length: (abs(length - seq_len), -length))
    return epochs[nearest]


@contextlib.contextmanager
def recall_overrides(**changes):
    """Temporarily change ``RECALL_DEFAULTS`` (restored afterwards), e.g. in fast mode."""
    saved = dict(RECALL_DEFAULTS)
    RECALL_DEFAULTS.update(changes)
    try:
        yield RECALL_DEFAULTS
    finally:
        RECALL_DEFAULTS.clear()
        RECALL_DEFAULTS.update(saved)


# %% w10_provided_helpers
def recall_split(seq_len, seed):
    """``(x_train, y_train, x_test, y_test)`` for one run; the held-out set uses ``seed + test_seed_offset``."""
    d = RECALL_DEFAULTS
    x_train, y_train = make_recall_dataset(d["n_train"], seq_len, d["num_classes"], d["vocab_size"], seed=seed)
    x_test, y_test = make_recall_dataset(
        d["n_test"], seq_len, d["num_classes"], d["vocab_size"], seed=seed + d["test_seed_offset"]
    )
    return x_train, y_train, x_test, y_test


def model_device(model):
    """The device of a model's parameters (the CPU for a model without parameters)."""
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


@torch.no_grad()
def evaluate_accuracy(model, x, y, batch_size=1024):
    """Fraction in [0, 1] of sequences whose argmax logit equals the label.

    Works with a model returning ``logits`` or ``(logits, hidden_states)``; data
    are moved to the model's device; the model's train/eval mode is restored.
    """
    device = model_device(model)
    was_training = model.training
    model.eval()
    correct = 0
    try:
        for start in range(0, len(x), batch_size):
            xb = x[start:start + batch_size].to(device)
            yb = y[start:start + batch_size].to(device)
            out = model(xb)
            logits = out[0] if isinstance(out, (tuple, list)) else out
            correct += (logits.argmax(dim=-1) == yb).sum().item()
    finally:
        model.train(was_training)
    return correct / max(1, len(x))


def fraction_solved(accuracies, threshold=None):
    """Fraction of runs whose held-out accuracy reaches ``RECALL_DEFAULTS['solved_acc']``."""
    threshold = RECALL_DEFAULTS["solved_acc"] if threshold is None else threshold
    accuracies = list(accuracies)
    return sum(a >= threshold for a in accuracies) / max(1, len(accuracies))
