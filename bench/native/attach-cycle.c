// The floor of bench/attach-scale.ts: the shmat/shmdt cycle from plain C, compiled with gcc at bench time.
// Prints one JSON line.
//
//   attach-cycle scale <shmid> <others> <cycles>
//       attaches <others> more mappings of the segment and keeps them, then times <cycles> shmat+shmdt cycles one
//       by one: {"others":N,"attachNs":<ns per attachment while attaching the others>,"p50Ns":..,"p90Ns":..,"maps":..}
//   attach-cycle cycle <shmid> <count> <touch 0|1> [batch]
//       <count> cycles of shmat, (with touch) a write of byte 0, shmdt, timed per batch (1000 by default), in
//       wall-clock and in CPU time (getrusage: user + system):
//       {"count":N,"totalNs":..,"batchNs":[..],"batchCpuNs":[..],"userNs":..,"systemNs":..} (ns per cycle)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <time.h>

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/** User and system CPU time of the process so far, in ns. */
static void cpu_ns(int64_t *user, int64_t *system) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  *user = (int64_t)ru.ru_utime.tv_sec * 1000000000 + (int64_t)ru.ru_utime.tv_usec * 1000;
  *system = (int64_t)ru.ru_stime.tv_sec * 1000000000 + (int64_t)ru.ru_stime.tv_usec * 1000;
}

static int cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static char *attach_or_die(int shmid) {
  char *p = shmat(shmid, NULL, 0);
  if (p == (char *)-1) {
    perror("shmat");
    exit(1);
  }
  return p;
}

static void detach_or_die(char *p) {
  if (shmdt(p) != 0) {
    perror("shmdt");
    exit(1);
  }
}

/** Lines of /proc/self/maps: the mappings (vmas) of this process. */
static long count_maps(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) return -1;
  long lines = 0;
  int c;
  while ((c = fgetc(f)) != EOF) lines += c == '\n';
  fclose(f);
  return lines;
}

/** Nearest-rank percentile of sorted samples, as bench/patterns/common.ts computes it. */
static int64_t percentile(const int64_t *sorted, long n, double q) {
  long rank = (long)(q * n);
  if ((double)rank < q * n) rank++;
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1];
}

static int scale(int shmid, long others, long cycles) {
  char **kept = malloc(sizeof(char *) * (others > 0 ? others : 1));
  int64_t *samples = malloc(sizeof(int64_t) * cycles);
  if (!kept || !samples) return perror("malloc"), 1;
  int64_t t0 = now_ns();
  for (long i = 0; i < others; i++) kept[i] = attach_or_die(shmid);
  int64_t attach_ns = now_ns() - t0;
  for (long i = 0; i < cycles; i++) {
    int64_t start = now_ns();
    detach_or_die(attach_or_die(shmid));
    samples[i] = now_ns() - start;
  }
  long maps = count_maps();
  qsort(samples, cycles, sizeof(int64_t), cmp);
  printf("{\"others\":%ld,\"attachNs\":%.1f,\"p50Ns\":%lld,\"p90Ns\":%lld,\"cycles\":%ld,\"maps\":%ld}\n", others,
         others ? (double)attach_ns / others : 0.0, (long long)percentile(samples, cycles, 0.5),
         (long long)percentile(samples, cycles, 0.9), cycles, maps);
  for (long i = 0; i < others; i++) detach_or_die(kept[i]);
  return 0;
}

static int cycle(int shmid, long count, int touch, long batch) {
  long batches = (count + batch - 1) / batch;
  double *per = malloc(sizeof(double) * batches);
  double *per_cpu = malloc(sizeof(double) * batches);
  if (!per || !per_cpu) return perror("malloc"), 1;
  int64_t user0, system0;
  cpu_ns(&user0, &system0);
  int64_t t0 = now_ns();
  for (long b = 0; b < batches; b++) {
    long n = b == batches - 1 ? count - b * batch : batch;
    int64_t u, s, u2, s2;
    cpu_ns(&u, &s);
    int64_t start = now_ns();
    for (long i = 0; i < n; i++) {
      volatile char *p = attach_or_die(shmid);
      if (touch) p[0] = 1;
      detach_or_die((char *)p);
    }
    per[b] = (double)(now_ns() - start) / n;
    cpu_ns(&u2, &s2);
    per_cpu[b] = (double)(u2 - u + s2 - s) / n;
  }
  int64_t total = now_ns() - t0;
  int64_t user1, system1;
  cpu_ns(&user1, &system1);
  printf("{\"count\":%ld,\"totalNs\":%lld,\"userNs\":%.1f,\"systemNs\":%.1f,\"maps\":%ld,\"batchNs\":[", count, (long long)total,
         (double)(user1 - user0) / count, (double)(system1 - system0) / count, count_maps());
  for (long b = 0; b < batches; b++) printf("%s%.1f", b ? "," : "", per[b]);
  printf("],\"batchCpuNs\":[");
  for (long b = 0; b < batches; b++) printf("%s%.1f", b ? "," : "", per_cpu[b]);
  printf("]}\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 5 && strcmp(argv[1], "scale") == 0) return scale(atoi(argv[2]), atol(argv[3]), atol(argv[4]));
  if (argc >= 5 && strcmp(argv[1], "cycle") == 0) {
    long batch = argc >= 6 ? atol(argv[5]) : 1000;
    return cycle(atoi(argv[2]), atol(argv[3]), atoi(argv[4]), batch > 0 ? batch : 1000);
  }
  fprintf(stderr, "usage: %s scale <shmid> <others> <cycles> | cycle <shmid> <count> <touch 0|1> [batch]\n", argv[0]);
  return 2;
}
