// The redis load generator's sender and reply reader as native threads
// (runner/workloads/redis-load-generator.ts, client 'native').
//
// Why: measured through the JS client (a worker thread sending, the main
// thread's event loop reading and timestamping replies), redis alone on the
// 2-vCPU VM showed a p99 of 300-600 us and rose x1.5 whenever the other core
// was busy; a minimal C client put redis's own p99 at ~50 us, moving x1.1
// (runner/README.md). Here a reply is timestamped by the thread that reads
// it, as soon as it is read, and nothing waits on an event loop.
//
// The schedule is the JS generator's, through the same shared memory:
//   ctrl[WRITE] requests scheduled (JS), ctrl[SENT] requests handled by the
//   sender (sent or dropped), ctrl[STOP], ctrl[COMPLETED] replies read (this
//   reader), ctrl[DROPPED], ctrl[ERRORS]; per request i, slot i % cap:
//   times[] intended send (ns since startNs), keys[], isGet[], and written
//   here status[] (1 sent, 2 dropped, 3 replied, 4 error reply), lagNs[]
//   (how late it was sent), doneNs[] (reply read, ns since startNs).
// Request i goes on connection i % connections; redis answers a connection's
// requests in order, so its next reply is its oldest request still marked sent.
// Both threads run at SCHED_FIFO 1 when asked and permitted (LoadgenStart says why).
#include "common.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <thread>
#include <vector>

namespace umbra {
namespace {

enum Ctrl { WRITE = 0, SENT = 1, STOP = 2, COMPLETED = 3, WAKE = 4, DROPPED = 5, ERRORS = 6 };
enum Status : uint8_t { SCHEDULED = 0, STATUS_SENT = 1, STATUS_DROPPED = 2, REPLIED = 3, REPLIED_ERROR = 4 };

int64_t MonotonicNs() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t(t.tv_sec) * 1000000000LL + t.tv_nsec;
}

template <typename T>
T Load(T* p) {
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
template <typename T>
void Store(T* p, T v) {
  __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

// Bytes of the first complete RESP2 value in [p, end), 0 if incomplete, -1 if
// malformed. *isError: it is an error reply.
long ReplyLength(const char* p, const char* end, bool* isError) {
  if (p >= end) return 0;
  const char* eol = static_cast<const char*>(memchr(p, '\n', end - p));
  if (!eol) return 0;
  if (eol == p || eol[-1] != '\r') return -1;
  long head = eol + 1 - p;
  switch (*p) {
    case '+':
    case ':':
      return head;
    case '-':
      *isError = true;
      return head;
    case '$': {
      long n = strtol(p + 1, nullptr, 10);
      if (n < 0) return head;
      if (end - (eol + 1) < n + 2) return 0;
      return head + n + 2;
    }
    case '*': {
      long n = strtol(p + 1, nullptr, 10);
      long total = head;
      for (long k = 0; k < n; ++k) {
        bool inner = false;
        long len = ReplyLength(p + total, end, &inner);
        if (len <= 0) return len;
        total += len;
      }
      return total;
    }
    default:
      return -1;
  }
}

struct Loadgen {
  // shared with JS (kept alive by the references below)
  int32_t* ctrl;
  double* times;
  int32_t* keys;
  uint8_t* isGet;
  uint8_t* status;
  double* lagNs;
  double* doneNs;
  std::vector<Napi::ObjectReference> keepAlive;
  int64_t cap;
  int64_t startNs;
  int64_t maxOutstanding;
  int64_t spinNs;
  std::string keyPrefix;
  std::string value;
  std::vector<int> fds;
  std::vector<std::string> backlog;  // bytes a connection could not take yet
  std::thread sender;
  std::thread reader;

  int64_t Now() const { return MonotonicNs() - startNs; }

  std::string Command(int64_t i) const {
    int64_t slot = i % cap;
    std::string key = keyPrefix + std::to_string(keys[slot]);
    std::string s;
    if (isGet[slot]) {
      s = "*2\r\n$3\r\nGET\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n";
    } else {
      s = "*3\r\n$3\r\nSET\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";
    }
    return s;
  }

  // Write what waits on connection c (then `more`); false if it is broken.
  bool Flush(size_t c, const std::string* more) {
    std::string& q = backlog[c];
    if (more) q += *more;
    while (!q.empty()) {
      ssize_t n = write(fds[c], q.data(), q.size());
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return true;
        q.clear();
        return false;
      }
      q.erase(0, size_t(n));
    }
    return true;
  }

  void SendLoop() {
    // the kernel may end a sleep up to the timer slack late (50 us by default)
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    int64_t sent = 0;
    int64_t sentOk = 0;
    const size_t conns = fds.size();
    while (Load(&ctrl[STOP]) == 0) {
      for (size_t c = 0; c < conns; ++c)
        if (!backlog[c].empty()) Flush(c, nullptr);
      int64_t written = Load(&ctrl[WRITE]);
      if (sent >= written) {
        SleepFor(1000000);
        continue;
      }
      double t = times[sent % cap];
      int64_t n = Now();
      if (t - n > spinNs) {
        // wake shortly before it (never sleep past 5 ms, so STOP is seen), then spin
        SleepFor(std::min<int64_t>(5000000, int64_t(t - n - spinNs)));
        continue;
      }
      while (n < t) n = Now();
      int64_t completed = Load(&ctrl[COMPLETED]);
      while (sent < written && times[sent % cap] <= n) {
        int64_t slot = sent % cap;
        lagNs[slot] = double(n) - times[slot];
        size_t c = size_t(sent % int64_t(conns));
        if (sentOk - completed >= maxOutstanding) {
          Store(&status[slot], uint8_t(STATUS_DROPPED));
          __atomic_add_fetch(&ctrl[DROPPED], 1, __ATOMIC_ACQ_REL);
        } else {
          // marked sent before the write: the reply can only come after it
          Store(&status[slot], uint8_t(STATUS_SENT));
          std::string cmd = Command(sent);
          if (Flush(c, &cmd)) {
            ++sentOk;
          } else {
            Store(&status[slot], uint8_t(STATUS_DROPPED));
            __atomic_add_fetch(&ctrl[ERRORS], 1, __ATOMIC_ACQ_REL);
          }
        }
        ++sent;
      }
      Store(&ctrl[SENT], int32_t(sent));
    }
  }

  static void SleepFor(int64_t ns) {
    if (ns <= 0) return;
    timespec d{time_t(ns / 1000000000LL), long(ns % 1000000000LL)};
    nanosleep(&d, nullptr);
  }

  void ReadLoop() {
    const size_t conns = fds.size();
    std::vector<pollfd> pfds(conns);
    for (size_t c = 0; c < conns; ++c) pfds[c] = {fds[c], POLLIN, 0};
    std::vector<std::string> buf(conns);
    std::vector<int64_t> next(conns);
    std::vector<bool> open(conns, true);
    for (size_t c = 0; c < conns; ++c) next[c] = int64_t(c);
    char chunk[65536];
    while (Load(&ctrl[STOP]) == 0) {
      int r = poll(pfds.data(), nfds_t(conns), 10);
      if (r <= 0) continue;
      for (size_t c = 0; c < conns; ++c) {
        if (!open[c] || !(pfds[c].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = read(fds[c], chunk, sizeof chunk);
        int64_t at = Now();
        if (n <= 0) {
          if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
          // closed or broken: count it once and stop polling it
          open[c] = false;
          pfds[c].fd = -1;
          __atomic_add_fetch(&ctrl[ERRORS], 1, __ATOMIC_ACQ_REL);
          continue;
        }
        std::string& b = buf[c];
        b.append(chunk, size_t(n));
        size_t pos = 0;
        for (;;) {
          bool isError = false;
          long len = ReplyLength(b.data() + pos, b.data() + b.size(), &isError);
          if (len == 0) break;
          if (len < 0) {
            // not RESP: drop what was read and count it
            pos = b.size();
            __atomic_add_fetch(&ctrl[ERRORS], 1, __ATOMIC_ACQ_REL);
            break;
          }
          pos += size_t(len);
          Complete(next[c], at, isError, conns);
        }
        b.erase(0, pos);
      }
    }
  }

  // A reply on connection c: it answers the oldest request there still marked sent.
  void Complete(int64_t& i, int64_t at, bool isError, size_t conns) {
    for (;;) {
      uint8_t st = Load(&status[i % cap]);
      if (st == STATUS_DROPPED) {
        i += int64_t(conns);
        continue;
      }
      if (st != STATUS_SENT) {
        // a reply to nothing we sent
        __atomic_add_fetch(&ctrl[ERRORS], 1, __ATOMIC_ACQ_REL);
        return;
      }
      break;
    }
    int64_t slot = i % cap;
    doneNs[slot] = double(at);
    Store(&status[slot], uint8_t(isError ? REPLIED_ERROR : REPLIED));
    __atomic_add_fetch(&ctrl[COMPLETED], 1, __ATOMIC_ACQ_REL);
    i += int64_t(conns);
  }
};

// never destroyed: a generator JS did not stop when the process exits must
// not run a joinable std::thread's destructor (that aborts)
auto* running = new std::map<int, std::unique_ptr<Loadgen>>();
int nextHandle = 1;

// socket + connect; on failure the descriptor is closed again and errno kept
int ConnectTo(int family, const sockaddr* addr, socklen_t len) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, addr, len) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int Connect(const std::string& socketPath, const std::string& host, int port) {
  int fd;
  if (!socketPath.empty()) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (socketPath.size() >= sizeof a.sun_path) {
      errno = ENAMETOOLONG;
      return -1;
    }
    memcpy(a.sun_path, socketPath.c_str(), socketPath.size() + 1);
    fd = ConnectTo(AF_UNIX, reinterpret_cast<sockaddr*>(&a), sizeof a);
    if (fd < 0) return -1;
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) {
      errno = EINVAL;
      return -1;
    }
    fd = ConnectTo(AF_INET, reinterpret_cast<sockaddr*>(&a), sizeof a);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

template <typename T>
T* SharedArray(const Napi::Object& o, const char* name, Loadgen& g, bool* ok) {
  Napi::Value v = o.Get(name);
  if (!v.IsTypedArray()) {
    *ok = false;
    return nullptr;
  }
  // the C call: it gives the element pointer of a SharedArrayBuffer's view too
  // (Napi::ArrayBuffer refuses a SharedArrayBuffer)
  void* data = nullptr;
  if (napi_get_typedarray_info(o.Env(), v, nullptr, nullptr, &data, nullptr, nullptr) != napi_ok || !data) {
    *ok = false;
    return nullptr;
  }
  g.keepAlive.push_back(Napi::Persistent(v.As<Napi::Object>()));
  return static_cast<T*>(data);
}

const char* kStartUsage =
    "loadgenStart({ socketPath | host+port, connections, ctrl, times, keys, isGet, status, lagNs, doneNs, cap, startNs, maxOutstanding, keyPrefix, valueBytes, spinNs })";

Napi::Value LoadgenStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    ThrowUsage(env, kStartUsage);
    return env.Null();
  }
  Napi::Object o = info[0].As<Napi::Object>();
  auto g = std::make_unique<Loadgen>();
  bool ok = true;
  g->ctrl = SharedArray<int32_t>(o, "ctrl", *g, &ok);
  g->times = SharedArray<double>(o, "times", *g, &ok);
  g->keys = SharedArray<int32_t>(o, "keys", *g, &ok);
  g->isGet = SharedArray<uint8_t>(o, "isGet", *g, &ok);
  g->status = SharedArray<uint8_t>(o, "status", *g, &ok);
  g->lagNs = SharedArray<double>(o, "lagNs", *g, &ok);
  g->doneNs = SharedArray<double>(o, "doneNs", *g, &ok);
  if (!ok || !o.Get("cap").IsNumber() || !o.Get("startNs").IsNumber() || !o.Get("connections").IsNumber()) {
    ThrowUsage(env, kStartUsage);
    return env.Null();
  }
  g->cap = int64_t(o.Get("cap").As<Napi::Number>().DoubleValue());
  g->startNs = int64_t(o.Get("startNs").As<Napi::Number>().DoubleValue());
  g->maxOutstanding = o.Get("maxOutstanding").IsNumber() ? int64_t(o.Get("maxOutstanding").As<Napi::Number>().DoubleValue()) : 100000;
  g->spinNs = o.Get("spinNs").IsNumber() ? int64_t(o.Get("spinNs").As<Napi::Number>().DoubleValue()) : 20000;
  g->keyPrefix = o.Get("keyPrefix").IsString() ? o.Get("keyPrefix").As<Napi::String>().Utf8Value() : "";
  g->value.assign(o.Get("valueBytes").IsNumber() ? size_t(o.Get("valueBytes").As<Napi::Number>().Int32Value()) : 64, 'v');
  std::string socketPath = o.Get("socketPath").IsString() ? o.Get("socketPath").As<Napi::String>().Utf8Value() : "";
  std::string host = o.Get("host").IsString() ? o.Get("host").As<Napi::String>().Utf8Value() : "127.0.0.1";
  int port = o.Get("port").IsNumber() ? o.Get("port").As<Napi::Number>().Int32Value() : 6379;
  int conns = o.Get("connections").As<Napi::Number>().Int32Value();
  if (conns < 1 || g->cap < 2) {
    ThrowUsage(env, kStartUsage);
    return env.Null();
  }
  for (int c = 0; c < conns; ++c) {
    int fd = Connect(socketPath, host, port);
    if (fd < 0) {
      int e = errno;
      for (int f : g->fds) close(f);
      return ErrnoResult(env, e);
    }
    g->fds.push_back(fd);
  }
  g->backlog.resize(g->fds.size());
  Loadgen* p = g.get();
  p->sender = std::thread([p] { p->SendLoop(); });
  p->reader = std::thread([p] { p->ReadLoop(); });
  // Real-time priority for these two threads only (they use a few percent of
  // a core): under the kernel's fair scheduler a thread that wakes on a core
  // running a CPU-bound job may wait for that job's slice (about a
  // millisecond), which would be measured as the service's latency.
  // Refused without CAP_SYS_NICE: they stay normal threads and the result says so.
  bool realtime = o.Get("realtime").IsBoolean() && o.Get("realtime").As<Napi::Boolean>().Value();
  int rtErr = realtime ? SetRealtime({&p->sender, &p->reader}) : 0;
  int handle = nextHandle++;
  (*running)[handle] = std::move(g);
  return StartedResult(env, handle, realtime, rtErr);
}

// Stops both threads (ctrl[STOP] must be set, or is set here), closes the connections.
Napi::Value LoadgenStop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowUsage(env, "loadgenStop(handle: number)");
    return env.Null();
  }
  auto it = running->find(info[0].As<Napi::Number>().Int32Value());
  if (it == running->end()) return ErrnoResult(env, ENOENT);
  Loadgen* g = it->second.get();
  Store(&g->ctrl[STOP], int32_t(1));
  g->sender.join();
  g->reader.join();
  for (int fd : g->fds) close(fd);
  running->erase(it);
  return OkResult(env);
}

}  // namespace

void RegisterLoadgen(Napi::Env env, Napi::Object exports) {
  exports.Set("loadgenStart", Napi::Function::New(env, LoadgenStart, "loadgenStart"));
  exports.Set("loadgenStop", Napi::Function::New(env, LoadgenStop, "loadgenStop"));
}

}  // namespace umbra
