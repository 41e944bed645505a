// The CUDA kernels of MatMulBias and MatMulBiasBroken (matmul_bias.cc):
// y[i, j] = sum_l x[i, l] w[l, j] + b[j], one thread an output element. Plain
// and untiled: the lab checks that a GPU kernel agrees with the CPU one, it
// does not race cuBLAS.
#include "launch.cuh"

template <typename T>
__global__ void MatMulBiasKernel(const T* x, const T* w, const T* b, T* y, int64_t n, int64_t k,
                                 int64_t m) {
  const int64_t stride = int64_t{blockDim.x} * gridDim.x;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < n * m; e += stride) {
    const int64_t i = e / m, j = e % m;
    T sum = b[j];
    for (int64_t l = 0; l < k; l++) sum += x[i * k + l] * w[l * m + j];
    y[e] = sum;
  }
}

template <typename T>
const char* MatMulBiasGpu(void* stream, const T* x, const T* w, const T* b, T* y, int64_t n, int64_t k,
                          int64_t m) {
  if (n * m == 0) return nullptr;
  MatMulBiasKernel<T><<<Blocks(n * m), kThreads, 0, AsStream(stream)>>>(x, w, b, y, n, k, m);
  return LaunchError();
}

// The broken op's last step: its output set to zero, as the CPU kernel's is.
const char* ZeroGpu(void* stream, void* data, int64_t bytes) {
  if (bytes == 0) return nullptr;  // an empty tensor's data is null
  const cudaError_t error = cudaMemsetAsync(data, 0, bytes, AsStream(stream));
  return error == cudaSuccess ? nullptr : cudaGetErrorString(error);
}

template const char* MatMulBiasGpu<float>(void*, const float*, const float*, const float*, float*, int64_t,
                                          int64_t, int64_t);
template const char* MatMulBiasGpu<double>(void*, const double*, const double*, const double*, double*,
                                           int64_t, int64_t, int64_t);
