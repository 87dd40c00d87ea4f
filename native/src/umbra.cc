// umbra's native module: the few Linux calls Node cannot make by itself
// (perf_event_open, sched_setaffinity, process_madvise), batched reads of
// already-open counter files for the 10 ms control loop, and the calibration
// microbenchmarks (a pointer chase has to be native to see cache latencies),
// the simulator's exact-LLC hot loop (sim/llc/llc-exact.ts has the JS twin),
// the redis load generator's sender and reply reader threads, and the
// calibration's waker thread.
// Everything that is plain file I/O also has a pure-JS path in runner/ so umbra
// works when this module fails to build.
#include "common.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  umbra::RegisterPerf(env, exports);
  umbra::RegisterFiles(env, exports);
  umbra::RegisterSched(env, exports);
  umbra::RegisterMemory(env, exports);
  umbra::RegisterMicrobench(env, exports);
  umbra::RegisterLlc(env, exports);
  umbra::RegisterLoadgen(env, exports);
  umbra::RegisterWaker(env, exports);
  // Bumped whenever a function's signature changes; native/addon.ts refuses a
  // stale build whose version differs.
  exports.Set("abiVersion", Napi::Number::New(env, 9));
  return exports;
}

}  // namespace

NODE_API_MODULE(umbra, Init)
