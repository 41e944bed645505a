// MatMulBias: y = x w + b, the dense layer of a softmax classifier, in one op.
// x: [n, k], w: [k, m], b: [m] -> y: [n, m]. The forward pass is an Eigen
// contraction on TensorFlow's CPU thread pool; the gradient is registered in
// Python (labs/customop/gradients.py).
//
// MatMulBiasBroken has the same signature and a deliberate bug, the kind the
// checks exist for: it computes into a temporary and never copies it to the
// output, which stays zero. The forward check catches it, and a classifier on
// top of it scores exactly the share of its most common class.
//
// Built with GOOGLE_CUDA=1 beside matmul_bias.cu, both have GPU kernels too,
// the broken one with the same bug.
#define EIGEN_USE_THREADS

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "unsupported/Eigen/CXX11/Tensor"
#if GOOGLE_CUDA
#include "gpu_stream.h"
#endif

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

// y = x w + b, and y = 0, on Device: the parts of the op that differ by device.
template <typename Device, typename T>
struct Product;
template <typename Device, typename T>
struct Zero;

template <typename T>
struct Product<Eigen::ThreadPoolDevice, T> {
  void operator()(OpKernelContext* context, const Tensor& x, const Tensor& w, const Tensor& b,
                  Tensor* y) const {
    const Eigen::array<Eigen::IndexPair<int>, 1> inner = {Eigen::IndexPair<int>(1, 0)};
    const Eigen::array<Eigen::Index, 2> row = {1, w.dim_size(1)}, rows = {x.dim_size(0), 1};
    y->matrix<T>().device(context->eigen_device<Eigen::ThreadPoolDevice>()) =
        x.matrix<T>().contract(w.matrix<T>(), inner) + b.vec<T>().reshape(row).broadcast(rows);
  }
};

template <typename T>
struct Zero<Eigen::ThreadPoolDevice, T> {
  void operator()(OpKernelContext*, Tensor* y) const { y->flat<T>().setZero(); }
};

#if GOOGLE_CUDA
template <typename T>  // in matmul_bias.cu
const char* MatMulBiasGpu(void* stream, const T* x, const T* w, const T* b, T* y, int64_t n, int64_t k,
                          int64_t m);
const char* ZeroGpu(void* stream, void* data, int64_t bytes);

template <typename T>
struct Product<Eigen::GpuDevice, T> {
  void operator()(OpKernelContext* context, const Tensor& x, const Tensor& w, const Tensor& b,
                  Tensor* y) const {
    LaunchOnGpu(context, [&](void* stream) {
      return MatMulBiasGpu<T>(stream, x.flat<T>().data(), w.flat<T>().data(), b.flat<T>().data(),
                              y->flat<T>().data(), x.dim_size(0), x.dim_size(1), w.dim_size(1));
    });
  }
};

template <typename T>
struct Zero<Eigen::GpuDevice, T> {
  void operator()(OpKernelContext* context, Tensor* y) const {
    LaunchOnGpu(context, [&](void* stream) { return ZeroGpu(stream, y->data(), y->TotalBytes()); });
  }
};
#endif

template <typename Device, typename T, bool kBroken>
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
    Tensor* y = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, TensorShape({x.dim_size(0), w.dim_size(1)}), &y));
    if (kBroken) {
      Tensor scratch;
      OP_REQUIRES_OK(context, context->allocate_temp(DataTypeToEnum<T>::value, y->shape(), &scratch));
      Product<Device, T>()(context, x, w, b, &scratch);  // the bug: the result stays in the scratch tensor
      if (!context->status().ok()) return;
      Zero<Device, T>()(context, y);
    } else {
      Product<Device, T>()(context, x, w, b, y);
    }
  }
};

#define REGISTER_MATMUL_BIAS(DEVICE_TYPE, EigenDevice, T)                                      \
  REGISTER_KERNEL_BUILDER(Name("MatMulBias").Device(DEVICE_TYPE).TypeConstraint<T>("T"),       \
                          MatMulBiasOp<EigenDevice, T, false>);                                \
  REGISTER_KERNEL_BUILDER(Name("MatMulBiasBroken").Device(DEVICE_TYPE).TypeConstraint<T>("T"), \
                          MatMulBiasOp<EigenDevice, T, true>)
REGISTER_MATMUL_BIAS(DEVICE_CPU, Eigen::ThreadPoolDevice, float);
REGISTER_MATMUL_BIAS(DEVICE_CPU, Eigen::ThreadPoolDevice, double);
#if GOOGLE_CUDA
REGISTER_MATMUL_BIAS(DEVICE_GPU, Eigen::GpuDevice, float);
REGISTER_MATMUL_BIAS(DEVICE_GPU, Eigen::GpuDevice, double);
#endif
