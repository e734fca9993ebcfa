"""The provided data module of the backprop assignment: shapes, dtypes, determinism, windows."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

DATA_FILE = Path(__file__).resolve().parents[3] / "assignments" / "backprop" / "data.py"


def load_data_module():
    """Load ``data.py`` under a private name (the flat name ``data`` is too common to claim)."""
    spec = importlib.util.spec_from_file_location("backprop_provided_data", DATA_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


data = load_data_module()


def assert_array(actual, shape, dtype):
    assert type(actual) is np.ndarray
    assert actual.dtype == dtype, f"expected {np.dtype(dtype)}, got {actual.dtype}"
    assert actual.shape == tuple(shape), f"expected {tuple(shape)}, got {actual.shape}"


def assert_same_arrays(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


# ----------------------------------------------------------------------------------------------
# 2-D point sets
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_per_class, n_classes", [(100, 2), (7, 3)])
def test_spirals_shapes_and_balance(n_per_class, n_classes):
    X, y = data.make_spirals(n_per_class=n_per_class, n_classes=n_classes)
    assert_array(X, (n_per_class * n_classes, 2), np.float64)
    assert_array(y, (n_per_class * n_classes,), np.int64)
    np.testing.assert_array_equal(np.bincount(y), [n_per_class] * n_classes)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius.max() <= 1.0 + 1e-12 and radius.min() > 0


def test_spirals_are_deterministic_per_seed():
    assert_same_arrays(data.make_spirals(seed=3), data.make_spirals(seed=3))
    assert not np.array_equal(data.make_spirals(seed=3)[0], data.make_spirals(seed=4)[0])


def test_spiral_arms_are_rotated_copies_without_noise():
    X, y = data.make_spirals(n_per_class=50, n_classes=2, noise=0.0)
    np.testing.assert_allclose(X[y == 1], -X[y == 0], atol=1e-12)


def test_xor_shapes_labels_and_determinism():
    X, y = data.make_xor(n=202, noise=0.3, seed=5)
    assert_array(X, (202, 2), np.float64)
    assert_array(y, (202,), np.int64)
    assert set(np.unique(y)) == {0, 1}
    assert abs(int(np.sum(y)) - 101) <= 1
    opposite_signs = (X[:, 0] * X[:, 1] < 0).astype(np.int64)
    assert np.mean(opposite_signs == y) > 0.95
    assert_same_arrays(data.make_xor(n=202, noise=0.3, seed=5), (X, y))
    assert not np.array_equal(data.make_xor(n=202, noise=0.3, seed=6)[0], X)


def test_xor_without_noise_lies_on_the_corners():
    X, y = data.make_xor(n=8, noise=0.0)
    assert set(map(tuple, X)) == {(1.0, 1.0), (-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0)}
    np.testing.assert_array_equal(y, (X[:, 0] != X[:, 1]).astype(np.int64))


# ----------------------------------------------------------------------------------------------
# The corpus and its windows
# ----------------------------------------------------------------------------------------------


def test_sentences_are_deterministic_lower_case_and_mix_locations():
    sentences = data.make_sentences(n_sentences=300, seed=2)
    assert sentences == data.make_sentences(n_sentences=300, seed=2)
    assert sentences != data.make_sentences(n_sentences=300, seed=3)
    assert len(sentences) == 300
    words = [word for sentence in sentences for word in sentence]
    assert all(sentences) and all(word.islower() and word.isalpha() for word in words)
    with_location = [any(word in data.LOCATIONS for word in sentence) for sentence in sentences]
    assert 0.4 < np.mean(with_location) < 0.9
    assert any(len(set(sentence)) < len(sentence) for sentence in sentences), "some sentence repeats a word"


def test_vocabulary_has_padding_at_zero_and_contiguous_ids():
    sentences = [["we", "flew", "to", "paris"], ["paris", "is", "lovely"]]
    vocabulary = data.build_vocabulary(sentences)
    assert vocabulary[data.PAD] == 0
    assert sorted(vocabulary.values()) == list(range(len(vocabulary)))
    assert set(vocabulary) == {data.PAD, "we", "flew", "to", "paris", "is", "lovely"}


def test_windows_pad_sentence_edges_and_label_locations():
    sentences = [["we", "flew", "to", "paris"], ["rome"], ["tom", "lives", "in", "spain", "now"]]
    vocabulary = data.build_vocabulary(sentences)
    windows, labels = data.make_windows(sentences, vocabulary)
    assert_array(windows, (10, 5), np.int64)
    assert_array(labels, (10,), np.int64)
    ids = [[vocabulary[word] for word in sentence] for sentence in sentences]
    we, flew, to, paris = ids[0]
    np.testing.assert_array_equal(windows[0], [0, 0, we, flew, to])
    np.testing.assert_array_equal(windows[1], [0, we, flew, to, paris])
    np.testing.assert_array_equal(windows[3], [flew, to, paris, 0, 0])
    np.testing.assert_array_equal(windows[4], [0, 0, ids[1][0], 0, 0])
    np.testing.assert_array_equal(windows[5:, 2], ids[2])
    np.testing.assert_array_equal(labels, [0, 0, 0, 1, 1, 0, 0, 0, 1, 0])


def test_windows_of_another_half_width():
    sentences = [["we", "flew", "to", "paris"]]
    vocabulary = data.build_vocabulary(sentences)
    windows, labels = data.make_windows(sentences, vocabulary, half_width=1)
    assert_array(windows, (4, 3), np.int64)
    np.testing.assert_array_equal(windows[:, 1], [vocabulary[word] for word in sentences[0]])
    np.testing.assert_array_equal(windows[[0, 3], [0, 2]], [0, 0])


def test_windows_refuse_words_outside_the_vocabulary():
    with pytest.raises(KeyError):
        data.make_windows([["we", "flew", "to", "atlantis"]], data.build_vocabulary([["we", "flew", "to"]]))


def test_split_is_disjoint_complete_and_deterministic():
    sentences = data.make_sentences(n_sentences=101, seed=0)
    tagged = [[str(index)] + sentence for index, sentence in enumerate(sentences)]
    train, test = data.split_sentences(tagged, test_fraction=0.3, seed=4)
    assert len(test) == round(0.3 * 101)
    train_ids = [int(sentence[0]) for sentence in train]
    test_ids = [int(sentence[0]) for sentence in test]
    assert not set(train_ids) & set(test_ids)
    assert sorted(train_ids + test_ids) == list(range(101))
    assert train_ids == sorted(train_ids) and test_ids == sorted(test_ids)
    assert (train, test) == data.split_sentences(tagged, test_fraction=0.3, seed=4)
    assert test != data.split_sentences(tagged, test_fraction=0.3, seed=5)[1]


def test_location_task_shapes_labels_and_shared_locations():
    task = data.make_location_task(n_sentences=400, test_fraction=0.25, seed=0)
    vocabulary_size = len(task.vocabulary)
    for windows, labels in ((task.train_windows, task.train_labels), (task.test_windows, task.test_labels)):
        assert_array(windows, (len(labels), 5), np.int64)
        assert_array(labels, (len(windows),), np.int64)
        assert windows.min() >= 0 and windows.max() < vocabulary_size
        assert set(np.unique(labels)) == {0, 1}
    assert len(task.test_windows) > 300 and len(task.train_windows) > 3 * len(task.test_windows) * 0.8
    id_to_word = {index: word for word, index in task.vocabulary.items()}
    train_locations = {id_to_word[i] for i in task.train_windows[task.train_labels == 1, 2]}
    test_locations = {id_to_word[i] for i in task.test_windows[task.test_labels == 1, 2]}
    assert train_locations | test_locations <= data.LOCATIONS
    assert len(train_locations & test_locations) >= 10
    centre_is_location = np.array([id_to_word[i] in data.LOCATIONS for i in task.test_windows[:, 2]])
    np.testing.assert_array_equal(task.test_labels, centre_is_location.astype(np.int64))


def test_location_task_is_deterministic_per_seed():
    first, second = data.make_location_task(seed=1), data.make_location_task(seed=1)
    assert first.vocabulary == second.vocabulary
    assert_same_arrays(first[1:], second[1:])
    assert not np.array_equal(first.test_windows, data.make_location_task(seed=2).test_windows)


# ----------------------------------------------------------------------------------------------
# Initialisers
# ----------------------------------------------------------------------------------------------


def test_mlp_initialiser_shapes_scale_and_determinism():
    params = data.init_mlp_params([400, 300, 3], seed=1)
    assert list(params) == ["W1", "b1", "W2", "b2"]
    assert_array(params["W1"], (300, 400), np.float64)
    assert_array(params["b1"], (300,), np.float64)
    assert_array(params["W2"], (3, 300), np.float64)
    assert_array(params["b2"], (3,), np.float64)
    assert not params["b1"].any() and not params["b2"].any()
    assert params["W1"].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    again = data.init_mlp_params([400, 300, 3], seed=1)
    assert_same_arrays(list(params.values()), list(again.values()))
    assert not np.array_equal(params["W1"], data.init_mlp_params([400, 300, 3], seed=2)["W1"])


def test_mlp_initialiser_needs_two_sizes():
    assert list(data.init_mlp_params([2, 2])) == ["W1", "b1"]
    with pytest.raises(ValueError):
        data.init_mlp_params([2])


def test_window_initialiser_shapes_and_determinism():
    params = data.init_window_params(vocab_size=30, dim=4, window=5, hidden=7, seed=3)
    assert list(params) == ["E", "W", "b", "u"]
    assert_array(params["E"], (30, 4), np.float64)
    assert_array(params["W"], (7, 20), np.float64)
    assert_array(params["b"], (7,), np.float64)
    assert_array(params["u"], (7,), np.float64)
    again = data.init_window_params(vocab_size=30, dim=4, window=5, hidden=7, seed=3)
    assert_same_arrays(list(params.values()), list(again.values()))
