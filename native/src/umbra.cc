// umbra's native module: the few Linux calls Node cannot make by itself.
// Kept deliberately small; everything that is plain file I/O also has a pure-JS
// path in native/addon.ts so umbra works when this module fails to build.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

long PerfEventOpen(perf_event_attr* attr, pid_t pid, int cpu, int groupFd, unsigned long flags) {
  return syscall(__NR_perf_event_open, attr, pid, cpu, groupFd, flags);
}

// probePerfEvent(type, config) -> { ok, errno, error }
// Opens the event for the calling thread, reads it once and closes it, so the
// probe leaves nothing behind. type/config follow perf_event_open(2).
Napi::Value ProbePerfEvent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "probePerfEvent(type: number, config: number)").ThrowAsJavaScriptException();
    return env.Null();
  }
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = info[0].As<Napi::Number>().Uint32Value();
  attr.config = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  Napi::Object out = Napi::Object::New(env);
  long fd = PerfEventOpen(&attr, 0, -1, -1, 0);
  if (fd < 0) {
    int e = errno;
    out.Set("ok", false);
    out.Set("errno", e);
    out.Set("error", std::strerror(e));
    return out;
  }
  ioctl(static_cast<int>(fd), PERF_EVENT_IOC_ENABLE, 0);
  volatile unsigned long spin = 0;
  for (int i = 0; i < 10000; ++i) spin += i;
  ioctl(static_cast<int>(fd), PERF_EVENT_IOC_DISABLE, 0);
  uint64_t value = 0;
  ssize_t n = read(static_cast<int>(fd), &value, sizeof(value));
  close(static_cast<int>(fd));
  out.Set("ok", n == static_cast<ssize_t>(sizeof(value)));
  out.Set("errno", 0);
  out.Set("value", Napi::Number::New(env, static_cast<double>(value)));
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("probePerfEvent", Napi::Function::New(env, ProbePerfEvent));
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

}  // namespace

NODE_API_MODULE(umbra, Init)
