"""A 2-D convolution with unshared weights: cuda-convnet's "local" layer, for Keras 3.

TensorFlow's CIFAR-10 tutorial named its top layers ``local3``/``local4`` after cuda-convnet's, but made
them plain dense layers; cuda-convnet's local layers learn a separate kernel and bias at every output
position. Keras 3 dropped Keras 2's ``LocallyConnected2D``, so it is rebuilt here with the weight layout of
``tf_keras``'s ``implementation=1``, letting weights copy across unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf


def _out_length(length: int, kernel: int, stride: int) -> int:
    """How many 'valid' windows of ``kernel`` fit in ``length``, ``stride`` apart."""
    if length < kernel:
        raise ValueError(f"a window of {kernel} does not fit in an input of {length}")
    return (length - kernel) // stride + 1


def local_params(
    rows: int, cols: int, channels: int, kernel: int, filters: int, stride: int = 1, use_bias: bool = True
) -> int:
    """Weights of a square-kernel LocallyConnected2D on a ``rows`` x ``cols`` x ``channels`` input."""
    positions = _out_length(rows, kernel, stride) * _out_length(cols, kernel, stride)
    bias = positions * filters if use_bias else 0
    return positions * kernel * kernel * channels * filters + bias


def local_flops(rows: int, cols: int, channels: int, kernel: int, filters: int, stride: int = 1) -> int:
    """Forward FLOPs of one image (a multiply-add counts 2); the bias and activation are left out."""
    positions = _out_length(rows, kernel, stride) * _out_length(cols, kernel, stride)
    return 2 * positions * kernel * kernel * channels * filters


def _pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    # A saved config brings pairs back as JSON lists, so any sequence of two is taken.
    if isinstance(value, int):
        return value, value
    pair = tuple(int(v) for v in value)
    if len(pair) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return pair[0], pair[1]


@keras.saving.register_keras_serializable(package="meetup_lab")
class LocallyConnected2D(keras.layers.Layer):  # type: ignore[misc]  # keras is untyped, so Layer is Any
    """Like ``Conv2D``, but each output position has its own kernel and bias.

    Channels-last input ``(batch, rows, cols, channels)``; rows, cols and channels must be known when
    the layer is built, since the weights depend on them. Only ``padding="valid"`` is supported.

    Weights, as ``tf_keras.layers.LocallyConnected2D(implementation=1)`` lays them out:
    ``kernel`` is ``(out_rows * out_cols, kh * kw * channels, filters)``, positions in row-major order
    and each patch flattened as (kh, kw, channels); ``bias`` is ``(out_rows, out_cols, filters)``.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if padding.lower() != "valid":
            raise ValueError(f"LocallyConnected2D supports only padding='valid', got {padding!r}")
        self.filters = filters
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        self.padding = "valid"
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def _out_rows_cols(self, rows: int, cols: int) -> tuple[int, int]:
        return (
            _out_length(rows, self.kernel_size[0], self.strides[0]),
            _out_length(cols, self.kernel_size[1], self.strides[1]),
        )

    def build(self, input_shape: Sequence[int | None]) -> None:
        _, rows, cols, channels = input_shape
        if rows is None or cols is None or channels is None:
            raise ValueError(f"LocallyConnected2D needs a fixed rows, cols and channels, got {input_shape}")
        out_rows, out_cols = self._out_rows_cols(rows, cols)
        kh, kw = self.kernel_size
        self.kernel = self.add_weight(
            name="kernel",
            shape=(out_rows * out_cols, kh * kw * channels, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(out_rows, out_cols, self.filters), initializer=self.bias_initializer
            )
        # The weights fit this one input size; any other should fail here, not deep in a reshape.
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={1: rows, 2: cols, 3: channels})

    def call(self, inputs: Any) -> Any:
        _, rows, cols, _ = inputs.shape
        out_rows, out_cols = self._out_rows_cols(rows, cols)
        kh, kw = self.kernel_size
        sh, sw = self.strides
        # extract_patches flattens each window as (kh, kw, channels), the order of the kernel's middle axis.
        patches = tf.image.extract_patches(
            inputs, sizes=[1, kh, kw, 1], strides=[1, sh, sw, 1], rates=[1, 1, 1, 1], padding="VALID"
        )
        patches = tf.reshape(patches, (-1, out_rows * out_cols, patches.shape[-1]))
        # One batched matmul over positions: position p meets only its own kernel[p].
        outputs = tf.einsum("bpf,pfo->bpo", patches, self.kernel)
        outputs = tf.reshape(outputs, (-1, out_rows, out_cols, self.filters))
        if self.bias is not None:
            outputs = outputs + self.bias
        return self.activation(outputs)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        batch, rows, cols, _ = input_shape
        out_rows = None if rows is None else _out_length(rows, self.kernel_size[0], self.strides[0])
        out_cols = None if cols is None else _out_length(cols, self.kernel_size[1], self.strides[1])
        return batch, out_rows, out_cols, self.filters

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
        }
