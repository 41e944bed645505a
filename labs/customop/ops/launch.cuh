// Shared by the ops' CUDA halves (*.cu, compiled by nvcc): a grid that covers
// n elements with grid-stride loops, and the launch's error as text.
// The .cu files include no TensorFlow header: nvcc compiles them alone, and
// the op's .cc (compiled as C++ with GOOGLE_CUDA=1) hands them TensorFlow's
// stream as an opaque pointer.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

constexpr int kThreads = 256;

// Enough blocks for one element a thread, capped: the kernels loop over the rest.
inline int Blocks(int64_t n) {
  return static_cast<int>(std::min<int64_t>((n + kThreads - 1) / kThreads, 4096));
}

// nullptr when the last launch went well, else CUDA's reason (an old driver, a
// GPU architecture the library was not compiled for, ...).
inline const char* LaunchError() {
  const cudaError_t error = cudaGetLastError();
  return error == cudaSuccess ? nullptr : cudaGetErrorString(error);
}

inline cudaStream_t AsStream(void* stream) { return static_cast<cudaStream_t>(stream); }
