// Native programs: a network recorded by the recording builder (src/models/program.ts) is
// compiled here once and run with libtorch's own operators and C++ autograd. One call trains K
// steps (batch gathered on the device from a data set uploaded once, forward, loss, backward,
// SGD update in place on the flat parameter and velocity buffers, the losses kept on the device
// until JavaScript reads them), or evaluates losses, gradients and Hessian-vector products (by
// double backward) over chunks of data. Parameters are one flat tensor in the tfjs layouts
// (dense [in, out], convolutions HWIO); the program splits it into views, so gradients arrive
// flat too. Images are NHWC in the data and NCHW inside, as PyTorch runs them.
#include "program.h"
#include "store.h"

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>

#include <dlfcn.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace repro {
namespace {

const std::unordered_map<std::string, Code> CODES = {
    {"dense", Code::Dense},     {"conv", Code::Conv},       {"batchNorm", Code::BatchNorm},
    {"relu", Code::Relu},       {"softplus", Code::Softplus}, {"maxPool2", Code::MaxPool2},
    {"avgPool", Code::AvgPool}, {"globalAvgPool", Code::GlobalAvgPool}, {"flatten", Code::Flatten},
    {"add", Code::Add},         {"concat", Code::Concat}};

std::unordered_map<int64_t, std::shared_ptr<Program>> programs;
int64_t nextProgram = 1;

const double BN_EPSILON = 1e-5;  // src/models/builder.ts

struct Sgd {
  double lr, momentum, dampening, weightDecay;
  bool nesterov;
};

struct Batch {
  at::Tensor x, y;
  double weight;
};

std::shared_ptr<Program> programShared(int64_t id) {
  auto it = programs.find(id);
  if (it == programs.end()) throw std::runtime_error("unknown program " + std::to_string(id));
  return it->second;
}

const Program& program(int64_t id) { return *programShared(id); }

std::vector<int64_t> ints(const Napi::Value& v) {
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

// Images in the data are NHWC. Training (first derivatives) runs them channels-last, as that
// memory already is: libtorch's CPU convolutions, pooling and batch norm are faster so (1.2-1.9x
// on the bench's train steps). Double backward runs contiguous NCHW, faster for it, with
// convolutions whose second derivatives avoid transposed convolutions (conv.cc).
enum class Layout { ChannelsLast, Nchw };

// The logits [batch, classes] of inputs x [batch, ...inputShape] at the flat parameters theta.
at::Tensor forward(const Program& p, const at::Tensor& theta, const at::Tensor& x, Layout layout) {
  std::vector<at::Tensor> parts = theta.split_with_sizes(p.sizes);
  auto param = [&](int64_t i) { return parts[i].view(p.shapes[i]); };
  bool cl = layout == Layout::ChannelsLast;
  std::vector<at::Tensor> v(p.ops.size() + 1);
  v[0] = !p.image() ? x : cl ? x.permute({0, 3, 1, 2}) : x.permute({0, 3, 1, 2}).contiguous();
  for (size_t k = 0; k < p.ops.size(); k++) {
    const Op& op = p.ops[k];
    const at::Tensor& a = v[op.in[0]];
    at::Tensor out;
    switch (op.code) {
      case Code::Dense:
        out = op.n[1] >= 0 ? at::addmm(param(op.n[1]), a, param(op.n[0])) : at::mm(a, param(op.n[0]));
        break;
      case Code::Conv: {
        c10::optional<at::Tensor> bias;
        if (op.n[1] >= 0) bias = param(op.n[1]);
        int64_t stride = op.n[2], top = op.n[3], bottom = op.n[4], left = op.n[5], right = op.n[6];
        at::Tensor in = a;
        std::vector<int64_t> padding = {top, left};
        if (top != bottom || left != right) {
          // tfjs's `same` under stride 2 pads one more row and column after than before.
          in = at::constant_pad_nd(a, {left, right, top, bottom}, 0);
          if (cl) in = in.contiguous(at::MemoryFormat::ChannelsLast);  // the pad's output is NCHW
          padding = {0, 0};
        }
        at::Tensor w = param(op.n[0]).permute({3, 2, 0, 1});
        if (!cl && padding[0] == padding[1])
          out = conv2dTwice(in, w, bias ? *bias : at::Tensor(), stride, padding[0]);
        else
          out = at::conv2d(in, w, bias, {stride, stride}, padding);
        break;
      }
      case Code::BatchNorm:
        out = at::batch_norm(a, param(op.n[0]), param(op.n[1]), {}, {}, true, 0.0, BN_EPSILON, true);
        break;
      case Code::Relu:
        // In place where nothing else reads the value and its maker does not keep it for its
        // gradient (a fresh tensor, not a view of the data): one allocation and pass fewer.
        out = p.reluInPlace[k] ? at::relu_(v[op.in[0]]) : at::relu(a);
        break;
      case Code::Softplus:
        out = at::softplus(a, 1, 20);
        break;
      case Code::MaxPool2:
        out = at::max_pool2d(a, {2, 2}, {2, 2});
        break;
      case Code::AvgPool:
        out = at::avg_pool2d(a, {op.n[0], op.n[0]}, {op.n[0], op.n[0]});
        break;
      case Code::GlobalAvgPool:
        out = a.mean({2, 3});
        break;
      case Code::Flatten:
        // tfjs flattens NHWC: the dense weights after it are in HWC order.
        out = a.dim() == 4 ? a.permute({0, 2, 3, 1}).reshape({a.size(0), -1}) : a;
        break;
      case Code::Add:
        out = at::add(a, v[op.in[1]]);
        break;
      case Code::Concat: {
        std::vector<at::Tensor> xs;
        for (int i : op.in) xs.push_back(v[i]);
        out = at::cat(xs, 1);
        break;
      }
    }
    v[k + 1] = std::move(out);
    for (int i : op.in)
      if (p.lastUse[i] == k && i != p.output) v[i].reset();
  }
  return v[p.output];
}

// The mean loss of logits z [batch, classes] against labels [batch] (src/losses/losses.ts).
at::Tensor lossOf(const Loss& l, const at::Tensor& z, const at::Tensor& labels) {
  int64_t k = z.size(1);
  at::Tensor hot = oneHot(labels, k, z.scalar_type());
  if (l.code == 1) return at::mse_loss(z, hot);
  at::Tensor t = hot * (1 - l.smoothing) + l.smoothing / static_cast<double>(k);
  return -(t * at::log_softmax(z, 1)).sum(1).mean();
}

}  // namespace

at::Tensor oneHot(const at::Tensor& labels, int64_t classes, at::ScalarType type) {
  at::Tensor range = at::arange(classes, labels.options().dtype(at::kLong));
  return at::eq(labels.to(at::kLong).unsqueeze(1), range).to(type);
}

namespace {

// A leaf that shares the stored parameters' memory: autograd differentiates with respect to it.
at::Tensor leafOf(const at::Tensor& flat) {
  at::Tensor t = flat.detach();
  t.set_requires_grad(true);
  return t;
}

at::Tensor gradient(const at::Tensor& loss, const at::Tensor& leaf, bool createGraph) {
  return torch::autograd::grad({loss}, {leaf}, {}, createGraph, createGraph)[0];
}

// The update below in one pass over the buffers (the CPU's memory traffic: seven tensor ops read
// and write the parameters 21 times, a third of a step of a 1.2M-parameter net): each float
// operation rounded as the tensor ops round it (the build turns off fused multiply-adds).
void sgdFused(float* theta, const float* grad, float* velocity, bool hasVelocity, const Sgd& s, int64_t n) {
  const float lr = static_cast<float>(s.lr), mu = static_cast<float>(s.momentum);
  const float wd = static_cast<float>(s.weightDecay), keep = static_cast<float>(1 - s.dampening);
  const bool decay = s.weightDecay != 0, momentum = s.momentum != 0, nesterov = s.nesterov;
  at::parallel_for(0, n, 16384, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      float d = decay ? grad[i] + theta[i] * wd : grad[i];
      if (momentum) {
        float v = hasVelocity ? velocity[i] * mu + d * keep : d;
        velocity[i] = v;
        d = nesterov ? d + v * mu : v;
      }
      theta[i] = theta[i] - d * lr;
    }
  });
}

// torch.optim.SGD in place, op for op as src/optim/sgd.ts computes it (so the same rounding).
void sgdUpdate(at::Tensor& theta, const at::Tensor& grad, at::Tensor& velocity, bool& hasVelocity, const Sgd& s) {
  at::NoGradGuard noGrad;
  if (s.momentum != 0 && !velocity.defined()) throw std::runtime_error("SGD with momentum needs a velocity buffer");
  bool fused = theta.is_cpu() && grad.is_cpu() && theta.scalar_type() == at::kFloat &&
               grad.scalar_type() == at::kFloat && theta.is_contiguous() && grad.is_contiguous() &&
               (!velocity.defined() || (velocity.is_cpu() && velocity.is_contiguous()));
  if (fused) {
    sgdFused(theta.data_ptr<float>(), grad.data_ptr<float>(), velocity.defined() ? velocity.data_ptr<float>() : nullptr,
             hasVelocity, s, theta.numel());
    if (s.momentum != 0) hasVelocity = true;
    return;
  }
  at::Tensor d = s.weightDecay != 0 ? at::add(grad, at::mul(theta, s.weightDecay)) : grad;
  if (s.momentum != 0) {
    if (!velocity.defined()) throw std::runtime_error("SGD with momentum needs a velocity buffer");
    if (hasVelocity) {
      velocity.mul_(s.momentum).add_(at::mul(d, 1 - s.dampening));
    } else {
      velocity.copy_(d);
      hasVelocity = true;
    }
    d = s.nesterov ? at::add(d, at::mul(velocity, s.momentum)) : velocity;
  }
  theta.sub_(at::mul(d, s.lr));
}

// Standard CIFAR augmentation on the device, the same copies as src/data/preprocess.ts's augment:
// params [batch, 3] int32 (row shift, column shift, flip) from augmentParams.
at::Tensor augment(const at::Tensor& x, const at::Tensor& params, int64_t pad) {
  int64_t b = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3);
  int64_t h2 = h + 2 * pad, w2 = w + 2 * pad;
  at::Tensor padded = at::constant_pad_nd(x, {0, 0, pad, pad, pad, pad}, 0);  // [b, h2, w2, c]
  at::Tensor prm = params.to(at::kLong);
  auto opts = prm.options();
  at::Tensor dy = prm.select(1, 0).unsqueeze(1), dx = prm.select(1, 1).unsqueeze(1);
  at::Tensor flip = prm.select(1, 2).unsqueeze(1).ne(0);
  at::Tensor rows = at::arange(h, opts).unsqueeze(0) + dy + pad;  // [b, h]
  at::Tensor from = at::arange(w, opts).unsqueeze(0) + dx;        // [b, w]
  at::Tensor cols = at::where(flip, from.neg() + (w - 1), from) + pad;
  at::Tensor base = (at::arange(b, opts).unsqueeze(1) * h2 + rows) * w2;  // [b, h]
  at::Tensor idx = base.unsqueeze(2) + cols.unsqueeze(1);                // [b, h, w]
  return padded.reshape({b * h2 * w2, c}).index_select(0, idx.reshape({-1})).view({b, h, w, c});
}

std::vector<int64_t> batchShape(const Program& p) {
  std::vector<int64_t> s = {-1};
  s.insert(s.end(), p.inputShape.begin(), p.inputShape.end());
  return s;
}

// batches: [[x handle, y handle, weight], ...]
std::vector<Batch> batchesOf(const Program& p, const Napi::Value& v) {
  Napi::Array a = v.As<Napi::Array>();
  std::vector<Batch> out;
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Array e = a.Get(i).As<Napi::Array>();
    at::Tensor x = get(e.Get(0u).As<Napi::Number>().Int64Value()).view(batchShape(p));
    at::Tensor y = get(e.Get(1u).As<Napi::Number>().Int64Value()).view({-1});
    out.push_back({x, y, e.Get(2u).As<Napi::Number>().DoubleValue()});
  }
  if (out.empty()) throw std::runtime_error("no data");
  return out;
}

Loss lossFrom(const Napi::CallbackInfo& info, size_t at) {
  return {info[at].As<Napi::Number>().Int32Value(), info[at + 1].As<Napi::Number>().DoubleValue()};
}

at::Tensor flatOf(const Napi::Value& v) { return get(v.As<Napi::Number>().Int64Value()).view({-1}); }

Napi::Number handle(Napi::Env env, at::Tensor t) {
  return Napi::Number::New(env, static_cast<double>(put(std::move(t))));
}

// programCompile({ inputShape, classes, params, ops: [{ op, inputs, nums }], output }) -> id
Napi::Value Compile(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Object spec = info[0].As<Napi::Object>();
    auto p = std::make_shared<Program>();
    p->inputShape = ints(spec.Get("inputShape"));
    p->classes = spec.Get("classes").As<Napi::Number>().Int64Value();
    Napi::Array params = spec.Get("params").As<Napi::Array>();
    for (uint32_t i = 0; i < params.Length(); i++) {
      p->shapes.push_back(ints(params.Get(i)));
      int64_t size = 1;
      for (int64_t d : p->shapes.back()) size *= d;
      p->sizes.push_back(size);
      p->offsets.push_back(p->count);
      p->count += size;
    }
    Napi::Array ops = spec.Get("ops").As<Napi::Array>();
    for (uint32_t k = 0; k < ops.Length(); k++) {
      Napi::Object o = ops.Get(k).As<Napi::Object>();
      std::string name = o.Get("op").As<Napi::String>().Utf8Value();
      auto code = CODES.find(name);
      if (code == CODES.end()) throw std::runtime_error("program op " + name + " is not implemented natively");
      Op op{code->second, {}, ints(o.Get("nums"))};
      for (int64_t i : ints(o.Get("inputs"))) {
        if (i < 0 || i > static_cast<int64_t>(k)) throw std::runtime_error("op " + name + " reads a later value");
        op.in.push_back(static_cast<int>(i));
      }
      if (op.in.empty()) throw std::runtime_error("op " + name + " has no input");
      p->ops.push_back(std::move(op));
    }
    p->output = spec.Get("output").As<Napi::Number>().Int32Value();
    if (p->output < 1 || p->output > static_cast<int>(p->ops.size())) throw std::runtime_error("bad program output");
    p->lastUse.assign(p->ops.size() + 1, 0);
    for (size_t k = 0; k < p->ops.size(); k++)
      for (int i : p->ops[k].in) p->lastUse[i] = k;
    p->reluInPlace.assign(p->ops.size(), false);
    for (size_t k = 0; k < p->ops.size(); k++) {
      const Op& op = p->ops[k];
      if (op.code != Code::Relu || op.in[0] == 0 || p->lastUse[op.in[0]] != k) continue;
      Code maker = p->ops[op.in[0] - 1].code;
      p->reluInPlace[k] = maker == Code::Conv || maker == Code::BatchNorm || maker == Code::Dense ||
                          maker == Code::Add || maker == Code::Concat || maker == Code::AvgPool;
    }
    // `autograd: true` keeps an MLP on the autograd path (tests compare the two).
    bool autograd = spec.Has("autograd") && spec.Get("autograd").As<Napi::Boolean>().Value();
    p->denseChain = !autograd && isDenseChain(*p);
    int64_t id = nextProgram++;
    programs.emplace(id, std::move(p));
    return Napi::Number::New(info.Env(), static_cast<double>(id));
  });
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  programs.erase(info[0].As<Napi::Number>().Int64Value());
  return info.Env().Undefined();
}

// programLosses(id, theta, batches, lossCode, smoothing) -> handle of the batches' losses [batches]
Napi::Value Losses(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Program& p = program(info[0].As<Napi::Number>().Int64Value());
    at::Tensor theta = flatOf(info[1]);
    Loss l = lossFrom(info, 3);
    at::NoGradGuard noGrad;
    std::vector<at::Tensor> out;
    for (const Batch& b : batchesOf(p, info[2]))
      out.push_back(lossOf(l, forward(p, theta, b.x, Layout::ChannelsLast), b.y));
    return handle(info.Env(), at::stack(out));
  });
}

// programGradient(id, theta, batches, lossCode, smoothing) -> [losses handle, gradient handle]:
// the batches' losses and the weighted sum of their gradients.
Napi::Value Gradient(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Program& p = program(info[0].As<Napi::Number>().Int64Value());
    at::Tensor theta = flatOf(info[1]);
    Loss l = lossFrom(info, 3);
    std::vector<at::Tensor> losses;
    at::Tensor total;
    for (const Batch& b : batchesOf(p, info[2])) {
      at::Tensor loss, g;
      if (p.denseChain) {
        g = at::empty({p.count}, theta.options());
        loss = denseLossAndGradient(p, theta, b.x, b.y, l, g);
      } else {
        at::Tensor leaf = leafOf(theta);
        loss = lossOf(l, forward(p, leaf, b.x, Layout::ChannelsLast), b.y);
        g = gradient(loss, leaf, false);
      }
      g = at::mul(g, b.weight);
      total = total.defined() ? at::add(total, g) : g;
      losses.push_back(loss.detach());
    }
    Napi::Array r = Napi::Array::New(info.Env(), 2);
    r.Set(0u, handle(info.Env(), at::stack(losses)));
    r.Set(1u, handle(info.Env(), total));
    return r;
  });
}

// programHvp(id, theta, v, batches, lossCode, smoothing) -> handle of H·v, the weighted sum over
// the batches of the gradient of <∇L, v> (double backward).
Napi::Value Hvp(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Program& p = program(info[0].As<Napi::Number>().Int64Value());
    at::Tensor theta = flatOf(info[1]), v = flatOf(info[2]);
    Loss l = lossFrom(info, 4);
    at::Tensor total;
    for (const Batch& b : batchesOf(p, info[3])) {
      at::Tensor hv;
      if (p.denseChain) {
        hv = denseHvp(p, theta, v, b.x, b.y, l);
      } else {
        at::Tensor leaf = leafOf(theta);
        at::Tensor g = gradient(lossOf(l, forward(p, leaf, b.x, Layout::Nchw), b.y), leaf, true);
        hv = gradient(at::dot(g, v), leaf, false);
      }
      hv = at::mul(hv, b.weight);
      total = total.defined() ? at::add(total, hv) : hv;
    }
    return handle(info.Env(), total);
  });
}

// LAPACK's two-stage symmetric eigensolver, eigenvalues only (dense to band with BLAS3, then band
// to tridiagonal): twice as fast as the one-stage dsyevd behind at::linalg_eigvalsh on a 6,220
// square matrix here (18 vs 36 s, one thread, the same eigenvalues to 12 digits). Looked up at run
// time in the LAPACK already loaded (Debian's liblapack or OpenBLAS); absent (a libtorch with MKL
// linked in), the one-stage solver serves.
using Dsyevd2Stage = void (*)(const char*, const char*, const int*, double*, const int*, double*, double*,
                              const int*, int*, const int*, int*);

Dsyevd2Stage twoStageSolver() {
  static const Dsyevd2Stage solver = []() -> Dsyevd2Stage {
    if (void* f = dlsym(RTLD_DEFAULT, "dsyevd_2stage_")) return reinterpret_cast<Dsyevd2Stage>(f);
    for (const char* lib : {"liblapack.so.3", "libopenblas.so.0"})
      if (void* h = dlopen(lib, RTLD_LAZY | RTLD_NOLOAD))
        if (void* f = dlsym(h, "dsyevd_2stage_")) return reinterpret_cast<Dsyevd2Stage>(f);
    return nullptr;
  }();
  return solver;
}

// Eigenvalues (ascending) of a symmetric float64 matrix, overwriting it (no second n×n copy: 310 MB
// at n = 6,220).
at::Tensor symmetricEigenvalues(at::Tensor h) {
  Dsyevd2Stage solve = twoStageSolver();
  const int64_t n64 = h.size(0);
  if (!solve || !h.is_cpu() || n64 < 2 || n64 > INT32_MAX / 4) return at::linalg_eigvalsh(h).to(at::kCPU);
  const int n = static_cast<int>(n64);
  at::Tensor a = h.contiguous();  // symmetric, so row-major is column-major
  at::Tensor w = at::empty({n64}, h.options());
  int lwork = -1, liwork = -1, info = 0, iq = 0;
  double wq = 0;
  solve("N", "L", &n, a.data_ptr<double>(), &n, w.data_ptr<double>(), &wq, &lwork, &iq, &liwork, &info);
  if (info != 0) return at::linalg_eigvalsh(h).to(at::kCPU);
  lwork = static_cast<int>(wq);
  liwork = iq;
  std::vector<double> work(static_cast<size_t>(lwork));
  std::vector<int> iwork(static_cast<size_t>(liwork));
  solve("N", "L", &n, a.data_ptr<double>(), &n, w.data_ptr<double>(), work.data(), &lwork, iwork.data(), &liwork,
        &info);
  if (info != 0) throw std::runtime_error("dsyevd_2stage failed to converge (info " + std::to_string(info) + ")");
  return w;
}

// programSpectrum(id, theta, batches, lossCode, smoothing) -> Promise of { eigenvalues:
// Float64Array (ascending), trace, loss }: the full Hessian of the weighted mean loss in float64
// (parameters and data converted to double, one column per Hessian-vector product, symmetrized),
// and its eigenvalues by LAPACK's symmetric solver (at::linalg_eigvalsh). n products and 8n²
// bytes: for small models. Float32 products would blur the ~n near-zero eigenvalues of an
// over-parameterized net by their rounding (about 1e-7 of the largest), the size of what fig2a
// sums. It runs on a worker thread (tens of seconds for 6,220 parameters): the event loop, and
// so the activity's heartbeats, go on meanwhile. The inputs are copied before it starts.
class SpectrumWorker : public Napi::AsyncWorker {
 public:
  SpectrumWorker(Napi::Env env, std::shared_ptr<const Program> p, at::Tensor theta, std::vector<Batch> batches, Loss l)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        p_(std::move(p)),
        theta_(std::move(theta)),
        batches_(std::move(batches)),
        l_(l) {}

  Napi::Promise promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      run();
    } catch (const c10::Error& e) {
      std::string msg = e.what_without_backtrace();
      SetError("torch: " + msg.substr(0, msg.find('\n')));
    } catch (const std::exception& e) {
      SetError(std::string("torch: ") + e.what());
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Float64Array out = Napi::Float64Array::New(env, values_.size());
    std::memcpy(out.Data(), values_.data(), sizeof(double) * values_.size());
    Napi::Object r = Napi::Object::New(env);
    r.Set("eigenvalues", out);
    r.Set("trace", Napi::Number::New(env, trace_));
    r.Set("loss", Napi::Number::New(env, loss_));
    deferred_.Resolve(r);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  void run() {
    const Program& p = *p_;
    const int64_t n = p.count;
    at::Tensor h = at::zeros({n, n}, theta_.options());
    {
      at::NoGradGuard noGrad;
      for (const Batch& b : batches_)
        loss_ += b.weight * lossOf(l_, forward(p, theta_, b.x, Layout::ChannelsLast), b.y).item<double>();
    }
    if (p.denseChain) {
      at::Tensor e = at::zeros({n}, theta_.options());
      for (int64_t j = 0; j < n; j++) {
        e[j] = 1;
        at::Tensor col = h.select(1, j);
        for (const Batch& b : batches_) col.add_(denseHvp(p, theta_, e, b.x, b.y, l_), b.weight);
        e[j] = 0;
      }
    } else {
      for (const Batch& b : batches_) {
        at::Tensor leaf = leafOf(theta_);
        at::Tensor g = gradient(lossOf(l_, forward(p, leaf, b.x, Layout::Nchw), b.y), leaf, true);
        for (int64_t j = 0; j < n; j++) {
          at::Tensor row = torch::autograd::grad({g[j]}, {leaf}, {}, true, false, true)[0];
          if (row.defined()) h.select(0, j).add_(row.detach(), b.weight);
        }
      }
    }
    h = (h + h.t()).mul_(0.5);
    trace_ = h.trace().item<double>();
    at::Tensor values = symmetricEigenvalues(std::move(h)).contiguous();  // h is not read after this
    values_.assign(values.data_ptr<double>(), values.data_ptr<double>() + n);
  }

  Napi::Promise::Deferred deferred_;
  std::shared_ptr<const Program> p_;
  at::Tensor theta_;
  std::vector<Batch> batches_;
  Loss l_;
  std::vector<double> values_;
  double trace_ = 0, loss_ = 0;
};

Napi::Value Spectrum(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<const Program> p = programShared(info[0].As<Napi::Number>().Int64Value());
    // Copies (double), so the tensors in the store may change or go while it runs.
    at::Tensor theta = flatOf(info[1]).to(at::kDouble).clone();
    std::vector<Batch> batches = batchesOf(*p, info[2]);
    for (Batch& b : batches) {
      b.x = b.x.to(at::kDouble).clone();
      b.y = b.y.clone();
    }
    auto* w = new SpectrumWorker(info.Env(), p, theta, std::move(batches), lossFrom(info, 3));
    Napi::Promise promise = w->promise();
    w->Queue();
    return promise;
  });
}

Sgd sgdFrom(const Napi::Value& v) {
  Napi::Float64Array a = v.As<Napi::Float64Array>();
  if (a.ElementLength() != 5)
    throw std::runtime_error("sgd: expected [lr, momentum, dampening, weightDecay, nesterov]");
  return {a[0], a[1], a[2], a[3], a[4] != 0};
}

// sgdUpdate(theta, grad, velocity | -1, hasVelocity, sgd) updates theta and velocity in place.
Napi::Value SgdUpdate(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    at::Tensor theta = flatOf(info[0]), grad = flatOf(info[1]);
    int64_t vh = info[2].As<Napi::Number>().Int64Value();
    at::Tensor velocity = vh >= 0 ? flatOf(info[2]) : at::Tensor();
    bool has = info[3].As<Napi::Boolean>().Value();
    sgdUpdate(theta, grad, velocity, has, sgdFrom(info[4]));
    return info.Env().Undefined();
  });
}

// programTrain(id, theta, velocity | -1, hasVelocity, dataX, dataY, order, start, batch, steps,
//              augment | -1, padding, sgd, lossCode, smoothing) -> handle of the steps' losses
// Step k trains on the samples order[start + k·batch, start + (k + 1)·batch) of the data set
// (augmented by augment[k] when given) and updates theta and velocity in place.
Napi::Value Train(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Program& p = program(info[0].As<Napi::Number>().Int64Value());
    at::Tensor theta = flatOf(info[1]);
    int64_t vh = info[2].As<Napi::Number>().Int64Value();
    at::Tensor velocity = vh >= 0 ? flatOf(info[2]) : at::Tensor();
    bool has = info[3].As<Napi::Boolean>().Value();
    at::Tensor xs = get(info[4].As<Napi::Number>().Int64Value());
    xs = xs.view(batchShape(p));
    at::Tensor ys = flatOf(info[5]), order = flatOf(info[6]);
    int64_t start = info[7].As<Napi::Number>().Int64Value(), batch = info[8].As<Napi::Number>().Int64Value();
    int64_t steps = info[9].As<Napi::Number>().Int64Value();
    int64_t ah = info[10].As<Napi::Number>().Int64Value();
    at::Tensor aug = ah >= 0 ? get(ah).view({steps, batch, 3}) : at::Tensor();
    int64_t padding = info[11].As<Napi::Number>().Int64Value();
    Sgd sgd = sgdFrom(info[12]);
    Loss l = lossFrom(info, 13);
    if (start < 0 || start + steps * batch > order.size(0)) throw std::runtime_error("train: steps beyond the order");
    std::vector<at::Tensor> losses;
    at::Tensor g = p.denseChain ? at::empty({p.count}, theta.options()) : at::Tensor();
    for (int64_t k = 0; k < steps; k++) {
      at::Tensor idx = order.narrow(0, start + k * batch, batch);
      at::Tensor x = xs.index_select(0, idx), y = ys.index_select(0, idx);
      if (aug.defined()) x = augment(x, aug[k], padding);
      at::Tensor loss;
      if (p.denseChain) {
        loss = denseLossAndGradient(p, theta, x, y, l, g);
      } else {
        at::Tensor leaf = leafOf(theta);
        loss = lossOf(l, forward(p, leaf, x, Layout::ChannelsLast), y);
        g = gradient(loss, leaf, false);
      }
      sgdUpdate(theta, g, velocity, has, sgd);
      losses.push_back(loss.detach());
    }
    return handle(info.Env(), at::stack(losses));
  });
}

// Philox4x32-10 as src/rng/philox.ts computes it (exact uint32 arithmetic, IEEE doubles), so the
// epoch order below is the trainer's permutation() bit for bit, without its cost in JavaScript.
void philox(uint32_t c[4], uint32_t k0, uint32_t k1) {
  const uint32_t M0 = 0xd2511f53u, M1 = 0xcd9e8d57u, W0 = 0x9e3779b9u, W1 = 0xbb67ae85u;
  for (int round = 0; round < 10; round++) {
    uint64_t p0 = static_cast<uint64_t>(M0) * c[0], p1 = static_cast<uint64_t>(M1) * c[2];
    uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    uint32_t n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
    c[0] = n0;
    c[1] = lo1;
    c[2] = n2;
    c[3] = lo0;
    k0 += W0;
    k1 += W1;
  }
}

// permutation(n, key0, key1, stream, step) -> handle of an int32 [n] tensor on the device:
// Fisher-Yates with the uniform of (step, index i) for position i, as src/data/preprocess.ts.
Napi::Value Permutation(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    int64_t n = info[0].As<Napi::Number>().Int64Value();
    uint32_t k0 = info[1].As<Napi::Number>().Uint32Value(), k1 = info[2].As<Napi::Number>().Uint32Value();
    uint32_t stream = info[3].As<Napi::Number>().Uint32Value();
    double step = info[4].As<Napi::Number>().DoubleValue();
    uint32_t stepLo = static_cast<uint32_t>(std::fmod(step, 4294967296.0));
    uint32_t stepHi = static_cast<uint32_t>(std::floor(step / 4294967296.0));
    at::Tensor out = at::arange(n, at::TensorOptions().dtype(at::kInt));
    int32_t* p = out.data_ptr<int32_t>();
    for (int64_t i = n - 1; i > 0; i--) {
      uint32_t c[4] = {static_cast<uint32_t>(i), stepLo, stepHi, stream};
      philox(c, k0, k1);
      double u = (static_cast<double>(c[0] >> 5) * 67108864.0 + static_cast<double>(c[1] >> 6) + 0.5) /
                 9007199254740992.0;
      int64_t j = static_cast<int64_t>(std::floor(u * static_cast<double>(i + 1)));
      std::swap(p[i], p[j]);
    }
    c10::Device device = currentDevice();
    return handle(info.Env(), device.is_cpu() ? out : out.pin_memory().to(device, /*non_blocking=*/true));
  });
}

// augmentImages(x [n, h, w, c], params [n, 3] int32, padding) -> handle: the device augmentation
// alone, so tests can hold it to src/data/preprocess.ts's augment bit for bit.
Napi::Value AugmentImages(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    at::Tensor x = get(info[0].As<Napi::Number>().Int64Value());
    at::Tensor params = get(info[1].As<Napi::Number>().Int64Value()).view({x.size(0), 3});
    return handle(info.Env(), augment(x, params, info[2].As<Napi::Number>().Int64Value()));
  });
}

}  // namespace

void registerPrograms(Napi::Env env, Napi::Object exports) {
  exports.Set("augmentImages", Napi::Function::New(env, AugmentImages));
  exports.Set("permutation", Napi::Function::New(env, Permutation));
  exports.Set("programCompile", Napi::Function::New(env, Compile));
  exports.Set("programFree", Napi::Function::New(env, Free));
  exports.Set("programLosses", Napi::Function::New(env, Losses));
  exports.Set("programGradient", Napi::Function::New(env, Gradient));
  exports.Set("programHvp", Napi::Function::New(env, Hvp));
  exports.Set("programSpectrum", Napi::Function::New(env, Spectrum));
  exports.Set("programTrain", Napi::Function::New(env, Train));
  exports.Set("sgdUpdate", Napi::Function::New(env, SgdUpdate));
}

}  // namespace repro
