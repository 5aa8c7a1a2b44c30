// Stress partner: for `seconds`, bumps a random word (of `words` words, every 4th int32 of each segment) and
// FUTEX_WAKEs it (sometimes a wake with no change), sleeping 0-200 us between; then bumps every word once more.
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

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

int main(int argc, char **argv) {
  if (argc < 5) return 2;
  double seconds = atof(argv[1]);
  int perSeg = atoi(argv[2]);
  int nseg = argc - 3;
  int32_t *segs[16];
  for (int s = 0; s < nseg; s++) {
    segs[s] = shmat(atoi(argv[3 + s]), NULL, 0);
    if (segs[s] == (void *)-1) { perror("shmat"); return 1; }
  }
  srand(getpid());
  long bumps = 0, bare = 0;
  double end = now() + seconds;
  while (now() < end) {
    int32_t *w = segs[rand() % nseg] + 4 * (rand() % perSeg);
    if (rand() % 10 == 0) bare++;
    else { __atomic_add_fetch(w, 1, __ATOMIC_SEQ_CST); bumps++; }
    syscall(SYS_futex, w, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
    struct timespec gap = { 0, rand() % 200000 };
    nanosleep(&gap, NULL);
  }
  usleep(100000);
  for (int s = 0; s < nseg; s++)
    for (int k = 0; k < perSeg; k++) {
      __atomic_add_fetch(segs[s] + 4 * k, 1, __ATOMIC_SEQ_CST);
      syscall(SYS_futex, segs[s] + 4 * k, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
    }
  printf("toggler: %ld bumps, %ld bare wakes\n", bumps, bare);
  return 0;
}
