// QuaternionDistance: the geodesic angle between two rotations given as unit
// quaternions, 2 arccos |<q1, q2>|. The absolute value makes q and -q (the same
// rotation) 0 apart. q1, q2: [n, 4] -> angle: [n], in radians, in [0, pi].
// The gradient is registered in Python (labs/customop/gradients.py). Built with
// GOOGLE_CUDA=1 beside quaternion_distance.cu, it has a GPU kernel too.
#include <algorithm>
#include <cmath>

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
#if GOOGLE_CUDA
#include "gpu_stream.h"
#endif

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

// angle[i] for i < n, on Device: the one part of the op that differs by device.
template <typename Device, typename T>
struct Angles;

template <typename T>
struct Angles<Eigen::ThreadPoolDevice, T> {
  void operator()(OpKernelContext*, const T* q1, const T* q2, T* angle, int64_t n) const {
    for (int64_t i = 0; i < n; i++) {
      const T* a = q1 + 4 * i;
      const T* b = q2 + 4 * i;
      const T dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
      // Rounding can push |dot| of unit quaternions just past 1, where acos is NaN.
      angle[i] = T(2) * std::acos(std::min(std::abs(dot), T(1)));
    }
  }
};

#if GOOGLE_CUDA
template <typename T>  // in quaternion_distance.cu
const char* QuaternionDistanceGpu(void* stream, const T* q1, const T* q2, T* angle, int64_t n);

template <typename T>
struct Angles<Eigen::GpuDevice, T> {
  void operator()(OpKernelContext* context, const T* q1, const T* q2, T* angle, int64_t n) const {
    LaunchOnGpu(context, [&](void* stream) { return QuaternionDistanceGpu<T>(stream, q1, q2, angle, n); });
  }
};
#endif

template <typename Device, typename T>
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
    Angles<Device, T>()(context, q1.flat<T>().data(), q2.flat<T>().data(), angle->flat<T>().data(), n);
  }
};

#define REGISTER_QUATERNION_DISTANCE(DEVICE_TYPE, EigenDevice, T)                                \
  REGISTER_KERNEL_BUILDER(Name("QuaternionDistance").Device(DEVICE_TYPE).TypeConstraint<T>("T"), \
                          QuaternionDistanceOp<EigenDevice, T>)
REGISTER_QUATERNION_DISTANCE(DEVICE_CPU, Eigen::ThreadPoolDevice, float);
REGISTER_QUATERNION_DISTANCE(DEVICE_CPU, Eigen::ThreadPoolDevice, double);
#if GOOGLE_CUDA
REGISTER_QUATERNION_DISTANCE(DEVICE_GPU, Eigen::GpuDevice, float);
REGISTER_QUATERNION_DISTANCE(DEVICE_GPU, Eigen::GpuDevice, double);
#endif
