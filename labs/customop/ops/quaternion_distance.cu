// The CUDA kernel of QuaternionDistance (quaternion_distance.cc): one thread an
// angle, 2 acos min(|<q1, q2>|, 1), the same formula as the CPU kernel.
#include "launch.cuh"

template <typename T>
__global__ void QuaternionDistanceKernel(const T* q1, const T* q2, T* angle, int64_t n) {
  const int64_t stride = int64_t{blockDim.x} * gridDim.x;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += stride) {
    const T* a = q1 + 4 * i;
    const T* b = q2 + 4 * i;
    const T dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
    angle[i] = T(2) * acos(min(abs(dot), T(1)));
  }
}

template <typename T>
const char* QuaternionDistanceGpu(void* stream, const T* q1, const T* q2, T* angle, int64_t n) {
  if (n == 0) return nullptr;  // a grid of zero blocks is itself a launch error
  QuaternionDistanceKernel<T><<<Blocks(n), kThreads, 0, AsStream(stream)>>>(q1, q2, angle, n);
  return LaunchError();
}

template const char* QuaternionDistanceGpu<float>(void*, const float*, const float*, float*, int64_t);
template const char* QuaternionDistanceGpu<double>(void*, const double*, const double*, double*, int64_t);
