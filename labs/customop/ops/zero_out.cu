// The CUDA kernel of ZeroOut (zero_out.cc): keep the first element, zero the rest.
#include "launch.cuh"

template <typename T>
__global__ void ZeroOutKernel(const T* input, T* output, int64_t n) {
  const int64_t stride = int64_t{blockDim.x} * gridDim.x;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += stride) {
    output[i] = i == 0 ? input[0] : T(0);
  }
}

template <typename T>
const char* ZeroOutGpu(void* stream, const T* input, T* output, int64_t n) {
  if (n == 0) return nullptr;
  ZeroOutKernel<T><<<Blocks(n), kThreads, 0, AsStream(stream)>>>(input, output, n);
  return LaunchError();
}

template const char* ZeroOutGpu<int32_t>(void*, const int32_t*, int32_t*, int64_t);
template const char* ZeroOutGpu<float>(void*, const float*, float*, int64_t);
template const char* ZeroOutGpu<double>(void*, const double*, double*, int64_t);
