"""LocallyConnected2D against tf_keras's Keras 2 layer, on real TensorFlow with tiny shapes."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from labs.glasses.local import LocallyConnected2D, local_flops, local_params

# rows, cols, channels, kernel, strides, filters, use_bias, activation
CASES = [
    (7, 9, 2, 3, 1, 4, True, None),
    (9, 8, 3, 5, 2, 2, False, "relu"),
    (8, 11, 2, 5, 1, 3, True, "tanh"),
    (10, 7, 3, 3, 2, 5, True, "relu"),
    (8, 9, 2, (3, 2), (2, 1), 3, True, "sigmoid"),  # unequal kernel and strides: rows and cols not mixed up
]


def inputs(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def built(rows: int, cols: int, channels: int, *args: object, **kwargs: object) -> LocallyConnected2D:
    layer = LocallyConnected2D(*args, **kwargs)
    layer.build((None, rows, cols, channels))
    return layer


@pytest.mark.parametrize(
    ("rows", "cols", "channels", "kernel", "strides", "filters", "use_bias", "act"), CASES
)
def test_matches_tf_keras_implementation_1_with_the_same_weights(
    rows, cols, channels, kernel, strides, filters, use_bias, act
) -> None:
    keras.utils.set_random_seed(1)
    ours = built(rows, cols, channels, filters, kernel, strides=strides, use_bias=use_bias, activation=act)
    if use_bias:  # zeros would hide a misplaced bias
        ours.bias.assign(inputs(tuple(ours.bias.shape), seed=2))
    theirs = tf_keras.layers.LocallyConnected2D(
        filters, kernel, strides=strides, use_bias=use_bias, activation=act, implementation=1
    )
    theirs.build((None, rows, cols, channels))
    assert [tuple(w.shape) for w in theirs.weights] == [tuple(w.shape) for w in ours.weights]
    theirs.set_weights([w.numpy() for w in ours.weights])

    x = inputs((3, rows, cols, channels))
    expected = theirs(x).numpy()
    got = keras.ops.convert_to_numpy(ours(x))
    assert got.shape == expected.shape == ours.compute_output_shape(x.shape)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("rows", "cols", "channels", "kernel", "filters", "stride", "use_bias"),
    [(7, 9, 2, 3, 4, 1, True), (9, 8, 3, 5, 2, 2, False), (16, 16, 64, 3, 32, 1, True)],
)
def test_parameter_count_matches_the_formula_and_tf_keras(
    rows, cols, channels, kernel, filters, stride, use_bias
) -> None:
    ours = built(rows, cols, channels, filters, kernel, strides=stride, use_bias=use_bias)
    theirs = tf_keras.layers.LocallyConnected2D(
        filters, kernel, strides=stride, use_bias=use_bias, implementation=1
    )
    theirs.build((None, rows, cols, channels))
    expected = local_params(rows, cols, channels, kernel, filters, stride, use_bias)
    assert ours.count_params() == theirs.count_params() == expected


def test_the_size_helpers_by_hand() -> None:
    # 16x16x64 → 14x14 positions, each with a 3x3x64 → 32 kernel and 32 biases.
    assert local_params(16, 16, 64, 3, 32) == 196 * (576 * 32 + 32)
    assert local_params(16, 16, 64, 3, 32, use_bias=False) == 196 * 576 * 32
    assert local_params(9, 8, 3, 5, 2, stride=2) == 3 * 2 * (75 * 2 + 2)
    assert local_flops(16, 16, 64, 3, 32) == 2 * 196 * 576 * 32


def test_each_output_position_has_its_own_kernel() -> None:
    keras.utils.set_random_seed(3)
    layer = built(6, 7, 2, 3, 3)  # 4x5 output positions
    x = inputs((2, 6, 7, 2))
    before = keras.ops.convert_to_numpy(layer(x))
    row, col = 2, 3
    kernel = layer.kernel.numpy()
    kernel[row * 5 + col] += 1.0  # positions are row-major
    layer.kernel.assign(kernel)
    changed = keras.ops.convert_to_numpy(layer(x)) != before

    assert changed[:, row, col, :].all()
    changed[:, row, col, :] = False
    assert not changed.any()


def test_runs_inside_a_compiled_tf_function_with_any_batch() -> None:
    keras.utils.set_random_seed(4)
    layer = built(7, 6, 2, 3, 3, strides=2, activation="relu")
    graph = tf.function(layer, input_signature=[tf.TensorSpec((None, 7, 6, 2), tf.float32)])
    for batch in (1, 4):
        x = inputs((batch, 7, 6, 2), seed=batch)
        eager = keras.ops.convert_to_numpy(layer(x))
        np.testing.assert_allclose(graph(x).numpy(), eager, rtol=1e-6, atol=1e-6)


def test_trains_under_model_fit() -> None:
    keras.utils.set_random_seed(5)
    x = inputs((32, 6, 6, 2))
    y = x[:, 1:5, 1:5, :].mean(axis=(1, 2, 3))[:, None]  # a target the centre positions can learn
    local = LocallyConnected2D(4, 3, activation="relu")
    model = keras.Sequential([keras.Input((6, 6, 2)), local, keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    kernel_before = local.kernel.numpy()

    losses = model.fit(x, y, batch_size=32, epochs=8, shuffle=False, verbose=0).history["loss"]

    assert losses[-1] < 0.8 * losses[0]
    assert not np.allclose(local.kernel.numpy(), kernel_before)  # gradients reach the unshared kernel


def test_a_saved_model_loads_back_with_identical_outputs(tmp_path: Path) -> None:
    keras.utils.set_random_seed(6)
    decay = keras.regularizers.L2(1e-3)
    local = LocallyConnected2D(
        3, (3, 2), strides=(2, 1), activation="relu", kernel_regularizer=decay, name="local3"
    )
    model = keras.Sequential([keras.Input((7, 6, 2)), local, keras.layers.Flatten(), keras.layers.Dense(2)])
    local.bias.assign(inputs(tuple(local.bias.shape), seed=7))
    path = tmp_path / "local.keras"
    model.save(path)

    loaded = keras.models.load_model(path)
    x = inputs((3, 7, 6, 2))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    again = loaded.get_layer("local3")
    assert isinstance(again, LocallyConnected2D)
    assert again.kernel_size == (3, 2) and again.strides == (2, 1)
    assert again.get_config() == local.get_config()


def test_only_valid_padding() -> None:
    with pytest.raises(ValueError, match="valid"):
        LocallyConnected2D(2, 3, padding="same")


def test_a_window_larger_than_the_input_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        built(4, 9, 1, 2, 5)
