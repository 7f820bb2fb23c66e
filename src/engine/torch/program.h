// A native program (program.cc) as the addon holds it, shared with the hand-written kernels of
// dense chains (dense.cc).
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace repro {

enum class Code { Dense, Conv, BatchNorm, Relu, Softplus, MaxPool2, AvgPool, GlobalAvgPool, Flatten, Add, Concat };

struct Op {
  Code code;
  std::vector<int> in;  // values read: 0 is the input, op k produces value k + 1
  std::vector<int64_t> n;
};

struct Program {
  std::vector<int64_t> inputShape;  // per sample, tfjs layout
  int64_t classes = 0;
  std::vector<std::vector<int64_t>> shapes;  // parameters, tfjs layouts, in flat order
  std::vector<int64_t> sizes;
  std::vector<int64_t> offsets;
  int64_t count = 0;
  std::vector<Op> ops;
  int output = 0;
  std::vector<size_t> lastUse;  // per value, the last op that reads it
  std::vector<bool> reluInPlace;  // per op: a ReLU that may overwrite its input
  // A chain of dense layers and activations on flat inputs (an MLP): runs on dense.cc's kernels.
  bool denseChain = false;
  bool image() const { return inputShape.size() == 3; }
};

struct Loss {
  int code;  // 0: label-smoothed cross entropy, 1: mean squared error against one-hot targets
  double smoothing;
};

// One-hot float targets [batch, classes] for int labels [batch].
at::Tensor oneHot(const at::Tensor& labels, int64_t classes, at::ScalarType type);

// Whether `p` is a chain that dense.cc's kernels run.
bool isDenseChain(const Program& p);
// The mean loss at theta over (x, y); writes its gradient into `grad` (flat, [count]).
at::Tensor denseLossAndGradient(const Program& p, const at::Tensor& theta, const at::Tensor& x, const at::Tensor& y,
                                const Loss& l, at::Tensor& grad);
// H·v at theta over (x, y) by Pearlmutter's R-operator (forward and backward passes along v).
at::Tensor denseHvp(const Program& p, const at::Tensor& theta, const at::Tensor& v, const at::Tensor& x,
                    const at::Tensor& y, const Loss& l);

// at::conv2d (symmetric padding) whose double backward runs convolutions and their
// backward passes only (conv.cc), never libtorch's slow transposed convolution on the CPU.
at::Tensor conv2dTwice(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, int64_t stride,
                       int64_t padding);

}  // namespace repro
