# replaces: w11_ablation
# Fair variant: functools.partial cell classes handed to compare_cells.
import functools


def ablation_study(seq_len, seeds):
    variants = {name: functools.partial(LSTMCell, ablate=None if name == "none" else name)
                for name in ["none", "input", "forget", "output"]}
    table = compare_cells([seq_len], variants, seeds)
    return {name: table[(name, seq_len)] for name in variants}
