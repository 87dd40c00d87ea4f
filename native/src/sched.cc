// sched_setaffinity / sched_getaffinity for one thread id (the runner walks
// /proc/<pid>/task itself, since affinity is per thread).
#include "common.h"

#include <sched.h>
#include <time.h>

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

// sleepUntilNs(monotonicNs): block the calling thread until CLOCK_MONOTONIC
// (the clock process.hrtime reads) reaches the deadline. A wakeup costs a
// fraction of what a libuv timer round trip does, which matters for a 100 Hz
// control loop whose whole budget is 1% of a core.
Napi::Value SleepUntilNs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowUsage(env, "sleepUntilNs(monotonicNs: number)");
    return env.Null();
  }
  double ns = info[0].As<Napi::Number>().DoubleValue();
  if (!(ns > 0)) return OkResult(env);
  timespec ts;
  ts.tv_sec = static_cast<time_t>(ns / 1e9);
  ts.tv_nsec = static_cast<long>(ns - static_cast<double>(ts.tv_sec) * 1e9);
  if (ts.tv_nsec < 0) ts.tv_nsec = 0;
  if (ts.tv_nsec >= 1000000000L) ts.tv_nsec = 999999999L;
  int rc;
  do {
    rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
  } while (rc == EINTR);
  if (rc != 0) return ErrnoResult(env, rc);
  return OkResult(env);
}

// threadCpuNs(): CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), ns.
// Precise, unlike getrusage's tick-sampled user/system split, so the control
// loop's own cost can be measured per tick.
Napi::Value ThreadCpuNs(const Napi::CallbackInfo& info) {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return Napi::Number::New(info.Env(), static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec));
}

}  // namespace

void RegisterSched(Napi::Env env, Napi::Object exports) {
  exports.Set("setAffinity", Napi::Function::New(env, SetAffinity));
  exports.Set("getAffinity", Napi::Function::New(env, GetAffinity));
  exports.Set("sleepUntilNs", Napi::Function::New(env, SleepUntilNs));
  exports.Set("threadCpuNs", Napi::Function::New(env, ThreadCpuNs));
}

}  // namespace umbra
