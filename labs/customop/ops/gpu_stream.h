// Shared by the ops' .cc files when built with their CUDA half (GOOGLE_CUDA=1):
// runs a launcher from the .cu on the CUDA stream TensorFlow runs this op's
// kernels on, passed as an opaque pointer so that no CUDA header is needed
// here and no TensorFlow header in the .cu. Launching on this stream, not on
// CUDA's default one, keeps the kernel ordered with the ops that produce its
// inputs and consume its output.
#pragma once

#include "tensorflow/core/framework/op_kernel.h"
#include "xla/stream_executor/stream.h"

// launch(stream) returns nullptr, or CUDA's reason for a failed launch.
template <typename Launch>
void LaunchOnGpu(tensorflow::OpKernelContext* context, Launch launch) {
  void* stream = context->op_device_context()->stream()->platform_specific_handle().stream;
  // A null stream would be CUDA's default stream, unordered with TensorFlow's.
  OP_REQUIRES(context, stream != nullptr,
              tensorflow::errors::Internal("TensorFlow gave the op no CUDA stream"));
  const char* error = launch(stream);
  OP_REQUIRES(context, error == nullptr, tensorflow::errors::Internal("CUDA kernel launch failed: ", error));
}
