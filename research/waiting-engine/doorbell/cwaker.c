/* C driver for the doorbell spike: a waker (wake-latency, ring costs, stale rings) and a synchronous ping-pong peer. */
#define _GNU_SOURCE
#include "doorbell.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}
static void sleep_us(long us) {
  struct timespec t = { us / 1000000, (us % 1000000) * 1000 };
  nanosleep(&t, NULL);
}
static int32_t *cell_at(int shmid, long offset) {
  char *base = shmat(shmid, NULL, 0);
  if (base == (void *)-1) { perror("shmat"); exit(1); }
  return (int32_t *)(base + offset);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *cmd = argv[1];
  if (!strcmp(cmd, "wake")) {
    /* wake SHMID OFFSET COUNT GAPMIN_US GAPMAX_US: wait until the cell is armed, pause, stamp, publish, ring */
    int32_t *cell = cell_at(atoi(argv[2]), atol(argv[3]));
    int count = atoi(argv[4]);
    long gmin = atol(argv[5]), gmax = atol(argv[6]);
    int64_t *stamp = (int64_t *)(cell + 16);
    srand(getpid());
    for (int i = 0; i < count; i++) {
      int64_t t = now_ns();
      while (__atomic_load_n(&cell[C_STATE], __ATOMIC_SEQ_CST) == S_IDLE) { /* armed: doorbell or futex */
        if (now_ns() - t > 5000000000LL) { fprintf(stderr, "cwaker: receiver never armed\n"); return 1; }
        sleep_us(20);
      }
      sleep_us(gmin + (gmax > gmin ? rand() % (gmax - gmin) : 0));
      __atomic_store_n(stamp, now_ns(), __ATOMIC_SEQ_CST);
      __atomic_add_fetch(&cell[C_WORD], 1, __ATOMIC_SEQ_CST);
      int r = db_ring(cell);
      if (r != DB_RUNG && r != DB_FULL && r != DB_FUTEX) { fprintf(stderr, "cwaker: ring returned %d\n", r); return 1; }
    }
    return 0;
  }
  if (!strcmp(cmd, "ringcost")) {
    /* ringcost SHMID OFFSET N: per-ring cost in ns: idle cell, cached doorbell, uncached doorbell */
    int32_t *cell = cell_at(atoi(argv[2]), atol(argv[3]));
    int n = atoi(argv[4]);
    int32_t kind = cell[C_KIND], pid = cell[C_PID], a = cell[C_A], b = cell[C_B], token = -1; /* no wait has it */
    int32_t idle[CELL_WORDS] = { 0 };
    int64_t t0 = now_ns();
    int s = 0;
    for (int i = 0; i < n * 100; i++) s += db_ring(idle);
    int64_t t1 = now_ns();
    for (int i = 0; i < n; i++) db_ring_doorbell(kind, pid, a, b, token);
    int64_t t2 = now_ns();
    db_cache_enabled = 0;
    for (int i = 0; i < n / 10; i++) db_ring_doorbell(kind, pid, a, b, token);
    int64_t t3 = now_ns();
    printf("{\"idle_ns\":%.2f,\"cached_ns\":%.1f,\"uncached_ns\":%.1f,\"sum\":%d}\n", (double)(t1 - t0) / (n * 100.0),
           (double)(t2 - t1) / n, (double)(t3 - t2) / (n / 10), s);
    return 0;
  }
  if (!strcmp(cmd, "stress")) {
    /* stress SHMID CELLS BUMPS: bump random cells and ring, then set every cell to -1 and ring */
    int32_t *base = cell_at(atoi(argv[2]), 0);
    int cells = atoi(argv[3]);
    long bumps = atol(argv[4]);
    srand(getpid());
    for (long i = 0; i < bumps; i++) {
      int32_t *cell = base + (rand() % cells) * CELL_WORDS;
      __atomic_add_fetch(&cell[C_WORD], 1, __ATOMIC_SEQ_CST);
      db_ring(cell);
      if ((i & 15) == 0) sleep_us(rand() % 200);
    }
    for (int k = 0; k < cells; k++) {
      __atomic_store_n(&base[k * CELL_WORDS + C_WORD], -1, __ATOMIC_SEQ_CST);
      db_ring(base + k * CELL_WORDS);
    }
    return 0;
  }
  if (!strcmp(cmd, "ringidle")) {
    /* ringidle N: N rings of a cell nobody sleeps on, between two marker writes (count syscalls with strace) */
    static int32_t idle[CELL_WORDS];
    long n = atol(argv[2]), s = 0;
    write(2, "BEGIN\n", 6);
    for (long i = 0; i < n; i++) s += db_ring(idle);
    write(2, "END\n", 4);
    return (int)s;
  }
  if (!strcmp(cmd, "pong")) {
    /* pong SHMID: synchronous peer; cell P (offset 0) carries pings, cell Q (offset 128) pongs; ping -1 ends */
    int32_t *p = cell_at(atoi(argv[2]), 0), *q = p + 32;
    int32_t last = 0; /* pings start at 1 */
    for (;;) {
      int32_t v;
      while ((v = __atomic_load_n(&p[C_WORD], __ATOMIC_SEQ_CST)) == last) db_wait_sync(p, last, 5000);
      if (v == -1) return 0;
      memcpy((char *)p + 384, (char *)p + 256, 64); /* ping payload at 256, pong payload at 384 */
      last = v;
      __atomic_store_n(&q[C_WORD], v, __ATOMIC_SEQ_CST);
      db_ring(q);
    }
  }
  if (!strcmp(cmd, "ring")) {
    /* ring SHMID OFFSET [VALUE]: publish VALUE (or +1), ring once, print the result */
    int32_t *cell = cell_at(atoi(argv[2]), atol(argv[3]));
    if (argc > 4) __atomic_store_n(&cell[C_WORD], atoi(argv[4]), __ATOMIC_SEQ_CST);
    else __atomic_add_fetch(&cell[C_WORD], 1, __ATOMIC_SEQ_CST);
    int r = db_ring(cell);
    int r2 = -99;
    if (argc > 5) { /* a second ring on the same (re-armed by hand) identity: exercises the cached fd path */
      sleep_us(atol(argv[5]));
      __atomic_store_n(&cell[C_STATE], S_DOORBELL, __ATOMIC_SEQ_CST);
      r2 = db_ring(cell);
    }
    printf("{\"ring\":%d,\"second\":%d,\"opened\":%ld}\n", r, r2, db_opened);
    return 0;
  }
  return 2;
}
