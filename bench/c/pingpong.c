// Reference ping-pong for bench/channel-quick.ts: two processes (fork) bounce a 64-byte message through shared
// memory, in the same shape as the JS channel's ping-pong: a sequence word per direction, a 64-byte payload copied
// in and out, and either pure spinning or futex sleeps announced in a "waiting" word (FUTEX_WAKE only when the
// peer sleeps). Prints one JSON line: round-trip percentiles in ns.
//
//   gcc -O2 -o pingpong pingpong.c && ./pingpong spin 200000 [parentCpu childCpu]
//
// With CPU numbers, each process pins itself (sched_setaffinity) before the first message, as the JS measurement
// pins its two processes: a futex wake-up costs an order of magnitude more across cores than on one core.
#define _GNU_SOURCE
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG 64

struct lane {
  _Alignas(128) atomic_int seq;
  _Alignas(128) atomic_int waiting;
  atomic_int bell;
  _Alignas(128) unsigned char payload[MSG];
};

struct shared {
  struct lane to_child;
  struct lane to_parent;
};

static int use_futex;

static long futex(atomic_int *addr, int op, int val) {
  return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

static void post(struct lane *l, const unsigned char *msg, int seq) {
  memcpy(l->payload, msg, MSG);
  atomic_store(&l->seq, seq);
  if (use_futex && atomic_load(&l->waiting) && atomic_exchange(&l->waiting, 0)) {
    atomic_fetch_add(&l->bell, 1);
    futex(&l->bell, FUTEX_WAKE, 1);
  }
}

static void await_seq(struct lane *l, int seq, unsigned char *out) {
  if (!use_futex) {
    while (atomic_load(&l->seq) != seq) {
    }
  } else {
    for (;;) {
      int bell = atomic_load(&l->bell);
      atomic_store(&l->waiting, 1);
      if (atomic_load(&l->seq) == seq) {
        atomic_store(&l->waiting, 0);
        break;
      }
      futex(&l->bell, FUTEX_WAIT, bell);
      atomic_store(&l->waiting, 0);
    }
  }
  memcpy(out, l->payload, MSG);
}

static void pin(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity"), exit(1);
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s spin|futex iterations [parentCpu childCpu]\n", argv[0]);
    return 2;
  }
  use_futex = strcmp(argv[1], "futex") == 0;
  int n = atoi(argv[2]);
  int warm = n / 10;
  int parentCpu = argc >= 5 ? atoi(argv[3]) : -1, childCpu = argc >= 5 ? atoi(argv[4]) : -1;
  struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED) return perror("mmap"), 1;
  memset(sh, 0, sizeof *sh);
  unsigned char msg[MSG], got[MSG];
  memset(msg, 7, MSG);
  pid_t child = fork();
  if (child == 0) {
    pin(childCpu);
    for (int i = 1; i <= warm + n; i++) {
      await_seq(&sh->to_child, i, got);
      post(&sh->to_parent, got, i);
    }
    _exit(0);
  }
  pin(parentCpu);
  // One clock read per round trip, as in the JS measurement: a round trip is the time between two reads.
  int64_t *rtt = malloc(sizeof(int64_t) * n);
  int64_t previous = now_ns();
  for (int i = 1; i <= warm + n; i++) {
    msg[0] = (unsigned char)i;
    post(&sh->to_child, msg, i);
    await_seq(&sh->to_parent, i, got);
    int64_t t = now_ns();
    if (i > warm) rtt[i - warm - 1] = t - previous;
    previous = t;
  }
  waitpid(child, NULL, 0);
  qsort(rtt, n, sizeof *rtt, cmp);
  printf("{\"mode\":\"%s\",\"iterations\":%d,\"p50Ns\":%lld,\"p90Ns\":%lld,\"p99Ns\":%lld}\n", argv[1], n, (long long)rtt[n / 2],
         (long long)rtt[n * 9 / 10], (long long)rtt[n * 99 / 100]);
  return 0;
}
