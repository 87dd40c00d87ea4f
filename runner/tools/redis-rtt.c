// redis-rtt: redis's own GET latency, measured by a minimal native client.
//
// The runner's load generator is JS (a sender thread and the main thread's
// event loop reading replies); its alone p99 on the 2-vCPU VM is 300-600 us,
// most of it the client. This client is the floor to set against it: one
// thread pinned to a core sends a GET of a random key of `debug populate`'s
// key space every GAP_NS on an absolute schedule and blocks on the reply;
// the latency runs from the intended send time (no coordinated omission).
// Not part of the build: see runner/README.md ("the service measured by a
// native client") for how it was run.
//
//   gcc -O2 -o /tmp/redis-rtt runner/tools/redis-rtt.c
//   redis-rtt PORT CPU GAP_NS COUNT KEYS
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long monotonic_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

// nearest rank, as everywhere in umbra: the value at ceil(q n) - 1 in ascending order
static double quantile_us(const long long *sorted, int n, double q) {
  long k = (long)(q * n + 0.999999999) - 1;
  return sorted[k < 0 ? 0 : k] / 1e3;
}

static int by_value(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return x < y ? -1 : x > y;
}

// A whole reply is in buf: a status/error/integer line, or a bulk string
// ($-1 for a missing key, else $len, the bytes and CRLF).
static int reply_complete(const char *buf, int n) {
  if (n < 3 || buf[n - 2] != '\r' || buf[n - 1] != '\n') return 0;
  if (buf[0] != '$') return 1;
  long len = strtol(buf + 1, NULL, 10);
  if (len < 0) return 1;
  const char *body = memchr(buf, '\n', n);
  return body && (n - (body + 1 - buf)) >= len + 2;
}

int main(int argc, char **argv) {
  if (argc != 6 && argc != 7) {
    fprintf(stderr, "usage: %s PORT CPU GAP_NS COUNT KEYS [TIMER_SLACK_NS]\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]), cpu = atoi(argv[2]), count = atoi(argv[4]);
  long long gap_ns = atoll(argv[3]);
  unsigned long keys = strtoul(argv[5], NULL, 10);
  if (port <= 0 || cpu < 0 || gap_ns <= 0 || count < 100 || keys == 0) {
    fprintf(stderr, "redis-rtt: PORT, GAP_NS and KEYS must be positive, CPU >= 0, COUNT >= 100\n");
    return 2;
  }
  // the kernel lets a sleep end up to the timer slack late (50 us by default)
  if (argc == 7 && prctl(PR_SET_TIMERSLACK, strtoul(argv[6], NULL, 10), 0, 0, 0)) {
    perror("redis-rtt: PR_SET_TIMERSLACK");
    return 1;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set)) {
    perror("redis-rtt: sched_setaffinity");
    return 1;
  }
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr)) {
    perror("redis-rtt: connect");
    return 1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  long long *latency_ns = malloc(sizeof(long long) * count);
  long long *rtt_ns = malloc(sizeof(long long) * count);
  char request[128], reply[4096];
  unsigned long long x = 88172645463325252ULL;  // xorshift64: which key
  long long intended = monotonic_ns();
  for (int i = 0; i < count; i++) {
    intended += gap_ns;
    struct timespec at = {intended / 1000000000LL, intended % 1000000000LL};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    char key[32];
    int key_len = snprintf(key, sizeof key, "key:%llu", x % keys);
    int len = snprintf(request, sizeof request, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", key_len, key);
    long long sent = monotonic_ns();
    if (write(fd, request, len) != len) {
      perror("redis-rtt: write");
      return 1;
    }
    int got = 0;
    do {
      int r = read(fd, reply + got, sizeof reply - got);
      if (r <= 0) {
        fprintf(stderr, "redis-rtt: connection closed\n");
        return 1;
      }
      got += r;
    } while (!reply_complete(reply, got));
    long long done = monotonic_ns();
    latency_ns[i] = done - intended;
    rtt_ns[i] = done - sent;
  }
  // from the intended send time (what a client that is late itself adds
  // counts), and from the moment the request was written (redis and the kernel only)
  const char *names[2] = {"from intended send", "from write"};
  long long *series[2] = {latency_ns, rtt_ns};
  for (int s = 0; s < 2; s++) {
    qsort(series[s], count, sizeof(long long), by_value);
    printf("%-18s us p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f\n", names[s], quantile_us(series[s], count, 0.5), quantile_us(series[s], count, 0.9),
           quantile_us(series[s], count, 0.99), quantile_us(series[s], count, 0.999));
  }
  free(latency_ns);
  free(rtt_ns);
  close(fd);
  return 0;
}
