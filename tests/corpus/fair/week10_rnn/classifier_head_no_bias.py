# replaces: w10_classifier
import torch.nn as nn


class RecurrentClassifier(nn.Module):
    """Iterates over x.transpose(0, 1); a bias-free linear head; the state kept as a tuple-or-tensor."""

    def __init__(self, cell, num_classes):
        super().__init__()
        self.rnn_cell = cell
        self.classifier = nn.Linear(cell.hidden_size, num_classes, bias=False)

    def forward(self, x):
        state = self.rnn_cell.initial_state(x.shape[0], device=x.device)
        hs = []
        for x_t in x.transpose(0, 1):
            state = self.rnn_cell(x_t, state)
            hs.append(state if not isinstance(state, tuple) else state[0])
        return self.classifier(hs[-1]), hs
