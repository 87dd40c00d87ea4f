// perf_event_open(2) per task: counter groups opened on a pid (optionally
// inherited by the threads and children it creates later), read as one group
// so the values share one enabled/running time, and a batched read of many
// groups in one call for the 10 ms control loop.
#include "common.h"

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

namespace umbra {
namespace {

constexpr uint64_t kReadFormat = PERF_FORMAT_GROUP | PERF_FORMAT_ID | PERF_FORMAT_TOTAL_TIME_ENABLED |
                                 PERF_FORMAT_TOTAL_TIME_RUNNING;
// A counter read alone (value, enabled, running: 24 bytes). The kernel's group
// read allocates a buffer on every read; the 16 task-clock counters the
// control loop reads each tick cost 27 us cold this way against 35 us as
// one-member groups (2-vCPU VM).
constexpr uint64_t kReadFormatSingle = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
// Largest group we read: header (nr, enabled, running) + 16 (value, id) pairs.
constexpr size_t kMaxGroup = 16;

long PerfEventOpen(perf_event_attr* attr, pid_t pid, int cpu, int groupFd, unsigned long flags) {
  return syscall(__NR_perf_event_open, attr, pid, cpu, groupFd, flags);
}

// probePerfEvent(type, config) -> { ok, errno, error, value }
// Opens the event for the calling thread, reads it once and closes it, so the
// probe leaves nothing behind.
Napi::Value ProbePerfEvent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    ThrowUsage(env, "probePerfEvent(type: number, config: number)");
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
  long fd = PerfEventOpen(&attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) return ErrnoResult(env, errno);
  ioctl(static_cast<int>(fd), PERF_EVENT_IOC_ENABLE, 0);
  volatile unsigned long spin = 0;
  for (int i = 0; i < 10000; ++i) spin += i;
  ioctl(static_cast<int>(fd), PERF_EVENT_IOC_DISABLE, 0);
  uint64_t value = 0;
  ssize_t n = read(static_cast<int>(fd), &value, sizeof(value));
  close(static_cast<int>(fd));
  Napi::Object out = OkResult(env);
  out.Set("ok", n == static_cast<ssize_t>(sizeof(value)));
  out.Set("value", Napi::Number::New(env, static_cast<double>(value)));
  return out;
}

// perfOpen(pid, type, config, groupFd, inherit, single?) -> { ok, fd, id } | { ok: false, errno, error }
// Counts user and kernel time for the task (kernel time is dropped and the open
// retried when the caller lacks the privilege for it). The group leader is
// opened with groupFd = -1; members pass the leader's fd. single: a counter
// that will have no members, read in the cheaper non-group format (ReadGroup
// takes both).
Napi::Value PerfOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber() ||
      !info[3].IsNumber() || !info[4].IsBoolean() || (info.Length() > 5 && !info[5].IsBoolean())) {
    ThrowUsage(env, "perfOpen(pid: number, type: number, config: number, groupFd: number, inherit: boolean, single?: boolean)");
    return env.Null();
  }
  const bool single = info.Length() > 5 && info[5].As<Napi::Boolean>().Value();
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = info[1].As<Napi::Number>().Uint32Value();
  attr.config = static_cast<uint64_t>(info[2].As<Napi::Number>().Int64Value());
  attr.read_format = single ? kReadFormatSingle : kReadFormat;
  attr.inherit = info[4].As<Napi::Boolean>().Value() ? 1 : 0;
  attr.exclude_hv = 1;
  pid_t pid = static_cast<pid_t>(info[0].As<Napi::Number>().Int32Value());
  int groupFd = info[3].As<Napi::Number>().Int32Value();
  long fd = PerfEventOpen(&attr, pid, -1, groupFd, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0 && (errno == EACCES || errno == EPERM)) {
    attr.exclude_kernel = 1;
    fd = PerfEventOpen(&attr, pid, -1, groupFd, PERF_FLAG_FD_CLOEXEC);
  }
  if (fd < 0) return ErrnoResult(env, errno);
  uint64_t id = 0;
  ioctl(static_cast<int>(fd), PERF_EVENT_IOC_ID, &id);
  Napi::Object out = OkResult(env);
  out.Set("fd", Napi::Number::New(env, static_cast<double>(fd)));
  out.Set("id", Napi::Number::New(env, static_cast<double>(id)));
  out.Set("excludeKernel", attr.exclude_kernel == 1);
  return out;
}

// Reads one group: fills values in group order. Returns the number of members
// or -errno. A counter opened single reads as a group of one (24 bytes:
// value, enabled, running; a group read is at least 40: nr, enabled,
// running, value, id).
long ReadGroup(int fd, uint64_t* enabled, uint64_t* running, uint64_t* values, uint64_t* ids) {
  uint64_t buf[3 + 2 * kMaxGroup];
  ssize_t n = read(fd, buf, sizeof(buf));
  if (n < 0) return -errno;
  if (n < static_cast<ssize_t>(3 * sizeof(uint64_t))) return -EIO;
  if (n == static_cast<ssize_t>(3 * sizeof(uint64_t))) {
    values[0] = buf[0];
    *enabled = buf[1];
    *running = buf[2];
    if (ids) ids[0] = 0;
    return 1;
  }
  uint64_t nr = buf[0];
  if (nr > kMaxGroup) nr = kMaxGroup;
  *enabled = buf[1];
  *running = buf[2];
  for (uint64_t i = 0; i < nr; ++i) {
    values[i] = buf[3 + 2 * i];
    if (ids) ids[i] = buf[4 + 2 * i];
  }
  return static_cast<long>(nr);
}

// perfReadGroup(fd) -> { ok, timeEnabledNs, timeRunningNs, values[], ids[] }
Napi::Value PerfReadGroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowUsage(env, "perfReadGroup(fd: number)");
    return env.Null();
  }
  uint64_t enabled = 0, running = 0, values[kMaxGroup], ids[kMaxGroup];
  long nr = ReadGroup(info[0].As<Napi::Number>().Int32Value(), &enabled, &running, values, ids);
  if (nr < 0) return ErrnoResult(env, static_cast<int>(-nr));
  Napi::Object out = OkResult(env);
  out.Set("timeEnabledNs", Napi::Number::New(env, static_cast<double>(enabled)));
  out.Set("timeRunningNs", Napi::Number::New(env, static_cast<double>(running)));
  Napi::Array vs = Napi::Array::New(env, nr);
  Napi::Array is = Napi::Array::New(env, nr);
  for (long i = 0; i < nr; ++i) {
    vs.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(values[i])));
    is.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(ids[i])));
  }
  out.Set("values", vs);
  out.Set("ids", is);
  return out;
}

// perfReadGroups(fds: Int32Array, out: Float64Array, stride) -> number of groups read
// out[i*stride + 0] = members read (or -errno), +1 enabled ns, +2 running ns,
// +3.. values in group order. One call per control tick for every task.
Napi::Value PerfReadGroups(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsNumber()) {
    ThrowUsage(env, "perfReadGroups(fds: Int32Array, out: Float64Array, stride: number)");
    return env.Null();
  }
  Napi::Int32Array fds = info[0].As<Napi::Int32Array>();
  Napi::Float64Array out = info[1].As<Napi::Float64Array>();
  size_t stride = info[2].As<Napi::Number>().Uint32Value();
  if (stride < 4 || fds.ElementLength() * stride > out.ElementLength()) {
    ThrowUsage(env, "perfReadGroups: out must hold fds.length * stride values and stride >= 4");
    return env.Null();
  }
  size_t okCount = 0;
  for (size_t i = 0; i < fds.ElementLength(); ++i) {
    uint64_t enabled = 0, running = 0, values[kMaxGroup];
    long nr = ReadGroup(fds[i], &enabled, &running, values, nullptr);
    double* row = out.Data() + i * stride;
    row[0] = static_cast<double>(nr);
    if (nr < 0) continue;
    ++okCount;
    row[1] = static_cast<double>(enabled);
    row[2] = static_cast<double>(running);
    for (long k = 0; k < nr && static_cast<size_t>(k) + 3 < stride; ++k) row[3 + k] = static_cast<double>(values[k]);
  }
  return Napi::Number::New(env, static_cast<double>(okCount));
}

Napi::Value PerfClose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowUsage(env, "perfClose(fd: number)");
    return env.Null();
  }
  if (close(info[0].As<Napi::Number>().Int32Value()) != 0) return ErrnoResult(env, errno);
  return OkResult(env);
}

}  // namespace

void RegisterPerf(Napi::Env env, Napi::Object exports) {
  exports.Set("probePerfEvent", Napi::Function::New(env, ProbePerfEvent));
  exports.Set("perfOpen", Napi::Function::New(env, PerfOpen));
  exports.Set("perfReadGroup", Napi::Function::New(env, PerfReadGroup));
  exports.Set("perfReadGroups", Napi::Function::New(env, PerfReadGroups));
  exports.Set("perfClose", Napi::Function::New(env, PerfClose));
}

}  // namespace umbra
