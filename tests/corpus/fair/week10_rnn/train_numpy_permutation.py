# replaces: w10_train
import numpy as np
import torch
import torch.nn.functional as F


def train_classifier(model, x, y, epochs, lr, batch_size=256, clip=None, seed=0):
    """NumPy's seeded Generator for the order; losses kept as tensors until the end of an epoch."""
    rng = np.random.default_rng(seed)
    optim = torch.optim.Adam(model.parameters(), lr)
    out = {"loss": [], "accuracy": []}
    for epoch in range(epochs):
        order = torch.from_numpy(rng.permutation(len(x)))
        batch_losses = []
        for chunk in torch.split(order, batch_size):
            logits, _states = model(x[chunk])
            loss = F.cross_entropy(logits, y[chunk])
            optim.zero_grad()
            loss.backward()
            if clip is not None:
                clip_grad_norm(model.parameters(), clip)
            optim.step()
            batch_losses.append(loss.item())
        out["loss"].append(float(np.mean(batch_losses)))
        out["accuracy"].append(evaluate_accuracy(model, x, y))
    return out
