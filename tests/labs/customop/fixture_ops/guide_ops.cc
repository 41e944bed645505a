// Ops of the kinds TensorFlow's "Create an op" guide shows, in one source, for the
// customop lab's checks of a user's op: fixed int32 types (the guide's first ZeroOut),
// a namespaced op, an op with no inputs, one with two outputs of different types, one
// with an attr the caller must set, and one whose name is one of TensorFlow's own (Fact).
#include "tensorflow/core/framework/common_shape_fns.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"

using namespace tensorflow;  // NOLINT(build/namespaces): as in the guide

REGISTER_OP("ZeroOut").Input("to_zero: int32").Output("zeroed: int32").SetShapeFn(shape_inference::UnchangedShape);

class ZeroOutOp : public OpKernel {
 public:
  explicit ZeroOutOp(OpKernelConstruction* c) : OpKernel(c) {}
  void Compute(OpKernelContext* c) override {
    const Tensor& x = c->input(0);
    Tensor* y = nullptr;
    OP_REQUIRES_OK(c, c->allocate_output(0, x.shape(), &y));
    auto in = x.flat<int32>();
    auto out = y->flat<int32>();
    for (int64_t i = 1; i < in.size(); i++) out(i) = 0;
    if (in.size() > 0) out(0) = in(0);
  }
};
REGISTER_KERNEL_BUILDER(Name("ZeroOut").Device(DEVICE_CPU), ZeroOutOp);

REGISTER_OP("Meetup>Negate")
    .Attr("T: {float, double}")
    .Input("x: T")
    .Output("y: T")
    .SetShapeFn(shape_inference::UnchangedShape);

template <typename T>
class NegateOp : public OpKernel {
 public:
  explicit NegateOp(OpKernelConstruction* c) : OpKernel(c) {}
  void Compute(OpKernelContext* c) override {
    const Tensor& x = c->input(0);
    Tensor* y = nullptr;
    OP_REQUIRES_OK(c, c->allocate_output(0, x.shape(), &y));
    y->flat<T>() = -x.flat<T>();
  }
};
REGISTER_KERNEL_BUILDER(Name("Meetup>Negate").Device(DEVICE_CPU).TypeConstraint<float>("T"), NegateOp<float>);
REGISTER_KERNEL_BUILDER(Name("Meetup>Negate").Device(DEVICE_CPU).TypeConstraint<double>("T"), NegateOp<double>);

REGISTER_OP("Konst").Attr("value: int = 7").Output("out: int32").SetShapeFn(shape_inference::ScalarShape);

class KonstOp : public OpKernel {
 public:
  explicit KonstOp(OpKernelConstruction* c) : OpKernel(c) { OP_REQUIRES_OK(c, c->GetAttr("value", &value_)); }
  void Compute(OpKernelContext* c) override {
    Tensor* out = nullptr;
    OP_REQUIRES_OK(c, c->allocate_output(0, TensorShape({}), &out));
    out->scalar<int32>()() = value_;
  }

 private:
  int value_;
};
REGISTER_KERNEL_BUILDER(Name("Konst").Device(DEVICE_CPU), KonstOp);

// y = 2x, and x rounded down to an int32: a float output with a gradient beside one without.
REGISTER_OP("TwiceAndFloor")
    .Attr("T: {float, double}")
    .Input("x: T")
    .Output("y: T")
    .Output("floor: int32")
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      c->set_output(0, c->input(0));
      c->set_output(1, c->input(0));
      return OkStatus();
    });

template <typename T>
class TwiceAndFloorOp : public OpKernel {
 public:
  explicit TwiceAndFloorOp(OpKernelConstruction* c) : OpKernel(c) {}
  void Compute(OpKernelContext* c) override {
    const Tensor& x = c->input(0);
    Tensor *y = nullptr, *floor = nullptr;
    OP_REQUIRES_OK(c, c->allocate_output(0, x.shape(), &y));
    OP_REQUIRES_OK(c, c->allocate_output(1, x.shape(), &floor));
    auto in = x.flat<T>();
    for (int64_t i = 0; i < in.size(); i++) {
      y->flat<T>()(i) = 2 * in(i);
      floor->flat<int32>()(i) = static_cast<int32>(std::floor(in(i)));
    }
  }
};
REGISTER_KERNEL_BUILDER(Name("TwiceAndFloor").Device(DEVICE_CPU).TypeConstraint<float>("T"),
                        TwiceAndFloorOp<float>);
REGISTER_KERNEL_BUILDER(Name("TwiceAndFloor").Device(DEVICE_CPU).TypeConstraint<double>("T"),
                        TwiceAndFloorOp<double>);

// An attr with no default: whoever calls it must set factor.
REGISTER_OP("Scale").Attr("factor: int").Input("x: int32").Output("y: int32").SetShapeFn(
    shape_inference::UnchangedShape);

class ScaleOp : public OpKernel {
 public:
  explicit ScaleOp(OpKernelConstruction* c) : OpKernel(c) { OP_REQUIRES_OK(c, c->GetAttr("factor", &factor_)); }
  void Compute(OpKernelContext* c) override {
    const Tensor& x = c->input(0);
    Tensor* y = nullptr;
    OP_REQUIRES_OK(c, c->allocate_output(0, x.shape(), &y));
    y->flat<int32>() = x.flat<int32>() * factor_;
  }

 private:
  int factor_;
};
REGISTER_KERNEL_BUILDER(Name("Scale").Device(DEVICE_CPU), ScaleOp);

// The guide's Fact: TensorFlow has an op of that name already, so this one never loads.
REGISTER_OP("Fact").Output("fact: string");

class FactOp : public OpKernel {
 public:
  explicit FactOp(OpKernelConstruction* c) : OpKernel(c) {}
  void Compute(OpKernelContext* c) override {
    Tensor* out = nullptr;
    OP_REQUIRES_OK(c, c->allocate_output(0, TensorShape(), &out));
    out->scalar<tstring>()() = "meetup";
  }
};
REGISTER_KERNEL_BUILDER(Name("Fact").Device(DEVICE_CPU), FactOp);
