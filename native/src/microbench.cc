// Calibration microbenchmarks for `umbra calibrate`: a dependent pointer chase
// over a random single cycle of cache lines (latency per working-set size, so
// cache levels and DRAM latency show as steps), a streaming copy (bandwidth)
// and independent multiply-add chains (per-core compute rate).
#include "common.h"

#include <time.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

namespace umbra {
namespace {

constexpr size_t kLineBytes = 64;

double NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// splitmix64: the seed comes from util/rng.ts on the JS side, so the chase
// order is reproducible for a given seed.
uint64_t SplitMix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// pointerChase(workingSetBytes, accesses, seed) -> { nsPerAccess, lines }
Napi::Value PointerChase(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber()) {
    ThrowUsage(env, "pointerChase(workingSetBytes: number, accesses: number, seed: number)");
    return env.Null();
  }
  size_t bytes = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
  size_t accesses = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
  uint64_t seed = static_cast<uint64_t>(info[2].As<Napi::Number>().Int64Value());
  size_t lines = bytes / kLineBytes;
  if (lines < 2 || accesses < 1) {
    ThrowUsage(env, "pointerChase: workingSetBytes must cover at least 2 cache lines and accesses >= 1");
    return env.Null();
  }
  void* mem = std::aligned_alloc(4096, ((lines * kLineBytes + 4095) / 4096) * 4096);
  if (!mem) return ErrnoResult(env, ENOMEM);
  char* base = static_cast<char*>(mem);
  // Sattolo's algorithm: a uniformly random permutation that is one cycle, so
  // the chase visits every line before repeating.
  std::vector<uint32_t> order(lines);
  for (size_t i = 0; i < lines; ++i) order[i] = static_cast<uint32_t>(i);
  for (size_t i = lines - 1; i > 0; --i) {
    size_t j = SplitMix(seed) % i;
    uint32_t t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  for (size_t i = 0; i < lines; ++i) {
    void** slot = reinterpret_cast<void**>(base + static_cast<size_t>(i) * kLineBytes);
    *slot = base + static_cast<size_t>(order[i]) * kLineBytes;
  }
  // One warm pass so the measured part sees steady-state cache contents.
  void** p = reinterpret_cast<void**>(base);
  for (size_t i = 0; i < lines; ++i) p = static_cast<void**>(*p);
  double t0 = NowNs();
  for (size_t i = 0; i < accesses; ++i) p = static_cast<void**>(*p);
  double t1 = NowNs();
  // Keep the chain live so the compiler cannot drop the loop.
  volatile uintptr_t sink = reinterpret_cast<uintptr_t>(p);
  (void)sink;
  std::free(mem);
  Napi::Object out = OkResult(env);
  out.Set("nsPerAccess", Napi::Number::New(env, (t1 - t0) / static_cast<double>(accesses)));
  out.Set("lines", Napi::Number::New(env, static_cast<double>(lines)));
  return out;
}

// streamBandwidth(workingSetBytes, reps) -> { bytesPerSec }
// Copies one half of the working set into the other; counts bytes read plus
// bytes written (as STREAM's Copy does).
Napi::Value StreamBandwidth(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    ThrowUsage(env, "streamBandwidth(workingSetBytes: number, reps: number)");
    return env.Null();
  }
  size_t n = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value()) / (2 * sizeof(double));
  size_t reps = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
  if (n < 1024 || reps < 1) {
    ThrowUsage(env, "streamBandwidth: workingSetBytes >= 16 KiB and reps >= 1");
    return env.Null();
  }
  std::vector<double> a(n, 1.0), b(n, 2.0);
  double t0 = NowNs();
  for (size_t r = 0; r < reps; ++r) {
    double* dst = (r & 1) ? a.data() : b.data();
    const double* src = (r & 1) ? b.data() : a.data();
    for (size_t i = 0; i < n; ++i) dst[i] = src[i];
  }
  double t1 = NowNs();
  volatile double sink = a[n / 2] + b[n / 3];
  (void)sink;
  double bytes = 2.0 * static_cast<double>(n) * sizeof(double) * static_cast<double>(reps);
  Napi::Object out = OkResult(env);
  out.Set("bytesPerSec", Napi::Number::New(env, bytes / ((t1 - t0) / 1e9)));
  return out;
}

// computeRate(iterations) -> { opsPerSec }: 8 independent 64-bit multiply-add
// chains, one op = one multiply-add.
Napi::Value ComputeRate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowUsage(env, "computeRate(iterations: number)");
    return env.Null();
  }
  size_t iters = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
  uint64_t x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  double t0 = NowNs();
  for (size_t i = 0; i < iters; ++i)
    for (int k = 0; k < 8; ++k) x[k] = x[k] * 6364136223846793005ULL + 1442695040888963407ULL;
  double t1 = NowNs();
  volatile uint64_t sink = x[0] ^ x[1] ^ x[2] ^ x[3] ^ x[4] ^ x[5] ^ x[6] ^ x[7];
  (void)sink;
  Napi::Object out = OkResult(env);
  out.Set("opsPerSec", Napi::Number::New(env, 8.0 * static_cast<double>(iters) / ((t1 - t0) / 1e9)));
  return out;
}

}  // namespace

void RegisterMicrobench(Napi::Env env, Napi::Object exports) {
  exports.Set("pointerChase", Napi::Function::New(env, PointerChase));
  exports.Set("streamBandwidth", Napi::Function::New(env, StreamBandwidth));
  exports.Set("computeRate", Napi::Function::New(env, ComputeRate));
}

}  // namespace umbra
