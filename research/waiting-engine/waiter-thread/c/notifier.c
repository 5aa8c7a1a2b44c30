// Measurement 2's other process: for i = 1..count, waits (FUTEX_WAIT) until the Node side has armed its wait and
// raised READY to i, sleeps 1-3 ms (so that the waiter is really asleep), stamps CLOCK_MONOTONIC, stores WORD = i
// and FUTEX_WAKEs it. The Node side subtracts the stamp from process.hrtime.bigint() (also CLOCK_MONOTONIC).
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  int id = atoi(argv[1]), count = atoi(argv[2]);
  char *base = shmat(id, NULL, 0);
  if (base == (void *)-1) { perror("shmat"); return 1; }
  int32_t *ready = (int32_t *)(base + 0);   // Int32 index 0
  int32_t *word = (int32_t *)(base + 128);  // Int32 index 32
  int64_t *stamp = (int64_t *)(base + 256); // BigInt64 index 32
  srand(getpid());
  for (int i = 1; i <= count; i++) {
    for (;;) {
      int32_t r = __atomic_load_n(ready, __ATOMIC_SEQ_CST);
      if (r >= i) break;
      syscall(SYS_futex, ready, FUTEX_WAIT, r, NULL, NULL, 0);
    }
    struct timespec gap = { 0, 1000000 + (rand() % 2000000) };
    nanosleep(&gap, NULL);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    __atomic_store_n(stamp, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, __ATOMIC_SEQ_CST);
    __atomic_store_n(word, i, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
  }
  shmdt(base);
  return 0;
}
