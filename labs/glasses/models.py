"""The two networks: TensorFlow's CIFAR-10 tutorial model at 64x64, and its
exercise, with cuda-convnet's true locally-connected top layers.

The tutorial's ``local3``/``local4`` are plain dense layers (384 and 192
units); cuda-convnet's ``layers-conv-local`` puts two 3x3 convolutions with
unshared weights there instead. Both start with the same convolution trunk.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from labs.glasses.local import LocallyConnected2D, local_flops

CLASSES = 2  # 0: no glasses, 1: glasses
# The tutorial adds 0.004 * tf.nn.l2_loss(w) = 0.004 * Σw²/2 for its dense layers; Keras's L2(c)
# adds c * Σw², so the same penalty is L2(0.002).
WEIGHT_DECAY = 0.004 / 2


@keras.saving.register_keras_serializable(package="meetup_lab")
class LocalResponseNormalization(keras.layers.Layer):  # type: ignore[misc]  # keras is untyped
    """The tutorial's ``tf.nn.lrn`` (Keras 3 has no such layer), with its constants."""

    def __init__(self, depth_radius: int = 4, bias: float = 1.0, alpha: float = 0.001 / 9.0,
                 beta: float = 0.75, **kwargs: Any) -> None:  # fmt: skip
        super().__init__(**kwargs)
        self.depth_radius, self.bias, self.alpha, self.beta = depth_radius, bias, alpha, beta

    def call(self, inputs: Any) -> Any:
        return tf.nn.local_response_normalization(inputs, self.depth_radius, self.bias, self.alpha, self.beta)

    def get_config(self) -> dict[str, Any]:
        extra = {"depth_radius": self.depth_radius, "bias": self.bias, "alpha": self.alpha, "beta": self.beta}
        return {**super().get_config(), **extra}


def _trunk(filters: int) -> list[keras.layers.Layer]:
    """conv 5x5 → max-pool 3x3/2 → LRN → conv 5x5 → LRN → max-pool 3x3/2: 64x64 becomes 16x16."""
    return [
        keras.layers.Rescaling(2.0, offset=-1.0, name="scale"),  # pixels in [0, 1] → [-1, 1]
        keras.layers.Conv2D(filters, 5, padding="same", activation="relu", name="conv1"),
        keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool1"),
        LocalResponseNormalization(name="norm1"),
        keras.layers.Conv2D(filters, 5, padding="same", activation="relu", name="conv2"),
        LocalResponseNormalization(name="norm2"),
        keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool2"),
    ]


def build(kind: str, filters: int = 64) -> keras.Model:
    """``tutorial`` or ``local``, for 64x64 RGB in [0, 1]; outputs two logits."""
    decay = keras.regularizers.L2(WEIGHT_DECAY)
    if kind == "tutorial":
        head = [
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(384, activation="relu", kernel_regularizer=decay, name="local3"),
            keras.layers.Dense(192, activation="relu", kernel_regularizer=decay, name="local4"),
        ]
    elif kind == "local":
        # He initialisation from each position's true fan-in (3x3xchannels): Keras's Glorot would
        # count every position as fan-in too and start these weights ten times too small.
        def he(channels: int) -> keras.initializers.Initializer:
            return keras.initializers.RandomNormal(stddev=(2 / (9 * channels)) ** 0.5)

        head = [
            LocallyConnected2D(
                filters // 2, 3, activation="relu", kernel_initializer=he(filters), name="local3"
            ),
            LocallyConnected2D(
                filters // 2, 3, activation="relu", kernel_initializer=he(filters // 2), name="local4"
            ),
            keras.layers.Flatten(name="flatten"),
        ]
    else:
        raise ValueError(f"unknown model {kind!r}: use tutorial or local")
    layers = [keras.Input((64, 64, 3)), *_trunk(filters), *head, keras.layers.Dense(CLASSES, name="logits")]
    return keras.Sequential(layers, name=kind)


def forward_flops(model: keras.Model) -> int:
    """Multiply-adds (x2) of one image's forward pass in the convolutions and dense layers;
    pooling, normalisation and activations are a few percent and left out."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, rows, cols, out = layer.output.shape
            k_rows, k_cols, channels, _ = layer.kernel.shape
            total += 2 * rows * cols * k_rows * k_cols * channels * out
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
        elif isinstance(layer, LocallyConnected2D):
            _, rows, cols, channels = layer.input.shape
            total += local_flops(rows, cols, channels, layer.kernel_size[0], layer.filters)
    return int(total)


def compiled(kind: str, filters: int, learning_rate: float) -> keras.Model:
    """``build``, compiled for training: the tutorial's gradient descent, with momentum.

    Adam with this L2 penalty was measured to drive the 6M dense weights to zero
    within an epoch (accuracy 0.5); the penalty's pull on SGD is proportional to w.
    """
    model = build(kind, filters)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        # Keras's loss holds the weight decay too: the cross-entropy alone, to report them apart.
        metrics=["accuracy", keras.metrics.SparseCategoricalCrossentropy(from_logits=True, name="xent")],
    )
    return model


def penalty(model: keras.Model) -> float:
    """The weight decay the loss holds now: the regularisers' sum (the tutorial's dense layers)."""
    return float(sum(keras.ops.convert_to_numpy(term) for term in model.losses))
