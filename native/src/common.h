// Shared helpers for the umbra addon's source files: each file registers its
// functions on the exports object through one Register* call.
#pragma once
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace umbra {

// { ok: false, errno, error } for a failed syscall, so JS sees the exact errno
// (e.g. ENOENT for a missing PMU event, EBUSY for a cpuset in use).
inline Napi::Object ErrnoResult(Napi::Env env, int err) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("ok", false);
  out.Set("errno", err);
  out.Set("error", std::strerror(err));
  return out;
}

inline Napi::Object OkResult(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("ok", true);
  out.Set("errno", 0);
  return out;
}

inline bool ArgsAre(const Napi::CallbackInfo& info, size_t n, const char* usage) {
  if (info.Length() < n) {
    Napi::TypeError::New(info.Env(), usage).ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

inline void ThrowUsage(Napi::Env env, const char* usage) {
  Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
}

void RegisterPerf(Napi::Env env, Napi::Object exports);
void RegisterFiles(Napi::Env env, Napi::Object exports);
void RegisterSched(Napi::Env env, Napi::Object exports);
void RegisterMemory(Napi::Env env, Napi::Object exports);
void RegisterMicrobench(Napi::Env env, Napi::Object exports);
void RegisterLlc(Napi::Env env, Napi::Object exports);
void RegisterLoadgen(Napi::Env env, Napi::Object exports);
void RegisterWaker(Napi::Env env, Napi::Object exports);

}  // namespace umbra
