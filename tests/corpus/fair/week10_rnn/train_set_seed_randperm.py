# replaces: w10_train
import torch
import torch.nn as nn


def train_classifier(model, x, y, epochs, lr, batch_size=256, clip=None, seed=0):
    """set_seed(seed) and the global generator; loss weighted by batch size; evaluate_accuracy."""
    set_seed(seed)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(params=model.parameters(), lr=lr)
    n = x.shape[0]
    history = {"loss": [], "accuracy": []}
    for _ in range(epochs):
        perm = torch.randperm(n)
        total, count = 0.0, 0
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            optimizer.zero_grad(set_to_none=False)
            logits = model(x[idx])[0]
            loss = criterion(logits, y[idx])
            loss.backward()
            if clip is not None:
                clip_grad_norm(model.parameters(), clip)
            optimizer.step()
            total += loss.item() * len(idx)
            count += len(idx)
        history["loss"].append(total / count)
        history["accuracy"].append(float(evaluate_accuracy(model, x, y)))
    return history
