// ZeroOut, from TensorFlow's "Create an op" guide: keep the first element, zero the rest.
// Registered for int32, float and double; its gradient is registered in Python
// (labs/customop/gradients.py), and only for the lab's "zero-out-grad" variant.
// Built with GOOGLE_CUDA=1 beside zero_out.cu, it has a GPU kernel too, as in
// the guide's "GPU kernels" section.
#include "tensorflow/core/framework/common_shape_fns.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#if GOOGLE_CUDA
#include "gpu_stream.h"
#endif

using namespace tensorflow;  // NOLINT(build/namespaces): as in the guide

REGISTER_OP("ZeroOut")
    .Attr("T: {int32, float, double}")
    .Input("to_zero: T")
    .Output("zeroed: T")
    .SetShapeFn(shape_inference::UnchangedShape);

// output = input's first element, then zeros, on Device.
template <typename Device, typename T>
struct ZeroOutFunctor;

template <typename T>
struct ZeroOutFunctor<Eigen::ThreadPoolDevice, T> {
  void operator()(OpKernelContext*, const T* input, T* output, int64_t n) const {
    for (int64_t i = 1; i < n; i++) output[i] = T(0);
    if (n > 0) output[0] = input[0];
  }
};

#if GOOGLE_CUDA
template <typename T>  // in zero_out.cu
const char* ZeroOutGpu(void* stream, const T* input, T* output, int64_t n);

template <typename T>
struct ZeroOutFunctor<Eigen::GpuDevice, T> {
  void operator()(OpKernelContext* context, const T* input, T* output, int64_t n) const {
    LaunchOnGpu(context, [&](void* stream) { return ZeroOutGpu<T>(stream, input, output, n); });
  }
};
#endif

template <typename Device, typename T>
class ZeroOutOp : public OpKernel {
 public:
  explicit ZeroOutOp(OpKernelConstruction* context) : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    const Tensor& input_tensor = context->input(0);
    Tensor* output_tensor = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, input_tensor.shape(), &output_tensor));
    ZeroOutFunctor<Device, T>()(context, input_tensor.flat<T>().data(), output_tensor->flat<T>().data(),
                                input_tensor.NumElements());
  }
};

#define REGISTER_ZERO_OUT(DEVICE_TYPE, EigenDevice, T)                                \
  REGISTER_KERNEL_BUILDER(Name("ZeroOut").Device(DEVICE_TYPE).TypeConstraint<T>("T"), \
                          ZeroOutOp<EigenDevice, T>)
REGISTER_ZERO_OUT(DEVICE_CPU, Eigen::ThreadPoolDevice, int32);
REGISTER_ZERO_OUT(DEVICE_CPU, Eigen::ThreadPoolDevice, float);
REGISTER_ZERO_OUT(DEVICE_CPU, Eigen::ThreadPoolDevice, double);
#if GOOGLE_CUDA
REGISTER_ZERO_OUT(DEVICE_GPU, Eigen::GpuDevice, int32);
REGISTER_ZERO_OUT(DEVICE_GPU, Eigen::GpuDevice, float);
REGISTER_ZERO_OUT(DEVICE_GPU, Eigen::GpuDevice, double);
#endif
