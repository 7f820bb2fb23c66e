// A convolution for double backward (the native HVPs): the same forward and gradients as
// at::conv2d, but its gradients are themselves custom functions whose own gradients are plain
// convolutions and convolution_backward calls. libtorch's own double backward of a convolution
// forms transposed convolutions, which its CPU build runs on the slow im2col path
// (slow_conv_transpose2d, a tenth of a VGG HVP); here every product runs on oneDNN (cuDNN on a
// GPU), as src/engine/second-order.ts does for the tfjs kernels.
#include "program.h"

#include <torch/csrc/autograd/custom_function.h>

namespace repro {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Symmetric padding only: the program pads the tfjs `same` extra row and column explicitly.
using Sizes = std::vector<int64_t>;

at::Tensor backwardData(const at::Tensor& gy, const at::Tensor& w, const Sizes& xSizes, int64_t s, int64_t p) {
  at::Tensor shape = at::empty(xSizes, gy.options());  // read for its sizes only
  return std::get<0>(at::convolution_backward(gy, shape, w, c10::nullopt, {s, s}, {p, p}, {1, 1}, false, {0, 0}, 1,
                                              {true, false, false}));
}

at::Tensor backwardWeight(const at::Tensor& gy, const at::Tensor& x, const Sizes& wSizes, int64_t s, int64_t p) {
  at::Tensor shape = at::empty(wSizes, gy.options());
  return std::get<1>(at::convolution_backward(gy, x, shape, c10::nullopt, {s, s}, {p, p}, {1, 1}, false, {0, 0}, 1,
                                              {false, true, false}));
}

// gx = ∂conv/∂x applied to gy, as a differentiable function of (gy, w).
struct BackwardData : torch::autograd::Function<BackwardData> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& gy, const at::Tensor& w, const Sizes& xSizes,
                            int64_t s, int64_t p) {
    ctx->save_for_backward({gy, w});
    ctx->saved_data["s"] = s;
    ctx->saved_data["p"] = p;
    return backwardData(gy, w, xSizes, s, p);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    variable_list saved = ctx->get_saved_variables();
    const at::Tensor &gy = saved[0], &w = saved[1], &ggx = grads[0];
    int64_t s = ctx->saved_data["s"].toInt(), p = ctx->saved_data["p"].toInt();
    at::Tensor dgy = ctx->needs_input_grad(0) ? at::conv2d(ggx, w, {}, {s, s}, {p, p}) : at::Tensor();
    at::Tensor dw = ctx->needs_input_grad(1) ? backwardWeight(gy, ggx, w.sizes().vec(), s, p) : at::Tensor();
    return {dgy, dw, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// gw = ∂conv/∂w applied to gy, as a differentiable function of (x, gy).
struct BackwardWeight : torch::autograd::Function<BackwardWeight> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& gy, const Sizes& wSizes,
                            int64_t s, int64_t p) {
    ctx->save_for_backward({x, gy});
    ctx->saved_data["s"] = s;
    ctx->saved_data["p"] = p;
    return backwardWeight(gy, x, wSizes, s, p);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    variable_list saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &gy = saved[1], &ggw = grads[0];
    int64_t s = ctx->saved_data["s"].toInt(), p = ctx->saved_data["p"].toInt();
    at::Tensor dx = ctx->needs_input_grad(0) ? backwardData(gy, ggw, x.sizes().vec(), s, p) : at::Tensor();
    at::Tensor dgy = ctx->needs_input_grad(1) ? at::conv2d(x, ggw, {}, {s, s}, {p, p}) : at::Tensor();
    return {dx, dgy, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// (gx, gw) of a convolution together, as a differentiable function of (gy, x, w): one
// convolution_backward call forms both, and its own backward one convolution (of [ggx, x] by
// [w, ggw], concatenated along input channels) and one more convolution_backward call.
struct BackwardBoth : torch::autograd::Function<BackwardBoth> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& gy, const at::Tensor& x, const at::Tensor& w,
                               int64_t s, int64_t p) {
    ctx->save_for_backward({gy, x, w});
    ctx->saved_data["s"] = s;
    ctx->saved_data["p"] = p;
    ctx->set_materialize_grads(false);
    auto both = at::convolution_backward(gy, x, w, c10::nullopt, {s, s}, {p, p}, {1, 1}, false, {0, 0}, 1,
                                         {true, true, false});
    return {std::get<0>(both), std::get<1>(both)};
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    variable_list saved = ctx->get_saved_variables();
    const at::Tensor &gy = saved[0], &x = saved[1], &w = saved[2], &ggx = grads[0], &ggw = grads[1];
    int64_t s = ctx->saved_data["s"].toInt(), p = ctx->saved_data["p"].toInt();
    at::Tensor dgy, dx, dw;
    if (ctx->needs_input_grad(0)) {
      if (ggx.defined() && ggw.defined())
        dgy = at::conv2d(at::cat({ggx, x}, 1), at::cat({w, ggw}, 1), {}, {s, s}, {p, p});
      else if (ggx.defined())
        dgy = at::conv2d(ggx, w, {}, {s, s}, {p, p});
      else if (ggw.defined())
        dgy = at::conv2d(x, ggw, {}, {s, s}, {p, p});
    }
    bool wantX = ctx->needs_input_grad(1) && ggw.defined(), wantW = ctx->needs_input_grad(2) && ggx.defined();
    if (wantX || wantW) {
      // grad_input with ggw as the weight is dx; grad_weight with ggx as the input is dw.
      at::Tensor input = ggx.defined() ? ggx : at::empty(x.sizes(), gy.options());
      at::Tensor weight = ggw.defined() ? ggw : at::empty(w.sizes(), gy.options());
      auto both = at::convolution_backward(gy, input, weight, c10::nullopt, {s, s}, {p, p}, {1, 1}, false, {0, 0}, 1,
                                           {wantX, wantW, false});
      dx = std::get<0>(both);
      dw = std::get<1>(both);
    }
    return {dgy, dx, dw, at::Tensor(), at::Tensor()};
  }
};

// Shared by the convolutions with and without bias: gx and gw as the functions above.
variable_list convolutionBackward(AutogradContext* ctx, const at::Tensor& gy) {
  variable_list saved = ctx->get_saved_variables();
  const at::Tensor &x = saved[0], &w = saved[1];
  int64_t s = ctx->saved_data["s"].toInt(), p = ctx->saved_data["p"].toInt();
  if (ctx->needs_input_grad(0) && ctx->needs_input_grad(1)) return BackwardBoth::apply(gy, x, w, s, p);
  at::Tensor gx = ctx->needs_input_grad(0) ? BackwardData::apply(gy, w, x.sizes().vec(), s, p) : at::Tensor();
  at::Tensor gw = ctx->needs_input_grad(1) ? BackwardWeight::apply(x, gy, w.sizes().vec(), s, p) : at::Tensor();
  return {gx, gw};
}

struct Convolution : torch::autograd::Function<Convolution> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w, int64_t s, int64_t p) {
    ctx->save_for_backward({x, w});
    ctx->saved_data["s"] = s;
    ctx->saved_data["p"] = p;
    return at::conv2d(x, w, {}, {s, s}, {p, p});
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    variable_list g = convolutionBackward(ctx, grads[0]);
    return {g[0], g[1], at::Tensor(), at::Tensor()};
  }
};

struct BiasedConvolution : torch::autograd::Function<BiasedConvolution> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b,
                            int64_t s, int64_t p) {
    ctx->save_for_backward({x, w});
    ctx->saved_data["s"] = s;
    ctx->saved_data["p"] = p;
    return at::conv2d(x, w, b, {s, s}, {p, p});
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    variable_list g = convolutionBackward(ctx, grads[0]);
    at::Tensor gb = ctx->needs_input_grad(2) ? grads[0].sum({0, 2, 3}) : at::Tensor();
    return {g[0], g[1], gb, at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor conv2dTwice(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, int64_t stride,
                       int64_t padding) {
  return b.defined() ? BiasedConvolution::apply(x, w, b, stride, padding) : Convolution::apply(x, w, stride, padding);
}

}  // namespace repro
