// Warm-up on a real host: process_madvise(2) lets the runner ask the kernel to
// bring another process's pages in (MADV_WILLNEED) before a predicted rise.
#include "common.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <vector>

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_process_madvise
#define __NR_process_madvise 440
#endif

namespace umbra {
namespace {

constexpr size_t kIovBatch = 512;  // below UIO_MAXIOV (1024)

// processMadvise(pid, ranges: Float64Array [start, length, ...], advice) -> { ok, bytes } | errno
Napi::Value ProcessMadvise(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[2].IsNumber()) {
    ThrowUsage(env, "processMadvise(pid: number, ranges: Float64Array, advice: number)");
    return env.Null();
  }
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  Napi::Float64Array ranges = info[1].As<Napi::Float64Array>();
  int advice = info[2].As<Napi::Number>().Int32Value();
  long pidfd = syscall(__NR_pidfd_open, pid, 0);
  if (pidfd < 0) return ErrnoResult(env, errno);
  double total = 0;
  size_t count = ranges.ElementLength() / 2;
  std::vector<iovec> iov;
  iov.reserve(kIovBatch);
  for (size_t i = 0; i < count; i += kIovBatch) {
    iov.clear();
    for (size_t k = i; k < count && k < i + kIovBatch; ++k) {
      iovec v;
      v.iov_base = reinterpret_cast<void*>(static_cast<uintptr_t>(ranges[2 * k]));
      v.iov_len = static_cast<size_t>(ranges[2 * k + 1]);
      iov.push_back(v);
    }
    long n = syscall(__NR_process_madvise, static_cast<int>(pidfd), iov.data(), iov.size(), advice, 0u);
    if (n < 0) {
      int e = errno;
      close(static_cast<int>(pidfd));
      Napi::Object out = ErrnoResult(env, e);
      out.Set("bytes", Napi::Number::New(env, total));
      return out;
    }
    total += static_cast<double>(n);
  }
  close(static_cast<int>(pidfd));
  Napi::Object out = OkResult(env);
  out.Set("bytes", Napi::Number::New(env, total));
  return out;
}

}  // namespace

void RegisterMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("processMadvise", Napi::Function::New(env, ProcessMadvise));
  exports.Set("MADV_WILLNEED", Napi::Number::New(env, MADV_WILLNEED));
  exports.Set("MADV_COLD", Napi::Number::New(env, 20));
}

}  // namespace umbra
