// Shared by the ops' .cc files when built with their CUDA half (GOOGLE_CUDA=1):
// the CUDA stream TensorFlow runs this op's kernels on, as an opaque pointer,
// so that no CUDA header is needed here and no TensorFlow header in the .cu.
// Launching on this stream, not CUDA's default one, keeps the kernel ordered
// with the ops that produce its inputs and consume its output.
#pragma once

#include "tensorflow/core/framework/op_kernel.h"
#include "xla/stream_executor/stream.h"

inline void* GpuStream(tensorflow::OpKernelContext* context) {
  return context->op_device_context()->stream()->platform_specific_handle().stream;
}

// A launcher's error (nullptr when none) as the op's status.
#define OP_REQUIRES_LAUNCHED(context, error) \
  OP_REQUIRES(context, (error) == nullptr, tensorflow::errors::Internal("CUDA kernel launch failed: ", error))
