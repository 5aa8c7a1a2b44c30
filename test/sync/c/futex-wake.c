/* A plain C waker for test/sync/wait-async.test.ts: attaches segment <shmid> and calls FUTEX_WAKE (shared, every
 * waiter) on its 32-bit word <index> without changing the word, every 5 ms until the kernel says it woke someone
 * (at most 20 s), then prints "woke <n> value <word>" and exits 0 (1 when nobody was woken, 2 on a failed call).
 *
 *   futex-wake <shmid> <index>
 */
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
  if (argc != 3) {
    fprintf(stderr, "usage: %s shmid index\n", argv[0]);
    return 2;
  }
  int shmid = atoi(argv[1]);
  long index = atol(argv[2]);
  int32_t *words = shmat(shmid, NULL, 0);
  if (words == (void *)-1) {
    perror("shmat");
    return 2;
  }
  int32_t *word = words + index;
  struct timespec pause = {0, 5 * 1000 * 1000};
  for (int attempt = 0; attempt < 4000; attempt++) {
    long woke = syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
    if (woke < 0) {
      perror("futex");
      return 2;
    }
    if (woke > 0) {
      printf("woke %ld value %d\n", woke, (int)__atomic_load_n(word, __ATOMIC_SEQ_CST));
      return 0;
    }
    nanosleep(&pause, NULL);
  }
  printf("woke 0\n");
  return 1;
}
