"""The glasses lab's two networks: their shapes, sizes and FLOPs by formula."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from labs.glasses import models
from labs.glasses.local import LocallyConnected2D, local_flops, local_params


def conv_params(k: int, c_in: int, c_out: int) -> int:
    return k * k * c_in * c_out + c_out


def test_tutorial_is_the_cifar10_tutorial_at_64x64() -> None:
    model = models.build("tutorial", filters=64)
    names = [layer.name for layer in model.layers]
    assert names[1:] == [
        "conv1",
        "pool1",
        "norm1",
        "conv2",
        "norm2",
        "pool2",
        "flatten",
        "local3",
        "local4",
        "logits",
    ]
    assert model.get_layer("pool2").output.shape[1:] == (16, 16, 64)  # two stride-2 pools: 64 → 16
    expected = (
        conv_params(5, 3, 64)
        + conv_params(5, 64, 64)
        + (16 * 16 * 64 * 384 + 384)  # "local3" is dense
        + (384 * 192 + 192)
        + (192 * 2 + 2)
    )
    assert model.count_params() == expected
    # The tutorial's 0.004 * l2_loss(w) = 0.004 * Σw²/2, which is Keras's L2(0.002).
    assert model.get_layer("local3").kernel_regularizer.l2 == pytest.approx(0.002)


def test_local_has_unshared_3x3_top_layers() -> None:
    model = models.build("local", filters=64)
    local3, local4 = model.get_layer("local3"), model.get_layer("local4")
    assert isinstance(local3, LocallyConnected2D) and isinstance(local4, LocallyConnected2D)
    assert local3.output.shape[1:] == (14, 14, 32) and local4.output.shape[1:] == (12, 12, 32)
    expected = (
        conv_params(5, 3, 64)
        + conv_params(5, 64, 64)
        + local_params(16, 16, 64, 3, 32)
        + local_params(14, 14, 32, 3, 32)
        + (12 * 12 * 32 * 2 + 2)
    )
    assert model.count_params() == expected


def test_forward_flops_add_up_the_layers() -> None:
    trunk = 2 * (64 * 64 * 25 * 3 * 64) + 2 * (32 * 32 * 25 * 64 * 64)  # conv1 at 64², conv2 at 32²
    tutorial = models.forward_flops(models.build("tutorial"))
    assert tutorial == trunk + 2 * (16 * 16 * 64 * 384 + 384 * 192 + 192 * 2)
    local = models.forward_flops(models.build("local"))
    tops = local_flops(16, 16, 64, 3, 32) + local_flops(14, 14, 32, 3, 32)
    assert local == trunk + tops + 2 * (12 * 12 * 32 * 2)


def test_both_models_round_trip_through_a_keras_file(tmp_path) -> None:  # noqa: ANN001
    images = np.random.default_rng(0).random((2, 64, 64, 3)).astype(np.float32)
    for kind in ("tutorial", "local"):
        model = models.build(kind, filters=8)
        path = tmp_path / f"{kind}.keras"
        model.save(path)
        again = keras.models.load_model(path)
        np.testing.assert_allclose(again(images).numpy(), model(images).numpy(), rtol=1e-6)
