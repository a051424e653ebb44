OK_FORMAT = False

from otter.test_files import test_case

name = "w11_compare"
points = None


@test_case(points=None, hidden=False)
def test_keys_and_values(compare_cells, RNNCell, recall_overrides):
    if compare_cells is None:
        raise AssertionError("compare_cells is not defined: run its cell first.")
    tiny = {"n_train": 32, "n_test": 16, "epochs": 1, "hidden_size": 4, "batch_size": 16}
    try:
        with recall_overrides(**tiny):
            results = compare_cells([3, 4], {"rnn": RNNCell}, [0, 1])
    except NotImplementedError:
        raise AssertionError("compare_cells still raises NotImplementedError.") from None
    assert isinstance(results, dict), f"compare_cells should return a dict; got {type(results).__name__}."
    expected = {("rnn", 3), ("rnn", 4)}
    assert set(results) == expected, (
        f"compare_cells([3, 4], {{'rnn': RNNCell}}, [0, 1]) should have the keys {sorted(expected)} "
        f"(one per (name, T)); got {sorted(results, key=str)}."
    )
    for key, accs in results.items():
        accs = list(accs)
        assert len(accs) == 2, f"results[{key}] should hold one accuracy per seed (2 seeds); got {len(accs)} values."
        for a in accs:
            a = float(a)
            assert 0.0 <= a <= 1.0, f"results[{key}] should hold held-out accuracies in [0, 1]; got {a}."
