# replaces: w11_compare
# Fair variant: seeds in the outer loop, data from make_recall_dataset directly (held-out seed = seed + offset),
# torch.manual_seed only, held-out accuracy computed by hand.
def compare_cells(seq_lens, cells, seeds):
    d = RECALL_DEFAULTS
    out = {(name, T): [] for name in cells for T in seq_lens}
    for seed in seeds:
        for T in seq_lens:
            x, y = make_recall_dataset(d["n_train"], T, d["num_classes"], d["vocab_size"], seed=seed)
            xt, yt = make_recall_dataset(d["n_test"], T, d["num_classes"], d["vocab_size"],
                                         seed=seed + d["test_seed_offset"])
            for name, cls in cells.items():
                torch.manual_seed(seed)
                model = RecurrentClassifier(cls(d["vocab_size"], d["hidden_size"]), d["num_classes"])
                train_classifier(model, x, y, epochs_for(T), d["lr"], batch_size=d["batch_size"], seed=seed)
                with torch.no_grad():
                    logits, _ = model(xt)
                out[(name, T)].append((logits.argmax(-1) == yt).float().mean().item())
    return out
