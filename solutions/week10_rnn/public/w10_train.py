OK_FORMAT = False

from otter.test_files import test_case

name = "w10_train"
points = None


@test_case(points=None, hidden=False)
def test_history(RNNCell, RecurrentClassifier, train_classifier, make_recall_dataset):
    import torch

    if train_classifier is None:
        raise AssertionError("train_classifier is not defined: run its cell first.")
    try:
        torch.manual_seed(0)
        model = RecurrentClassifier(RNNCell(8, 8), 4)
    except (NotImplementedError, TypeError, AttributeError) as exc:
        raise AssertionError(f"RNNCell / RecurrentClassifier do not work yet ({type(exc).__name__}): finish A.1 and A.2 first.") from None
    x, y = make_recall_dataset(64, 4, seed=0)
    try:
        history = train_classifier(model, x, y, epochs=2, lr=1e-2, batch_size=32, clip=1.0, seed=0)
    except NotImplementedError:
        raise AssertionError(
            "train_classifier (or clip_grad_norm, which it calls when clip is set) still raises NotImplementedError."
        ) from None
    assert isinstance(history, dict), f"train_classifier should return a dict; got {type(history).__name__}."
    assert set(history) >= {"loss", "accuracy"}, f"the dict needs the keys 'loss' and 'accuracy'; got {sorted(history)}."
    for key in ("loss", "accuracy"):
        values = list(history[key])
        assert len(values) == 2, f"history['{key}'] should have one entry per epoch (2 epochs); got {len(values)}."
        assert all(isinstance(float(v), float) for v in values), f"history['{key}'] should hold numbers."
    accs = [float(a) for a in history["accuracy"]]
    assert all(0.0 <= a <= 1.0 for a in accs), f"accuracy should be a fraction in [0, 1]; got {accs}."
