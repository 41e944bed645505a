// MatMulBias: y = x w + b, the dense layer of a softmax classifier, in one op.
// x: [n, k], w: [k, m], b: [m] -> y: [n, m]. The forward pass is an Eigen
// contraction on TensorFlow's CPU thread pool; the gradient is registered in
// Python (labs/customop/gradients.py).
//
// MatMulBiasBroken has the same signature and a deliberate bug, the kind the
// checks exist for: it computes into a temporary and never copies it to the
// output, which stays zero. The forward check catches it, and a classifier on
// top of it scores exactly the share of its most common class.
#define EIGEN_USE_THREADS

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "unsupported/Eigen/CXX11/Tensor"

using namespace tensorflow;  // NOLINT(build/namespaces)
using shape_inference::InferenceContext;
using shape_inference::ShapeHandle;

static absl::Status MatMulBiasShape(InferenceContext* c) {
  ShapeHandle x, w, b;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 2, &x));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 2, &w));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(2), 1, &b));
  c->set_output(0, c->Matrix(c->Dim(x, 0), c->Dim(w, 1)));
  return absl::OkStatus();
}

REGISTER_OP("MatMulBias")
    .Attr("T: {float, double}")
    .Input("x: T")
    .Input("w: T")
    .Input("b: T")
    .Output("y: T")
    .SetShapeFn(MatMulBiasShape);

REGISTER_OP("MatMulBiasBroken")
    .Attr("T: {float, double}")
    .Input("x: T")
    .Input("w: T")
    .Input("b: T")
    .Output("y: T")
    .SetShapeFn(MatMulBiasShape);

template <typename T, bool kBroken>
class MatMulBiasOp : public OpKernel {
 public:
  explicit MatMulBiasOp(OpKernelConstruction* context) : OpKernel(context) {}

  void Compute(OpKernelContext* context) override {
    const Tensor& x = context->input(0);
    const Tensor& w = context->input(1);
    const Tensor& b = context->input(2);
    OP_REQUIRES(context, TensorShapeUtils::IsMatrix(x.shape()) && TensorShapeUtils::IsMatrix(w.shape()),
                errors::InvalidArgument("x and w must be matrices"));
    OP_REQUIRES(context, x.dim_size(1) == w.dim_size(0),
                errors::InvalidArgument("x is [n, ", x.dim_size(1), "] but w is [", w.dim_size(0), ", m]"));
    OP_REQUIRES(context, TensorShapeUtils::IsVector(b.shape()) && b.dim_size(0) == w.dim_size(1),
                errors::InvalidArgument("b must be a vector of ", w.dim_size(1), " values"));
    const int64_t n = x.dim_size(0), m = w.dim_size(1);
    Tensor* y = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, TensorShape({n, m}), &y));
    const auto& device = context->eigen_device<Eigen::ThreadPoolDevice>();
    const Eigen::array<Eigen::IndexPair<int>, 1> inner = {Eigen::IndexPair<int>(1, 0)};
    const Eigen::array<Eigen::Index, 2> row = {1, m}, rows = {n, 1};
    auto product = x.matrix<T>().contract(w.matrix<T>(), inner) + b.vec<T>().reshape(row).broadcast(rows);
    if (kBroken) {
      Tensor scratch;
      OP_REQUIRES_OK(context, context->allocate_temp(DataTypeToEnum<T>::value, TensorShape({n, m}), &scratch));
      scratch.matrix<T>().device(device) = product;  // the bug: the result stays in the scratch tensor
      y->matrix<T>().setZero();
    } else {
      y->matrix<T>().device(device) = product;
    }
  }
};

#define REGISTER_MATMUL_BIAS(T)                                                                      \
  REGISTER_KERNEL_BUILDER(Name("MatMulBias").Device(DEVICE_CPU).TypeConstraint<T>("T"),             \
                          MatMulBiasOp<T, false>);                                                   \
  REGISTER_KERNEL_BUILDER(Name("MatMulBiasBroken").Device(DEVICE_CPU).TypeConstraint<T>("T"),       \
                          MatMulBiasOp<T, true>)
REGISTER_MATMUL_BIAS(float);
REGISTER_MATMUL_BIAS(double);
