// QuaternionDistance: the geodesic angle between two rotations given as unit
// quaternions, 2 arccos |<q1, q2>|. The absolute value makes q and -q (the same
// rotation) 0 apart. q1, q2: [n, 4] -> angle: [n], in radians, in [0, pi].
// The gradient is registered in Python (labs/customop/gradients.py).
#include <cmath>

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"

using namespace tensorflow;  // NOLINT(build/namespaces)
using shape_inference::InferenceContext;
using shape_inference::ShapeHandle;

REGISTER_OP("QuaternionDistance")
    .Attr("T: {float, double}")
    .Input("q1: T")
    .Input("q2: T")
    .Output("angle: T")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle q1, q2;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 2, &q1));
      TF_RETURN_IF_ERROR(c->Merge(q1, c->input(1), &q2));
      c->set_output(0, c->Vector(c->Dim(q1, 0)));
      return absl::OkStatus();
    });

template <typename T>
class QuaternionDistanceOp : public OpKernel {
 public:
  explicit QuaternionDistanceOp(OpKernelConstruction* context) : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    const Tensor& q1 = context->input(0);
    const Tensor& q2 = context->input(1);
    OP_REQUIRES(context, TensorShapeUtils::IsMatrix(q1.shape()) && q1.dim_size(1) == 4,
                errors::InvalidArgument("q1 must be [n, 4], got ", q1.shape().DebugString()));
    OP_REQUIRES(context, q1.shape() == q2.shape(),
                errors::InvalidArgument("q1 and q2 differ in shape: ", q1.shape().DebugString(), " vs ",
                                        q2.shape().DebugString()));
    const int64_t n = q1.dim_size(0);
    Tensor* angle = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, TensorShape({n}), &angle));
    auto a = q1.matrix<T>(), b = q2.matrix<T>();
    auto out = angle->vec<T>();
    for (int64_t i = 0; i < n; i++) {
      T dot = a(i, 0) * b(i, 0) + a(i, 1) * b(i, 1) + a(i, 2) * b(i, 2) + a(i, 3) * b(i, 3);
      // Rounding can push |dot| of unit quaternions just past 1, where acos is NaN.
      out(i) = T(2) * std::acos(std::min(std::abs(dot), T(1)));
    }
  }
};

#define REGISTER_QUATERNION_DISTANCE(T)                                                          \
  REGISTER_KERNEL_BUILDER(Name("QuaternionDistance").Device(DEVICE_CPU).TypeConstraint<T>("T"), \
                          QuaternionDistanceOp<T>)
REGISTER_QUATERNION_DISTANCE(float);
REGISTER_QUATERNION_DISTANCE(double);
