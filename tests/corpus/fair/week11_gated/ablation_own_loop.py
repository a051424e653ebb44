# replaces: w11_ablation
# Fair variant: its own loop through run_recall_protocol-style steps, positional arguments to LSTMCell.
def ablation_study(seq_len, seeds):
    d = RECALL_DEFAULTS
    results = {}
    for key, ablate in [("none", None), ("input", "input"), ("forget", "forget"), ("output", "output")]:
        accs = []
        for seed in seeds:
            x_tr, y_tr, x_te, y_te = recall_split(seq_len, seed)
            set_seed(seed)
            model = RecurrentClassifier(LSTMCell(d["vocab_size"], d["hidden_size"], 1.0, ablate), d["num_classes"])
            train_classifier(model, x_tr, y_tr, epochs=epochs_for(seq_len), lr=d["lr"],
                             batch_size=d["batch_size"], seed=seed)
            accs.append(float(evaluate_accuracy(model, x_te, y_te)))
        results[key] = accs
    return results
