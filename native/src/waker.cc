// A thread that wakes at a fixed rate on one core and does nothing else.
// `umbra calibrate` runs it next to a streaming job on that core to measure
// what the job loses to each wake-up beyond the waker's own CPU time (the
// timer interrupt, two context switches, the caches and prefetch streams the
// job finds disturbed when it resumes). The runner's load generator wakes
// about twice per request on the job's core in `umbra compare`, and on the
// 2-vCPU VM a waker at 8000 Hz that did nothing cost a copy 21-35% of its
// bandwidth while using 11% of the core itself (2026-11-24).
// Like the load generator's threads it runs at SCHED_FIFO 1 when asked and
// permitted (it then preempts the job at once, as they do), with 1-ns timer
// slack, sleeping to absolute times on CLOCK_MONOTONIC.
#include "common.h"

#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <thread>

namespace umbra {
namespace {

struct Waker {
  std::thread thread;
  std::atomic<bool> stop{false};
  int64_t periodNs = 0;
  int64_t wakeups = 0;  // written by the thread, read after join
  int64_t cpuNs = 0;

  void Loop() {
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    while (!stop.load(std::memory_order_relaxed)) {
      t.tv_nsec += periodNs;
      while (t.tv_nsec >= 1000000000L) {
        t.tv_nsec -= 1000000000L;
        t.tv_sec += 1;
      }
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, nullptr);
      ++wakeups;
    }
    timespec c{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c);
    cpuNs = int64_t(c.tv_sec) * 1000000000LL + c.tv_nsec;
  }
};

// never destroyed, like the load generators (a joinable thread's destructor aborts)
auto* wakers = new std::map<int, std::unique_ptr<Waker>>();
int nextWaker = 1;

const char* kStartUsage = "wakerStart(core: number, rateHz: number, realtime: boolean)";

// { ok, handle, realtime, realtimeError? }, or { ok: false, errno } when the core cannot be set
Napi::Value WakerStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsBoolean()) {
    ThrowUsage(env, kStartUsage);
    return env.Null();
  }
  int core = info[0].As<Napi::Number>().Int32Value();
  double rateHz = info[1].As<Napi::Number>().DoubleValue();
  bool realtime = info[2].As<Napi::Boolean>().Value();
  if (core < 0 || core >= CPU_SETSIZE || !(rateHz >= 1 && rateHz <= 1e6)) {
    ThrowUsage(env, kStartUsage);
    return env.Null();
  }
  auto w = std::make_unique<Waker>();
  w->periodNs = int64_t(1e9 / rateHz);
  Waker* p = w.get();
  p->thread = std::thread([p] { p->Loop(); });
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  int affErr = pthread_setaffinity_np(p->thread.native_handle(), sizeof set, &set);
  if (affErr != 0) {
    p->stop.store(true);
    p->thread.join();
    return ErrnoResult(env, affErr);
  }
  int rtErr = realtime ? SetRealtime({&p->thread}) : 0;
  int handle = nextWaker++;
  (*wakers)[handle] = std::move(w);
  return StartedResult(env, handle, realtime, rtErr);
}

// { ok, wakeups, cpuNs }: the wake-ups made and the thread's CPU time
Napi::Value WakerStop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowUsage(env, "wakerStop(handle: number)");
    return env.Null();
  }
  auto it = wakers->find(info[0].As<Napi::Number>().Int32Value());
  if (it == wakers->end()) return ErrnoResult(env, ENOENT);
  Waker* w = it->second.get();
  w->stop.store(true);
  w->thread.join();
  Napi::Object out = OkResult(env);
  out.Set("wakeups", double(w->wakeups));
  out.Set("cpuNs", double(w->cpuNs));
  wakers->erase(it);
  return out;
}

}  // namespace

void RegisterWaker(Napi::Env env, Napi::Object exports) {
  exports.Set("wakerStart", Napi::Function::New(env, WakerStart, "wakerStart"));
  exports.Set("wakerStop", Napi::Function::New(env, WakerStop, "wakerStop"));
}

}  // namespace umbra
