// The addon's tensor table, shared by the tfjs kernels (addon.cc) and the native programs
// (program.cc): JavaScript holds integer handles, one per tfjs dataId; every stored tensor is
// contiguous and of a tfjs dtype (float32, int32, bool).
#pragma once
#include <napi.h>
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace repro {

// Stores `t` (int64 and float64 narrowed to int32 and float32, made contiguous); returns its handle.
int64_t put(at::Tensor t);
// The tensor behind a handle; throws for an unknown one.
const at::Tensor& get(int64_t handle);
// Replaces the tensor behind a live handle (same dtype; the byte count is kept up to date).
void replace(int64_t handle, at::Tensor t);
// The device tensors are made on (configure's `device`).
c10::Device currentDevice();
// The addon's build identity: the SHA-256 prefix of its sources (set by build-torch.sh).
std::string buildId();

// Runs `f`, turning ATen's and our errors into one-line JavaScript errors.
template <typename F>
Napi::Value guarded(Napi::Env env, F f) {
  try {
    return f();
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    Napi::Error::New(env, "torch: " + msg.substr(0, msg.find('\n'))).ThrowAsJavaScriptException();
  } catch (const std::exception& e) {
    Napi::Error::New(env, std::string("torch: ") + e.what()).ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

// Adds the native-program functions (program.cc) to the addon's exports.
void registerPrograms(Napi::Env env, Napi::Object exports);

}  // namespace repro
