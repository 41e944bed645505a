// ZeroOut, from TensorFlow's "Create an op" guide: keep the first element, zero the rest.
// Registered for int32, float and double; its gradient is registered in Python
// (labs/customop/gradients.py), and only for the lab's "zero-out-grad" variant.
#include "tensorflow/core/framework/common_shape_fns.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"

using namespace tensorflow;  // NOLINT(build/namespaces): as in the guide

REGISTER_OP("ZeroOut")
    .Attr("T: {int32, float, double}")
    .Input("to_zero: T")
    .Output("zeroed: T")
    .SetShapeFn(shape_inference::UnchangedShape);

template <typename T>
class ZeroOutOp : public OpKernel {
 public:
  explicit ZeroOutOp(OpKernelConstruction* context) : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    const Tensor& input_tensor = context->input(0);
    auto input = input_tensor.flat<T>();
    Tensor* output_tensor = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, input_tensor.shape(), &output_tensor));
    auto output = output_tensor->flat<T>();
    const int64_t n = input.size();
    for (int64_t i = 1; i < n; i++) output(i) = T(0);
    if (n > 0) output(0) = input(0);
  }
};

#define REGISTER_ZERO_OUT(T) \
  REGISTER_KERNEL_BUILDER(Name("ZeroOut").Device(DEVICE_CPU).TypeConstraint<T>("T"), ZeroOutOp<T>)
REGISTER_ZERO_OUT(int32);
REGISTER_ZERO_OUT(float);
REGISTER_ZERO_OUT(double);
