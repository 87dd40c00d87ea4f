// sched_setaffinity / sched_getaffinity for one thread id (the runner walks
// /proc/<pid>/task itself, since affinity is per thread).
#include "common.h"

#include <sched.h>

namespace umbra {
namespace {

Napi::Value SetAffinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsArray()) {
    ThrowUsage(env, "setAffinity(tid: number, cpus: number[])");
    return env.Null();
  }
  pid_t tid = info[0].As<Napi::Number>().Int32Value();
  Napi::Array cpus = info[1].As<Napi::Array>();
  cpu_set_t set;
  CPU_ZERO(&set);
  for (uint32_t i = 0; i < cpus.Length(); ++i) {
    Napi::Value v = cpus.Get(i);
    if (!v.IsNumber()) {
      ThrowUsage(env, "setAffinity: cpus must be numbers");
      return env.Null();
    }
    int c = v.As<Napi::Number>().Int32Value();
    if (c < 0 || c >= CPU_SETSIZE) return ErrnoResult(env, EINVAL);
    CPU_SET(c, &set);
  }
  if (sched_setaffinity(tid, sizeof(set), &set) != 0) return ErrnoResult(env, errno);
  return OkResult(env);
}

Napi::Value GetAffinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowUsage(env, "getAffinity(tid: number)");
    return env.Null();
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(info[0].As<Napi::Number>().Int32Value(), sizeof(set), &set) != 0) return ErrnoResult(env, errno);
  Napi::Array cpus = Napi::Array::New(env);
  uint32_t k = 0;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.Set(k++, Napi::Number::New(env, c));
  Napi::Object out = OkResult(env);
  out.Set("cpus", cpus);
  return out;
}

}  // namespace

void RegisterSched(Napi::Env env, Napi::Object exports) {
  exports.Set("setAffinity", Napi::Function::New(env, SetAffinity));
  exports.Set("getAffinity", Napi::Function::New(env, GetAffinity));
}

}  // namespace umbra
