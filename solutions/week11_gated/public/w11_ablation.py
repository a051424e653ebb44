OK_FORMAT = False

from otter.test_files import test_case

name = "w11_ablation"
points = None


@test_case(points=None, hidden=False)
def test_keys_and_values(ablation_study, recall_overrides):
    if ablation_study is None:
        raise AssertionError("ablation_study is not defined: run its cell first.")
    tiny = {"n_train": 32, "n_test": 16, "epochs": 1, "hidden_size": 4, "batch_size": 16}
    try:
        with recall_overrides(**tiny):
            results = ablation_study(3, [0])
    except NotImplementedError:
        raise AssertionError(
            "ablation_study (or LSTMCell / compare_cells, which it needs) still raises NotImplementedError."
        ) from None
    assert isinstance(results, dict), f"ablation_study should return a dict; got {type(results).__name__}."
    expected = {"none", "input", "forget", "output"}
    assert set(results) == expected, f"ablation_study should have exactly the keys {sorted(expected)}; got {sorted(map(str, results))}."
    for key, accs in results.items():
        accs = list(accs)
        assert len(accs) == 1, f"results['{key}'] should hold one accuracy per seed (1 seed); got {len(accs)} values."
        assert 0.0 <= float(accs[0]) <= 1.0, f"results['{key}'] should hold held-out accuracies in [0, 1]; got {accs[0]}."
