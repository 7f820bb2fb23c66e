// Hand-written kernels for programs that are a chain of dense layers and activations (the MLPs):
// backpropagation for gradients, and Pearlmutter's R-operator for Hessian-vector products (one
// forward and one backward pass along the direction, instead of double backward through the
// autograd graph). For these small layers libtorch's autograd bookkeeping costs as much as the
// matrix products; here each product is one BLAS call, the first layer's two forward products
// share one call, and gradients are written straight into the flat output. The numbers are the
// autograd path's to float32 rounding (test/unit/torch-native.test.ts compares both with tfjs).
#include "program.h"

#include <ATen/core/grad_mode.h>

#include <stdexcept>

namespace repro {
namespace {

struct Layer {
  Code code;
  int64_t weight = -1, bias = -1;  // parameter indices of a dense layer
};

std::vector<Layer> layersOf(const Program& p) {
  std::vector<Layer> out;
  for (const Op& op : p.ops) {
    bool dense = op.code == Code::Dense;
    out.push_back({op.code, dense ? op.n[0] : -1, dense ? op.n[1] : -1});
  }
  return out;
}

at::Tensor view(const Program& p, const at::Tensor& flat, int64_t i) {
  return flat.narrow(0, p.offsets[i], p.sizes[i]).view(p.shapes[i]);
}

// The first dense layer: no gradient is needed below it.
size_t firstDense(const std::vector<Layer>& layers) {
  for (size_t k = 0; k < layers.size(); k++)
    if (layers[k].code == Code::Dense) return k;
  return layers.size();
}

// The loss of logits z and its gradient dz (mean over the batch, as src/losses/losses.ts).
at::Tensor lossAndGrad(const Loss& l, const at::Tensor& z, const at::Tensor& y, at::Tensor& dz, at::Tensor* p) {
  int64_t b = z.size(0), k = z.size(1);
  at::Tensor hot = oneHot(y, k, z.scalar_type());
  if (l.code == 1) {
    at::Tensor d = z - hot;
    dz = d * (2.0 / static_cast<double>(b * k));
    return at::mse_loss(z, hot);
  }
  at::Tensor t = hot * (1 - l.smoothing) + l.smoothing / static_cast<double>(k);
  at::Tensor lp = at::log_softmax(z, 1);
  at::Tensor prob = lp.exp();
  dz = (prob - t).div_(static_cast<double>(b));
  if (p) *p = prob;
  return -(t * lp).sum(1).mean();
}

}  // namespace

bool isDenseChain(const Program& p) {
  if (p.output != static_cast<int>(p.ops.size())) return false;
  for (size_t k = 0; k < p.ops.size(); k++) {
    const Op& op = p.ops[k];
    if (op.in.size() != 1 || op.in[0] != static_cast<int>(k)) return false;
    bool ok = op.code == Code::Dense || op.code == Code::Relu || op.code == Code::Softplus ||
              (op.code == Code::Flatten && k == 0);
    if (!ok) return false;
  }
  // Flat inputs, or an image flattened first (its NHWC memory is tfjs's flattening order).
  return p.inputShape.size() == 1 || (!p.ops.empty() && p.ops[0].code == Code::Flatten);
}

at::Tensor denseLossAndGradient(const Program& p, const at::Tensor& theta, const at::Tensor& x, const at::Tensor& y,
                                const Loss& l, at::Tensor& grad) {
  at::NoGradGuard noGrad;
  std::vector<Layer> layers = layersOf(p);
  std::vector<at::Tensor> a = {x.reshape({x.size(0), -1})};  // a[k]: the input of op k
  for (const Layer& L : layers) {
    const at::Tensor& in = a.back();
    switch (L.code) {
      case Code::Dense:
        a.push_back(L.bias >= 0 ? at::addmm(view(p, theta, L.bias), in, view(p, theta, L.weight))
                                : at::mm(in, view(p, theta, L.weight)));
        break;
      case Code::Relu:
        a.push_back(at::relu(in));
        break;
      case Code::Softplus:
        a.push_back(at::softplus(in, 1, 20));
        break;
      default:
        a.push_back(in);
    }
  }
  at::Tensor g;
  at::Tensor loss = lossAndGrad(l, a.back(), y, g, nullptr);
  size_t first = firstDense(layers);
  for (size_t k = layers.size(); k-- > first;) {
    const Layer& L = layers[k];
    switch (L.code) {
      case Code::Dense: {
        at::Tensor gw = view(p, grad, L.weight);
        at::mm_out(gw, a[k].t(), g);
        if (L.bias >= 0) {
          at::Tensor gb = view(p, grad, L.bias);
          at::sum_out(gb, g, {0});
        }
        if (k > first) g = at::mm(g, view(p, theta, L.weight).t());
        break;
      }
      case Code::Relu:
        g = at::threshold_backward(g, a[k + 1], 0);
        break;
      case Code::Softplus:
        g = at::softplus_backward(g, a[k], 1, 20);
        break;
      default:
        break;
    }
  }
  return loss;
}

at::Tensor denseHvp(const Program& p, const at::Tensor& theta, const at::Tensor& v, const at::Tensor& x,
                    const at::Tensor& y, const Loss& l) {
  at::NoGradGuard noGrad;
  std::vector<Layer> layers = layersOf(p);
  size_t first = firstDense(layers);
  // a[k], ra[k]: the input of op k and its directional derivative along v (undefined: zero).
  std::vector<at::Tensor> a = {x.reshape({x.size(0), -1})}, ra = {at::Tensor()};
  for (size_t k = 0; k < layers.size(); k++) {
    const Layer& L = layers[k];
    const at::Tensor &in = a[k], &rin = ra[k];
    at::Tensor out, rout;
    switch (L.code) {
      case Code::Dense: {
        at::Tensor w = view(p, theta, L.weight), vw = view(p, v, L.weight);
        if (!rin.defined()) {
          // The input does not move along v: one product gives both [in·W | in·V].
          int64_t units = w.size(1);
          at::Tensor both = L.bias >= 0 ? at::addmm(at::cat({view(p, theta, L.bias), view(p, v, L.bias)}), in,
                                                    at::cat({w, vw}, 1))
                                        : at::mm(in, at::cat({w, vw}, 1));
          out = both.narrow(1, 0, units);
          rout = both.narrow(1, units, units);
        } else {
          out = L.bias >= 0 ? at::addmm(view(p, theta, L.bias), in, w) : at::mm(in, w);
          rout = L.bias >= 0 ? at::addmm(view(p, v, L.bias), rin, w) : at::mm(rin, w);
          rout.addmm_(in, vw);
        }
        break;
      }
      case Code::Relu:
        out = at::relu(in);
        if (rin.defined()) rout = at::threshold_backward(rin, out, 0);
        break;
      case Code::Softplus:
        out = at::softplus(in, 1, 20);
        if (rin.defined()) rout = at::softplus_backward(rin, in, 1, 20);
        break;
      default:
        out = in;
        rout = rin;
    }
    a.push_back(out);
    ra.push_back(rout);
  }
  at::Tensor g, prob;
  lossAndGrad(l, a.back(), y, g, &prob);
  const at::Tensor& rz = ra.back();
  int64_t b = rz.size(0), k = rz.size(1);
  at::Tensor rg = l.code == 1 ? rz * (2.0 / static_cast<double>(b * k))
                              : (prob * (rz - (prob * rz).sum(1, true))).div_(static_cast<double>(b));
  at::Tensor hv = at::zeros({p.count}, theta.options());
  for (size_t j = layers.size(); j-- > first;) {
    const Layer& L = layers[j];
    switch (L.code) {
      case Code::Dense: {
        at::Tensor hw = view(p, hv, L.weight);
        at::mm_out(hw, a[j].t(), rg);
        if (ra[j].defined()) hw.addmm_(ra[j].t(), g);
        if (L.bias >= 0) {
          at::Tensor hb = view(p, hv, L.bias);
          at::sum_out(hb, rg, {0});
        }
        if (j > first) {
          at::Tensor w = view(p, theta, L.weight);
          rg = at::mm(rg, w.t()).addmm_(g, view(p, v, L.weight).t());
          g = at::mm(g, w.t());
        }
        break;
      }
      case Code::Relu:
        // ReLU's second derivative is 0 almost everywhere: both go through the same mask.
        rg = at::threshold_backward(rg, a[j + 1], 0);
        g = at::threshold_backward(g, a[j + 1], 0);
        break;
      case Code::Softplus: {
        at::Tensor s = at::sigmoid(a[j]);
        at::Tensor next = g * s;
        rg = rg * s;
        if (ra[j].defined()) rg.add_(g * s * (1 - s) * ra[j]);
        g = next;
        break;
      }
      default:
        break;
    }
  }
  return hv;
}

}  // namespace repro
