// The `torch` TensorFlow.js backend's native half: a Node-API addon over libtorch's ATen.
//
// Tensors live here, in a table keyed by integer handles; JavaScript holds the handles (one per
// tfjs dataId). Every stored tensor is contiguous, so an op can view it under whatever shape the
// tfjs TensorInfo gives (tfjs shares one dataId between a tensor and its reshapes). `run` applies
// one kernel: named inputs by handle and shape, numeric attributes in a flat array, and returns
// the new handles with their shapes and dtypes. Layouts are tfjs's (NHWC images, HWIO filters);
// convolutions permute to ATen's NCHW views, which ATen handles as channels-last memory. The
// native programs (program.cc) share this table (store.h).
#include "store.h"

#include <ATen/Parallel.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#ifndef REPRO_ADDON_BUILD
#define REPRO_ADDON_BUILD "unversioned"
#endif

namespace {

std::unordered_map<int64_t, at::Tensor> store;
int64_t nextHandle = 1;
int64_t liveBytes = 0;
c10::Device device(c10::kCPU);

}  // namespace

namespace repro {

int64_t put(at::Tensor t) {
  // tfjs dtypes only: ATen's int64 and double results are narrowed here, once.
  if (t.scalar_type() == at::kLong) t = t.to(at::kInt);
  if (t.scalar_type() == at::kDouble) t = t.to(at::kFloat);
  t = t.contiguous();
  int64_t h = nextHandle++;
  liveBytes += static_cast<int64_t>(t.nbytes());
  store.emplace(h, std::move(t));
  return h;
}

const at::Tensor& get(int64_t h) {
  auto it = store.find(h);
  if (it == store.end()) throw std::runtime_error("unknown tensor handle " + std::to_string(h));
  return it->second;
}

void replace(int64_t h, at::Tensor t) {
  auto it = store.find(h);
  if (it == store.end()) throw std::runtime_error("unknown tensor handle " + std::to_string(h));
  t = t.contiguous();
  liveBytes += static_cast<int64_t>(t.nbytes()) - static_cast<int64_t>(it->second.nbytes());
  it->second = std::move(t);
}

c10::Device currentDevice() { return device; }

std::string buildId() { return REPRO_ADDON_BUILD; }

}  // namespace repro

namespace {

using repro::get;
using repro::guarded;
using repro::put;
using Tensors = std::vector<at::Tensor>;
using Nums = std::vector<double>;
using Kernel = std::function<Tensors(const Tensors&, const Nums&)>;

// dtype codes shared with the TypeScript side: 0 float32, 1 int32, 2 bool.
at::ScalarType scalarType(int code) {
  switch (code) {
    case 0: return at::kFloat;
    case 1: return at::kInt;
    case 2: return at::kBool;
    default: throw std::runtime_error("unknown dtype code " + std::to_string(code));
  }
}

int dtypeCode(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return 0;
    case at::kInt: return 1;
    case at::kBool: return 2;
    default: throw std::runtime_error(std::string("kernel produced an unsupported dtype ") + c10::toString(t));
  }
}

std::vector<int64_t> intList(const Nums& n, size_t from, size_t count) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < count; i++) out.push_back(static_cast<int64_t>(n.at(from + i)));
  return out;
}

at::Tensor nhwcToNchw(const at::Tensor& x) { return x.permute({0, 3, 1, 2}); }
at::Tensor nchwToNhwc(const at::Tensor& x) { return x.permute({0, 2, 3, 1}); }
at::Tensor hwioToOihw(const at::Tensor& f) { return f.permute({3, 2, 0, 1}); }

// nums: strideH, strideW, dilationH, dilationW, padTop, padBottom, padLeft, padRight
struct ConvGeometry {
  std::vector<int64_t> stride, dilation;
  int64_t top, bottom, left, right;
  explicit ConvGeometry(const Nums& n)
      : stride(intList(n, 0, 2)), dilation(intList(n, 2, 2)),
        top(static_cast<int64_t>(n.at(4))), bottom(static_cast<int64_t>(n.at(5))),
        left(static_cast<int64_t>(n.at(6))), right(static_cast<int64_t>(n.at(7))) {}
  bool symmetric() const { return top == bottom && left == right; }
};

at::Tensor conv2d(const Tensors& in, const Nums& n) {
  ConvGeometry g(n);
  at::Tensor x = nhwcToNchw(in[0]);
  std::vector<int64_t> padding = {g.top, g.left};
  if (!g.symmetric()) {
    x = at::constant_pad_nd(x, {g.left, g.right, g.top, g.bottom}, 0);
    padding = {0, 0};
  }
  at::Tensor y = at::convolution(x, hwioToOihw(in[1]), c10::nullopt, g.stride, padding, g.dilation, false, {0, 0}, 1);
  return nchwToNhwc(y);
}

// dx of a convolution: the transposed convolution onto the padded input, cropped to the input.
// nums: geometry (8), then the input's N, H, W, C.
at::Tensor conv2dBackpropInput(const Tensors& in, const Nums& n) {
  ConvGeometry g(n);
  const at::Tensor& dy = in[0];
  const at::Tensor& f = in[1];
  int64_t h = static_cast<int64_t>(n.at(9)), w = static_cast<int64_t>(n.at(10));
  int64_t hp = h + g.top + g.bottom, wp = w + g.left + g.right;
  int64_t effH = g.dilation[0] * (f.size(0) - 1) + 1, effW = g.dilation[1] * (f.size(1) - 1) + 1;
  std::vector<int64_t> outputPadding = {hp - ((dy.size(1) - 1) * g.stride[0] + effH),
                                        wp - ((dy.size(2) - 1) * g.stride[1] + effW)};
  at::Tensor dx = at::convolution(nhwcToNchw(dy), hwioToOihw(f), c10::nullopt, g.stride, {0, 0}, g.dilation, true,
                                  outputPadding, 1);
  dx = dx.slice(2, g.top, g.top + h).slice(3, g.left, g.left + w);
  return nchwToNhwc(dx);
}

// dW of a convolution. nums: geometry (8), then the filter's fh, fw, inC, outC.
at::Tensor conv2dBackpropFilter(const Tensors& in, const Nums& n) {
  ConvGeometry g(n);
  at::Tensor x = at::constant_pad_nd(nhwcToNchw(in[0]), {g.left, g.right, g.top, g.bottom}, 0);
  std::vector<int64_t> fs = intList(n, 8, 4);
  // Only the rows and columns the convolution reads: libtorch 1.13's CPU weight gradient never
  // returns when a strided convolution leaves the input's last row unread (1x1, stride 2, even size).
  const at::Tensor& dy = in[1];
  x = x.slice(2, 0, (dy.size(1) - 1) * g.stride[0] + g.dilation[0] * (fs[0] - 1) + 1)
       .slice(3, 0, (dy.size(2) - 1) * g.stride[1] + g.dilation[1] * (fs[1] - 1) + 1);
  at::Tensor weight = at::empty({fs[3], fs[2], fs[0], fs[1]}, x.options());
  auto grads = at::convolution_backward(nhwcToNchw(dy), x, weight, c10::nullopt, g.stride, {0, 0}, g.dilation, false,
                                        {0, 0}, 1, {false, true, false});
  return std::get<1>(grads).permute({2, 3, 1, 0});
}

// Reductions. nums: keepDims, then the axes (already normalized, never empty).
template <typename F>
Kernel reduction(F f) {
  return [f](const Tensors& in, const Nums& n) -> Tensors {
    bool keep = n.at(0) != 0;
    std::vector<int64_t> axes = intList(n, 1, n.size() - 1);
    return {f(in[0], axes, keep)};
  };
}

at::Tensor sumAsTfjs(const at::Tensor& x, at::IntArrayRef axes, bool keep) {
  if (x.is_floating_point()) return at::sum(x, axes, keep);
  return at::sum(x, axes, keep, at::kInt);
}

at::Tensor prodOver(const at::Tensor& x, at::IntArrayRef axes, bool keep) {
  at::Tensor out = x.is_floating_point() ? x : x.to(at::kInt);
  std::vector<int64_t> sorted(axes.begin(), axes.end());
  std::sort(sorted.rbegin(), sorted.rend());
  for (int64_t a : sorted) out = at::prod(out, a, keep, out.scalar_type());
  return out;
}

at::Tensor allOrAny(const at::Tensor& x, at::IntArrayRef axes, bool keep, bool all) {
  at::Tensor out = x.to(at::kBool);
  std::vector<int64_t> sorted(axes.begin(), axes.end());
  std::sort(sorted.rbegin(), sorted.rend());
  for (int64_t a : sorted) out = all ? at::all(out, a, keep) : at::any(out, a, keep);
  return out;
}

Kernel unary(std::function<at::Tensor(const at::Tensor&)> f) {
  return [f](const Tensors& in, const Nums&) -> Tensors { return {f(in[0])}; };
}

Kernel binary(std::function<at::Tensor(const at::Tensor&, const at::Tensor&)> f) {
  return [f](const Tensors& in, const Nums&) -> Tensors { return {f(in[0], in[1])}; };
}

at::Tensor floatOf(const at::Tensor& x) { return x.is_floating_point() ? x : x.to(at::kFloat); }

// tfjs's activation codes for fused ops: 0 linear, 1 relu, 2 relu6, 3 elu, 4 leakyrelu, 5 sigmoid.
at::Tensor activate(const at::Tensor& x, int code, double alpha) {
  switch (code) {
    case 0: return x;
    case 1: return at::relu(x);
    case 2: return at::clamp(x, 0, 6);
    case 3: return at::elu(x);
    case 4: return at::leaky_relu(x, alpha);
    case 5: return at::sigmoid(x);
    default: throw std::runtime_error("unsupported fused activation code " + std::to_string(code));
  }
}

std::unordered_map<std::string, Kernel> kernels() {
  std::unordered_map<std::string, Kernel> k;
  // Elementwise, one input.
  k["Abs"] = unary([](const at::Tensor& x) { return at::abs(x); });
  k["Neg"] = unary([](const at::Tensor& x) { return at::neg(x); });
  k["Exp"] = unary([](const at::Tensor& x) { return at::exp(floatOf(x)); });
  k["Log"] = unary([](const at::Tensor& x) { return at::log(floatOf(x)); });
  k["Log1p"] = unary([](const at::Tensor& x) { return at::log1p(floatOf(x)); });
  k["Expm1"] = unary([](const at::Tensor& x) { return at::expm1(floatOf(x)); });
  k["Sqrt"] = unary([](const at::Tensor& x) { return at::sqrt(floatOf(x)); });
  k["Rsqrt"] = unary([](const at::Tensor& x) { return at::rsqrt(floatOf(x)); });
  k["Square"] = unary([](const at::Tensor& x) { return at::mul(x, x); });
  k["Reciprocal"] = unary([](const at::Tensor& x) { return at::reciprocal(floatOf(x)); });
  k["Relu"] = unary([](const at::Tensor& x) { return at::relu(x); });
  k["Relu6"] = unary([](const at::Tensor& x) { return at::clamp(x, 0, 6); });
  k["Elu"] = unary([](const at::Tensor& x) { return at::elu(x); });
  k["Selu"] = unary([](const at::Tensor& x) { return at::selu(x); });
  k["Sigmoid"] = unary([](const at::Tensor& x) { return at::sigmoid(floatOf(x)); });
  k["Tanh"] = unary([](const at::Tensor& x) { return at::tanh(floatOf(x)); });
  k["Softplus"] = unary([](const at::Tensor& x) { return at::softplus(floatOf(x), 1, 20); });
  k["Sin"] = unary([](const at::Tensor& x) { return at::sin(floatOf(x)); });
  k["Cos"] = unary([](const at::Tensor& x) { return at::cos(floatOf(x)); });
  k["Erf"] = unary([](const at::Tensor& x) { return at::erf(floatOf(x)); });
  k["Floor"] = unary([](const at::Tensor& x) { return at::floor(x); });
  k["Ceil"] = unary([](const at::Tensor& x) { return at::ceil(x); });
  k["Round"] = unary([](const at::Tensor& x) { return at::round(x); });
  k["Sign"] = unary([](const at::Tensor& x) { return at::where(at::isnan(x), at::zeros_like(x), at::sign(x)); });
  k["IsNan"] = unary([](const at::Tensor& x) { return at::isnan(x); });
  k["IsInf"] = unary([](const at::Tensor& x) { return at::isinf(x); });
  k["LogicalNot"] = unary([](const at::Tensor& x) { return at::logical_not(x); });
  k["ZerosLike"] = unary([](const at::Tensor& x) { return at::zeros_like(x); });
  k["OnesLike"] = unary([](const at::Tensor& x) { return at::ones_like(x); });
  k["Step"] = [](const Tensors& in, const Nums& n) -> Tensors {
    const at::Tensor& x = in[0];
    at::Tensor out = at::where(x > 0, at::ones_like(x), at::full_like(x, n.at(0)));
    return {at::where(at::isnan(x), x, out)};
  };
  k["LeakyRelu"] = [](const Tensors& in, const Nums& n) -> Tensors {
    return {at::where(in[0] < 0, in[0] * n.at(0), in[0])};
  };
  k["ClipByValue"] = [](const Tensors& in, const Nums& n) -> Tensors { return {at::clamp(in[0], n.at(0), n.at(1))}; };
  k["Cast"] = [](const Tensors& in, const Nums& n) -> Tensors {
    return {in[0].to(scalarType(static_cast<int>(n.at(0))))};
  };
  // Elementwise, two broadcast inputs of one dtype (tfjs matches dtypes before a kernel runs).
  k["Add"] = binary([](const at::Tensor& a, const at::Tensor& b) {
    return a.scalar_type() == at::kBool ? at::logical_or(a, b) : at::add(a, b);
  });
  k["Sub"] = binary([](const at::Tensor& a, const at::Tensor& b) { return at::sub(a, b); });
  k["Multiply"] = binary([](const at::Tensor& a, const at::Tensor& b) {
    return a.scalar_type() == at::kBool ? at::logical_and(a, b) : at::mul(a, b);
  });
  k["RealDiv"] = binary([](const at::Tensor& a, const at::Tensor& b) {
    return a.is_floating_point() ? at::div(a, b) : at::div(a.to(at::kFloat), b.to(at::kFloat)).to(a.scalar_type());
  });
  k["FloorDiv"] = binary([](const at::Tensor& a, const at::Tensor& b) {
    return at::floor(at::div(a.to(at::kFloat), b.to(at::kFloat))).to(at::kInt);  // tfjs: int32 for every dtype
  });
  k["Mod"] = binary([](const at::Tensor& a, const at::Tensor& b) { return at::remainder(a, b); });
  k["Maximum"] = binary([](const at::Tensor& a, const at::Tensor& b) { return at::maximum(a, b); });
  k["Minimum"] = binary([](const at::Tensor& a, const at::Tensor& b) { return at::minimum(a, b); });
  k["Pow"] = binary([](const at::Tensor& a, const at::Tensor& b) { return at::pow(a, b); });
  k["Atan2"] = binary([](const at::Tensor& a, const at::Tensor& b) { return at::atan2(a, b); });
  k["SquaredDifference"] = binary([](const at::Tensor& a, const at::Tensor& b) { at::Tensor d = a - b; return d * d; });
  k["Equal"] = binary([](const at::Tensor& a, const at::Tensor& b) { return at::eq(a, b); });
  k["NotEqual"] = binary([](const at::Tensor& a, const at::Tensor& b) { return at::ne(a, b); });
  k["Greater"] = binary([](const at::Tensor& a, const at::Tensor& b) { return at::gt(a, b); });
  k["GreaterEqual"] = binary([](const at::Tensor& a, const at::Tensor& b) { return at::ge(a, b); });
  k["Less"] = binary([](const at::Tensor& a, const at::Tensor& b) { return at::lt(a, b); });
  k["LessEqual"] = binary([](const at::Tensor& a, const at::Tensor& b) { return at::le(a, b); });
  k["LogicalAnd"] = binary([](const at::Tensor& a, const at::Tensor& b) { return at::logical_and(a, b); });
  k["LogicalOr"] = binary([](const at::Tensor& a, const at::Tensor& b) { return at::logical_or(a, b); });
  k["Prelu"] = binary([](const at::Tensor& x, const at::Tensor& alpha) { return at::where(x < 0, x * alpha, x); });
  k["Select"] = [](const Tensors& in, const Nums&) -> Tensors {
    return {at::where(in[0].to(at::kBool), in[1], in[2])};
  };
  // Reductions.
  k["Sum"] = reduction([](const at::Tensor& x, at::IntArrayRef a, bool keep) { return sumAsTfjs(x, a, keep); });
  k["Mean"] = reduction([](const at::Tensor& x, at::IntArrayRef a, bool keep) {
    return at::mean(floatOf(x), a, keep);
  });
  k["Max"] = reduction([](const at::Tensor& x, at::IntArrayRef a, bool keep) { return at::amax(x, a, keep); });
  k["Min"] = reduction([](const at::Tensor& x, at::IntArrayRef a, bool keep) { return at::amin(x, a, keep); });
  k["Prod"] = reduction([](const at::Tensor& x, at::IntArrayRef a, bool keep) { return prodOver(x, a, keep); });
  k["All"] = reduction([](const at::Tensor& x, at::IntArrayRef a, bool keep) { return allOrAny(x, a, keep, true); });
  k["Any"] = reduction([](const at::Tensor& x, at::IntArrayRef a, bool keep) { return allOrAny(x, a, keep, false); });
  k["ArgMax"] = [](const Tensors& in, const Nums& n) -> Tensors {
    return {at::argmax(in[0], static_cast<int64_t>(n.at(0)))};
  };
  k["ArgMin"] = [](const Tensors& in, const Nums& n) -> Tensors {
    return {at::argmin(in[0], static_cast<int64_t>(n.at(0)))};
  };
  k["Softmax"] = [](const Tensors& in, const Nums&) -> Tensors { return {at::softmax(in[0], -1)}; };
  // Shapes and data movement.
  k["Transpose"] = [](const Tensors& in, const Nums& n) -> Tensors { return {in[0].permute(intList(n, 0, n.size()))}; };
  k["Concat"] = [](const Tensors& in, const Nums& n) -> Tensors {
    return {at::cat(in, static_cast<int64_t>(n.at(0)))};
  };
  k["Pack"] = [](const Tensors& in, const Nums& n) -> Tensors {
    return {at::stack(in, static_cast<int64_t>(n.at(0)))};
  };
  k["Unpack"] = [](const Tensors& in, const Nums& n) -> Tensors {
    return at::unbind(in[0], static_cast<int64_t>(n.at(0)));
  };
  k["SplitV"] = [](const Tensors& in, const Nums& n) -> Tensors {
    return at::split_with_sizes(in[0], intList(n, 1, n.size() - 1), static_cast<int64_t>(n.at(0)));
  };
  // nums: begin (rank), then size (rank).
  k["Slice"] = [](const Tensors& in, const Nums& n) -> Tensors {
    at::Tensor x = in[0];
    int64_t rank = x.dim();
    for (int64_t d = 0; d < rank; d++) {
      int64_t b = static_cast<int64_t>(n.at(d)), s = static_cast<int64_t>(n.at(rank + d));
      x = x.slice(d, b, b + s);
    }
    return {x};
  };
  k["Tile"] = [](const Tensors& in, const Nums& n) -> Tensors { return {in[0].repeat(intList(n, 0, n.size()))}; };
  k["Reverse"] = [](const Tensors& in, const Nums& n) -> Tensors { return {at::flip(in[0], intList(n, 0, n.size()))}; };
  // nums: constant value, then (before, after) per dimension in tfjs order.
  k["PadV2"] = [](const Tensors& in, const Nums& n) -> Tensors {
    int64_t rank = in[0].dim();
    std::vector<int64_t> pads;
    for (int64_t d = rank - 1; d >= 0; d--) {
      pads.push_back(static_cast<int64_t>(n.at(1 + 2 * d)));
      pads.push_back(static_cast<int64_t>(n.at(2 + 2 * d)));
    }
    return {at::constant_pad_nd(in[0], pads, n.at(0))};
  };
  k["GatherV2"] = [](const Tensors& in, const Nums& n) -> Tensors {
    int64_t axis = static_cast<int64_t>(n.at(0));
    const at::Tensor& x = in[0];
    at::Tensor idx = in[1].to(at::kLong);
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
    for (int64_t s : idx.sizes()) shape.push_back(s);
    for (int64_t d = axis + 1; d < x.dim(); d++) shape.push_back(x.size(d));
    return {at::index_select(x, axis, idx.reshape({-1})).view(shape)};
  };
  // nums: depth, on value, off value, dtype code.
  k["OneHot"] = [](const Tensors& in, const Nums& n) -> Tensors {
    at::Tensor classes = at::arange(static_cast<int64_t>(n.at(0)), in[0].options().dtype(at::kLong));
    at::Tensor hot = at::eq(in[0].to(at::kLong).unsqueeze(-1), classes);
    at::ScalarType t = scalarType(static_cast<int>(n.at(3)));
    at::Tensor on = at::full({}, n.at(1), in[0].options().dtype(t));
    at::Tensor off = at::full({}, n.at(2), in[0].options().dtype(t));
    return {at::where(hot, on, off)};
  };
  // nums: dtype code, value, then the shape.
  k["Fill"] = [](const Tensors&, const Nums& n) -> Tensors {
    at::ScalarType t = scalarType(static_cast<int>(n.at(0)));
    return {at::full(intList(n, 2, n.size() - 2), n.at(1), at::TensorOptions().dtype(t).device(device))};
  };
  // Linear algebra and convolutions. nums: transposeA, transposeB.
  k["BatchMatMul"] = [](const Tensors& in, const Nums& n) -> Tensors {
    at::Tensor a = n.at(0) != 0 ? in[0].transpose(-1, -2) : in[0];
    at::Tensor b = n.at(1) != 0 ? in[1].transpose(-1, -2) : in[1];
    return {at::matmul(a, b)};
  };
  // nums: transposeA, transposeB, has bias, activation code, leaky-relu alpha; inputs a, b[, bias][, prelu weights].
  k["_FusedMatMul"] = [](const Tensors& in, const Nums& n) -> Tensors {
    at::Tensor a = n.at(0) != 0 ? in[0].transpose(-1, -2) : in[0];
    at::Tensor b = n.at(1) != 0 ? in[1].transpose(-1, -2) : in[1];
    at::Tensor y = at::matmul(a, b);
    size_t next = 2;
    if (n.at(2) != 0) y = y + in[next++];
    if (static_cast<int>(n.at(3)) == 6) return {at::where(y < 0, y * in[next], y)};
    return {activate(y, static_cast<int>(n.at(3)), n.at(4))};
  };
  k["Conv2D"] = [](const Tensors& in, const Nums& n) -> Tensors { return {conv2d(in, n)}; };
  k["Conv2DBackpropInput"] = [](const Tensors& in, const Nums& n) -> Tensors { return {conv2dBackpropInput(in, n)}; };
  k["Conv2DBackpropFilter"] = [](const Tensors& in, const Nums& n) -> Tensors { return {conv2dBackpropFilter(in, n)}; };
  // inputs x, mean, variance[, offset][, scale]; nums: epsilon, has offset, has scale.
  k["FusedBatchNorm"] = [](const Tensors& in, const Nums& n) -> Tensors {
    at::Tensor y = (in[0] - in[1]) * at::rsqrt(in[2] + n.at(0));
    size_t next = 3;
    at::Tensor offset = n.at(1) != 0 ? in[next++] : at::Tensor();
    if (n.at(2) != 0) y = y * in[next];
    if (offset.defined()) y = y + offset;
    return {y};
  };
  return k;
}

const std::unordered_map<std::string, Kernel>& table() {
  static const std::unordered_map<std::string, Kernel> t = kernels();
  return t;
}

std::vector<int64_t> shapeOf(const Napi::Value& v) {
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int64_t> s(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) s[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return s;
}

Napi::Array shapeToJs(Napi::Env env, at::IntArrayRef sizes) {
  Napi::Array a = Napi::Array::New(env, sizes.size());
  for (size_t i = 0; i < sizes.size(); i++) a.Set(i, Napi::Number::New(env, static_cast<double>(sizes[i])));
  return a;
}

// upload(typedArray, dtypeCode, shape) -> handle
Napi::Value Upload(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::TypedArray arr = info[0].As<Napi::TypedArray>();
    at::ScalarType t = scalarType(info[1].As<Napi::Number>().Int32Value());
    std::vector<int64_t> shape = shapeOf(info[2]);
    void* data = static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
    at::Tensor host = at::from_blob(data, shape, at::TensorOptions().dtype(t));
    // One value (the scalars every `x * 0.5` makes) becomes a fill on the device: a copy from
    // pageable memory would wait for all queued GPU work on every scalar.
    // Others go through pinned memory and a copy that does not wait for the device (the caching
    // host allocator keeps the pinned block until the copy has run).
    at::Tensor owned = host.numel() == 1 ? at::full(shape, host.item(), at::TensorOptions().dtype(t).device(device))
      : device.is_cpu() ? host.clone() : host.pin_memory().to(device, /*non_blocking=*/true);
    return Napi::Number::New(info.Env(), static_cast<double>(put(owned)));
  });
}

// download(handle) -> Float32Array | Int32Array | Uint8Array (a copy)
Napi::Value Download(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    at::Tensor t = get(info[0].As<Napi::Number>().Int64Value()).to(at::kCPU).contiguous();
    size_t n = static_cast<size_t>(t.numel());
    Napi::Env env = info.Env();
    switch (t.scalar_type()) {
      case at::kFloat: {
        auto out = Napi::Float32Array::New(env, n);
        if (n) std::memcpy(out.Data(), t.data_ptr(), n * 4);
        return out;
      }
      case at::kInt: {
        auto out = Napi::Int32Array::New(env, n);
        if (n) std::memcpy(out.Data(), t.data_ptr(), n * 4);
        return out;
      }
      default: {
        auto out = Napi::Uint8Array::New(env, n);
        if (n) std::memcpy(out.Data(), t.data_ptr(), n);
        return out;
      }
    }
  });
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  auto it = store.find(info[0].As<Napi::Number>().Int64Value());
  if (it != store.end()) {
    liveBytes -= static_cast<int64_t>(it->second.nbytes());
    store.erase(it);
  }
  return info.Env().Undefined();
}

// run(kernel, handles, shapes, nums) -> [[handle, shape, dtypeCode], ...]
Napi::Value Run(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    std::string name = info[0].As<Napi::String>().Utf8Value();
    auto k = table().find(name);
    if (k == table().end()) throw std::runtime_error("no native kernel " + name);
    Napi::Array handles = info[1].As<Napi::Array>(), shapes = info[2].As<Napi::Array>();
    Tensors in;
    for (uint32_t i = 0; i < handles.Length(); i++) {
      in.push_back(get(handles.Get(i).As<Napi::Number>().Int64Value()).view(shapeOf(shapes.Get(i))));
    }
    Napi::Float64Array numsJs = info[3].As<Napi::Float64Array>();
    Nums nums(numsJs.Data(), numsJs.Data() + numsJs.ElementLength());
    Tensors outs = k->second(in, nums);
    Napi::Array result = Napi::Array::New(env, outs.size());
    for (size_t i = 0; i < outs.size(); i++) {
      int code = dtypeCode(outs[i].scalar_type() == at::kLong ? at::kInt
                           : outs[i].scalar_type() == at::kDouble ? at::kFloat : outs[i].scalar_type());
      Napi::Array entry = Napi::Array::New(env, 3);
      entry.Set(1u, shapeToJs(env, outs[i].sizes()));
      entry.Set(0u, Napi::Number::New(env, static_cast<double>(put(outs[i]))));
      entry.Set(2u, Napi::Number::New(env, code));
      result.Set(static_cast<uint32_t>(i), entry);
    }
    return result;
  });
}

Napi::Value Kernels(const Napi::CallbackInfo& info) {
  Napi::Array a = Napi::Array::New(info.Env());
  uint32_t i = 0;
  for (const auto& kv : table()) a.Set(i++, Napi::String::New(info.Env(), kv.first));
  return a;
}

Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("tensors", Napi::Number::New(info.Env(), static_cast<double>(store.size())));
  o.Set("bytes", Napi::Number::New(info.Env(), static_cast<double>(liveBytes)));
  return o;
}

// configure({ device, threads, deterministic, cudnnBenchmark, tf32 }) -> info
Napi::Value Configure(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Object o = info[0].As<Napi::Object>();
    auto& ctx = at::globalContext();
    if (o.Has("device")) {
      std::string d = o.Get("device").As<Napi::String>().Utf8Value();
      c10::Device next(d);
      if (next.is_cuda() && !at::hasCUDA())
        throw std::runtime_error("device " + d + " requested but this libtorch has no CUDA");
      if (!store.empty() && next != device) throw std::runtime_error("cannot change device with live tensors");
      device = next;
    }
    if (o.Has("threads")) at::set_num_threads(o.Get("threads").As<Napi::Number>().Int32Value());
    if (o.Has("deterministic")) {
      bool d = o.Get("deterministic").As<Napi::Boolean>().Value();
      ctx.setDeterministicAlgorithms(d, false);
      ctx.setDeterministicCuDNN(d);
    }
    if (o.Has("cudnnBenchmark")) ctx.setBenchmarkCuDNN(o.Get("cudnnBenchmark").As<Napi::Boolean>().Value());
    if (o.Has("tf32")) {
      bool t = o.Get("tf32").As<Napi::Boolean>().Value();
      ctx.setAllowTF32CuBLAS(t);
      ctx.setAllowTF32CuDNN(t);
    }
    Napi::Env env = info.Env();
    Napi::Object r = Napi::Object::New(env);
    r.Set("device", Napi::String::New(env, device.str()));
    r.Set("cuda", Napi::Boolean::New(env, at::hasCUDA()));
    r.Set("threads", Napi::Number::New(env, at::get_num_threads()));
    r.Set("deterministic", Napi::Boolean::New(env, ctx.deterministicAlgorithms()));
    r.Set("cudnnBenchmark", Napi::Boolean::New(env, ctx.benchmarkCuDNN()));
    r.Set("tf32", Napi::Boolean::New(env, ctx.allowTF32CuBLAS()));
    r.Set("version", Napi::String::New(env, TORCH_VERSION));
    r.Set("build", Napi::String::New(env, repro::buildId()));
    return r;
  });
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  // A device read forces completion of every queued kernel on that stream.
  if (device.is_cuda()) at::ones({1}, at::TensorOptions().device(device)).to(at::kCPU);
  return info.Env().Undefined();
}

// Host float64 linear algebra for the trace estimators (src/linalg/dense-kernels.ts): their
// reductions over k probe vectors of n parameters are O(k^2 n) and took most of a trace's time in
// JavaScript. These run on LAPACK/BLAS over the caller's buffers, on the CPU whatever the device.

// gram64(x: Float64Array [p*n], p, y: Float64Array [q*n], q) -> Float64Array [p*q]: X Y^T of the
// rows (row-major), every dot product of an x row with a y row.
Napi::Value Gram64(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Float64Array x = info[0].As<Napi::Float64Array>(), y = info[2].As<Napi::Float64Array>();
    int64_t p = info[1].As<Napi::Number>().Int64Value(), q = info[3].As<Napi::Number>().Int64Value();
    if (p <= 0 || q <= 0 || x.ElementLength() % p != 0 || x.ElementLength() / p * q != y.ElementLength())
      throw std::invalid_argument("gram64: x must be p rows and y q rows of the same length");
    int64_t n = static_cast<int64_t>(x.ElementLength()) / p;
    at::Tensor X = at::from_blob(x.Data(), {p, n}, at::kDouble);
    at::Tensor Y = at::from_blob(y.Data(), {q, n}, at::kDouble);
    Napi::Float64Array out = Napi::Float64Array::New(info.Env(), p * q);
    at::Tensor O = at::from_blob(out.Data(), {p, q}, at::kDouble);
    at::mm_out(O, X, Y.t());
    return out;
  });
}

// qr64(y: Float64Array [k*n], k) -> [q Float64Array [k*n], r Float64Array [k*k]]: the thin QR of
// the matrix whose columns are y's k rows (Householder), returned as Q's columns (rows of q) and R
// row-major upper triangular, signs chosen so that R's diagonal is not negative.
Napi::Value Qr64(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Float64Array y = info[0].As<Napi::Float64Array>();
    int64_t k = info[1].As<Napi::Number>().Int64Value();
    if (k <= 0 || y.ElementLength() % k != 0) throw std::invalid_argument("qr64: y must be k rows");
    int64_t n = static_cast<int64_t>(y.ElementLength()) / k;
    if (n < k) throw std::invalid_argument("qr64: needs at least as many entries per row as rows");
    at::Tensor Y = at::from_blob(y.Data(), {k, n}, at::kDouble);
    auto [Q, R] = at::linalg_qr(Y.t(), "reduced");
    at::Tensor sign = at::where(at::diagonal(R) < 0, -1.0, 1.0);
    Q = Q * sign.unsqueeze(0);
    R = R * sign.unsqueeze(1);
    Napi::Float64Array q = Napi::Float64Array::New(info.Env(), k * n), r = Napi::Float64Array::New(info.Env(), k * k);
    at::from_blob(q.Data(), {k, n}, at::kDouble).copy_(Q.t());
    at::from_blob(r.Data(), {k, k}, at::kDouble).copy_(R);
    Napi::Array out = Napi::Array::New(info.Env(), 2);
    out.Set(0u, q);
    out.Set(1u, r);
    return out;
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("upload", Napi::Function::New(env, Upload));
  exports.Set("download", Napi::Function::New(env, Download));
  exports.Set("free", Napi::Function::New(env, Free));
  exports.Set("run", Napi::Function::New(env, Run));
  exports.Set("kernels", Napi::Function::New(env, Kernels));
  exports.Set("stats", Napi::Function::New(env, Stats));
  exports.Set("configure", Napi::Function::New(env, Configure));
  exports.Set("synchronize", Napi::Function::New(env, Synchronize));
  exports.Set("gram64", Napi::Function::New(env, Gram64));
  exports.Set("qr64", Napi::Function::New(env, Qr64));
  repro::registerPrograms(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(repro_torch, Init)
