// Shared helpers for the umbra addon's source files: each file registers its
// functions on the exports object through one Register* call.
#pragma once
#include <napi.h>

#include <pthread.h>
#include <sched.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <string>
#include <thread>

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

// SCHED_FIFO 1 for these threads, all of them or none (it needs
// CAP_SYS_NICE): 0, or the error that refused it (the threads then stay normal).
inline int SetRealtime(std::initializer_list<std::thread*> threads) {
  sched_param fifo{};
  fifo.sched_priority = 1;
  int err = 0;
  for (std::thread* t : threads)
    if ((err = pthread_setschedparam(t->native_handle(), SCHED_FIFO, &fifo)) != 0) break;
  if (err != 0) {
    sched_param normal{};
    for (std::thread* t : threads) pthread_setschedparam(t->native_handle(), SCHED_OTHER, &normal);
  }
  return err;
}

// { ok, handle, realtime, realtimeError? } for threads started under `handle`
// with real-time priority asked for (`realtime`) and SetRealtime's result.
inline Napi::Object StartedResult(Napi::Env env, int handle, bool realtime, int rtErr) {
  Napi::Object out = OkResult(env);
  out.Set("handle", handle);
  out.Set("realtime", realtime && rtErr == 0);
  if (realtime && rtErr != 0) out.Set("realtimeError", std::strerror(rtErr));
  return out;
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
