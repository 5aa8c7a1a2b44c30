// The C side of the benchmark harness (bench/run.ts): the message format, the integrity checks and the two
// patterns of bench/patterns/ (payload.ts, throughput.ts, pingpong.ts) written once in C, so that a C transport
// is measured exactly like the JavaScript ones: the same stamps checked on every message, every byte checksummed
// on both sides in the verification repetition, the same warm-up, calibration and timed repetitions, the same
// clocks (CLOCK_MONOTONIC). Included by ring.c (the channel's ring protocol) and pingpong.c (the bare reference).
//
// A program that includes this file defines the link below (its transport); main() is here. The two ends are
// two processes started by bench/transports/native.ts, one message size per pair:
//   <program> drive <pattern> <mode> <wait> <size> <repeat> <repSeconds> [key=value ...]
//   <program> serve <id> <pattern> <mode> <wait> <size> <repeat> <repSeconds> [key=value ...]
// options: capacity=N (ring bytes), spin=N (spin iterations of the hybrid wait), corrupt=N (test only: the peer
// flips the middle byte of its N-th message). Each end prints JSON lines on stdout:
//   {"type":"ready","id":N,"cpus":"0"}   after setup (id: the segment this end created, -1 if none; cpus: the
//                                        CPUs it may run on, from sched_getaffinity)
//   {"type":"result",...}                the driver's figures, then it exits with status 0
//   {"type":"error","name":..,"message":..}   then exits with status 1
#ifndef SYSV_SHM_BENCH_HARNESS_H
#define SYSV_SHM_BENCH_HARNESS_H

#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// ---------------------------------------------------------------------------------------------------------------
// The link: defined by the program that includes this file.
// ---------------------------------------------------------------------------------------------------------------

/** Copy mode: copies `n` bytes into the transport as one message (waits for room). */
static void link_send(const uint8_t *data, uint32_t n);
/** Zero-copy: a writable view of `n` bytes inside the transport, published by link_commit(). */
static uint8_t *link_reserve(uint32_t n);
static void link_commit(uint32_t n);
/** The next message (waits for it): a private copy in copy mode, a view into the transport in zero-copy mode. */
static uint8_t *link_receive(uint32_t *n);
/** Done with what link_receive returned (frees the room in zero-copy mode). */
static void link_release(void);
/** Sets up the driver's end (creates what the peer attaches); returns the id for the ready line (-1: none). */
static int link_open_driver(void);
/** Sets up the peer's end on the driver's segment `id`; returns the id for the ready line (-1: none). */
static int link_open_peer(int id);
/** Called by the driver after both ready lines (ring.c reads the peer's id from stdin there). */
static void link_connect(void);
/** Before exit: marks this end closed and detaches. */
static void link_close(void);

// ---------------------------------------------------------------------------------------------------------------
// Settings of the session, from the command line.
// ---------------------------------------------------------------------------------------------------------------

enum pattern { THROUGHPUT, PINGPONG };
enum wait { WAIT_SPIN, WAIT_FUTEX, WAIT_HYBRID };

static enum pattern pattern;
static int zero_copy;
static enum wait wait_kind;
static uint32_t msg_size;
static int repeat;
static double rep_seconds;
/** Test only: flip the middle byte of this message the peer receives (-1: never). */
static long corrupt_at = -1;
/** capacity=N: ring bytes (ring.c); 0 when not given. */
static long opt_capacity;
/** spin=N: spin iterations of the hybrid wait; -1 when not given. */
static long opt_spin = -1;

// ---------------------------------------------------------------------------------------------------------------
// Errors, clocks, futexes.
// ---------------------------------------------------------------------------------------------------------------

static void json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') putchar('\\'), putchar(*s);
    else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
    else putchar(*s);
  }
  putchar('"');
}

/** Reports an error as a JSON line (name: IntegrityError, EPROTO, EPIPE, Error) and exits with status 1. */
__attribute__((noreturn, format(printf, 2, 3))) static void fail(const char *name, const char *format, ...) {
  char message[1024];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof message, format, args);
  va_end(args);
  printf("{\"type\":\"error\",\"name\":");
  json_string(name);
  printf(",\"message\":");
  json_string(message);
  printf("}\n");
  fflush(stdout);
  exit(1);
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/** Milliseconds on the monotonic clock, like performance.now(). */
__attribute__((unused)) static double now_ms(void) {
  return (double)now_ns() / 1e6;
}

/** futex system calls (waits and wakes) this process made: reported per message like the channel's. */
static long futex_calls;

/** FUTEX_WAIT on a shared word for at most `ms`: 0 when woken, else ETIMEDOUT, EAGAIN (value changed) or EINTR. */
static int futex_wait(uint32_t *word, uint32_t expected, int ms) {
  struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
  futex_calls++;
  return syscall(SYS_futex, word, FUTEX_WAIT, expected, &ts, NULL, 0) == 0 ? 0 : errno;
}

static void futex_wake(uint32_t *word, int n) {
  futex_calls++;
  syscall(SYS_futex, word, FUTEX_WAKE, n, NULL, NULL, 0);
}

// Shared words are accessed like JavaScript's Atomics: sequentially consistent loads, stores and RMWs.
#define LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define EXCHANGE(p, v) __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define CAS(p, expected, v) __atomic_compare_exchange_n((p), (expected), (v), 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)

/** The end dies with the node process that started it, so that nothing keeps spinning after a killed session. */
static void die_with_parent(void) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) exit(1);
}

// ---------------------------------------------------------------------------------------------------------------
// Messages (bench/patterns/payload.ts): a header and stamps checked on every message.
//   [0,4) seq  [4,8) remaining  [8,12) flags | rep << 8  [12,16) tag
//   a rotating word (the tag, at an offset that moves with it), the last 4 bytes (tag ^ TAIL_XOR)
// ---------------------------------------------------------------------------------------------------------------

#define MIN_MESSAGE 32
#define FULL_VERIFY 1
#define TAIL_XOR 0xa5a5a5a5u
#define CHECKSUM_SEED 0x811c9dc5u
#define ACK_SIZE 32
#define ACK_MAGIC 0x214b4341u

enum problem { STAMP_OK, WRONG_LENGTH, TAG_MISMATCH, WRONG_SEQ, ROTATING_WRONG, TAIL_WRONG, CHECKSUM_MISMATCH, PAYLOAD_DIFFERS };
static const char *const PROBLEMS[] = {
  "",
  "wrong length (truncated or merged)",
  "header tag mismatch (corrupted header)",
  "wrong sequence number (dropped, duplicated or reordered)",
  "rotating stamp wrong (stale or corrupted payload)",
  "tail stamp wrong (truncated, stale or corrupted)",
  "full checksum mismatch (corrupted payload)",
  "payload bytes differ from what the producer wrote (corrupted payload)",
};

static inline void put32(uint8_t *m, uint32_t off, uint32_t v) {
  m[off] = (uint8_t)v;
  m[off + 1] = (uint8_t)(v >> 8);
  m[off + 2] = (uint8_t)(v >> 16);
  m[off + 3] = (uint8_t)(v >> 24);
}

static inline uint32_t get32(const uint8_t *m, uint32_t off) {
  return m[off] | (uint32_t)m[off + 1] << 8 | (uint32_t)m[off + 2] << 16 | (uint32_t)m[off + 3] << 24;
}

static inline uint32_t tag_of(uint32_t seq, uint32_t remaining, uint32_t flags_word) {
  uint32_t h = (seq ^ 0x9e3779b9u) * 0x85ebca6bu;
  h = (h ^ remaining ^ (h >> 13)) * 0xc2b2ae35u;
  h = (h ^ flags_word ^ (h >> 16)) * 0x27d4eb2fu;
  return h ^ (h >> 15);
}

/** 4-byte aligned, in [16, size - 8]. */
static inline uint32_t rotating_offset(uint32_t tag, uint32_t size) {
  uint32_t room = ((size - 8 - 16) >> 2) + 1;
  return 16 + (tag % room) * 4;
}

static inline void stamp(uint8_t *m, uint32_t size, uint32_t seq, uint32_t remaining, uint32_t flags, uint32_t rep) {
  uint32_t flags_word = flags | rep << 8;
  uint32_t tag = tag_of(seq, remaining, flags_word);
  put32(m, 0, seq);
  put32(m, 4, remaining);
  put32(m, 8, flags_word);
  put32(m, 12, tag);
  put32(m, rotating_offset(tag, size), tag);
  put32(m, size - 4, tag ^ TAIL_XOR);
}

/** Puts back the bytes of `base` where stamp() wrote (the stamps of `m` still in place). */
static inline void unstamp(uint8_t *m, const uint8_t *base, uint32_t size) {
  uint32_t at = rotating_offset(get32(m, 12), size);
  memcpy(m + at, base + at, 4);
  memcpy(m, base, 16);
  memcpy(m + size - 4, base + size - 4, 4);
}

struct header {
  uint32_t seq, remaining, flags, rep;
};

static inline enum problem check_stamps(const uint8_t *m, uint32_t length, uint32_t size, uint32_t expected_seq, struct header *out) {
  if (length != size) return WRONG_LENGTH;
  uint32_t seq = get32(m, 0), remaining = get32(m, 4), flags_word = get32(m, 8);
  out->seq = seq;
  out->remaining = remaining;
  out->flags = flags_word & 0xff;
  out->rep = flags_word >> 8;
  uint32_t tag = tag_of(seq, remaining, flags_word);
  if (get32(m, 12) != tag) return TAG_MISMATCH;
  if (seq != expected_seq) return WRONG_SEQ;
  if (get32(m, rotating_offset(tag, size)) != tag) return ROTATING_WRONG;
  if (get32(m, size - 4) != (tag ^ TAIL_XOR)) return TAIL_WRONG;
  return STAMP_OK;
}

/** Pseudo-random bytes, the same as basePattern() of payload.ts for a given size. */
static uint8_t *base_pattern(uint32_t size) {
  uint8_t *out = aligned_alloc(64, ((size_t)size + 63) & ~(size_t)63);
  if (!out) fail("Error", "out of memory");
  // (size * 2654435761) | 0 || 1, with JavaScript's double product and ToInt32
  uint32_t x = (uint32_t)(uint64_t)((double)size * 2654435761.0);
  if (x == 0) x = 1;
  uint32_t words = size >> 2;
  for (uint32_t i = 0; i < words; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    memcpy(out + 4 * i, &x, 4);
  }
  for (uint32_t i = words * 4; i < size; i++) out[i] = (uint8_t)i;
  return out;
}

/** Chained checksum over every byte, word by word (native order), as checksum() of payload.ts. */
static uint32_t checksum(uint32_t h, const uint8_t *b, uint32_t n) {
  uint32_t n4 = n >> 2;
  for (uint32_t i = 0; i < n4; i++) {
    uint32_t w;
    memcpy(&w, b + 4 * i, 4);
    h = (h ^ w) * 0x01000193u;
  }
  for (uint32_t i = n4 * 4; i < n; i++) h = (h ^ b[i]) * 0x01000193u;
  return (h ^ n) * 0x01000193u;
}

static long clampl(double n, long lo, long hi) {
  double r = n < 0 ? 0 : (double)(long)(n + 0.5);
  return r < lo ? lo : r > hi ? hi : (long)r;
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) fail("Error", "out of memory");
  return p;
}

// ---------------------------------------------------------------------------------------------------------------
// Throughput (bench/patterns/throughput.ts): a one-way stream, the consumer's acknowledgement after the last
// message of each repetition carries its clock, its count, its checksum and the first problem it saw.
// Copy mode: the message exists in the producer's buffer (only its stamps change); link_send copies it in,
// link_receive copies it out. Zero-copy: the producer writes every byte of the reserved view (a copy of the
// base pattern, then the stamps), the consumer compares every byte of the view in place with what the producer
// wrote (memcmp against its own copy of the pattern, stamped the same way).
// ---------------------------------------------------------------------------------------------------------------

/** verifyCount() of throughput.ts: about 8 MiB of messages, 4 to 20,000 of them. */
static long verify_count(uint32_t size) {
  long count = ((8L << 20) + size - 1) / size; // ceil(8 MiB / size)
  return count < 4 ? 4 : count > 20000 ? 20000 : count;
}

static void drive_throughput(void) {
  const uint32_t size = msg_size;
  uint8_t *base = base_pattern(size);
  uint8_t *own = base_pattern(size);
  long count = verify_count(size), timed_count = 0, timed_messages = 0, futex0 = 0;
  double *rates = xmalloc(sizeof(double) * repeat);
  int nrates = 0;
  for (int rep = 0; rep < repeat + 2; rep++) {
    if (rep == 2) futex0 = futex_calls;
    int full = rep == 0;
    uint32_t flags = full ? FULL_VERIFY : 0;
    uint32_t h = CHECKSUM_SEED;
    int64_t start = now_ns();
    for (long i = 0; i < count; i++) {
      if (zero_copy) {
        uint8_t *view = link_reserve(size);
        memcpy(view, base, size);
        stamp(view, size, (uint32_t)i, (uint32_t)(count - 1 - i), flags, (uint32_t)rep);
        if (full) h = checksum(h, view, size);
        link_commit(size);
      } else {
        stamp(own, size, (uint32_t)i, (uint32_t)(count - 1 - i), flags, (uint32_t)rep);
        if (full) h = checksum(h, own, size);
        link_send(own, size);
      }
    }
    uint32_t n;
    uint8_t *ack = link_receive(&n);
    if (n != ACK_SIZE || get32(ack, 0) != ACK_MAGIC) fail("Error", "throughput: the consumer answered something that is not an acknowledgement");
    uint32_t ok = get32(ack, 4), sum = get32(ack, 8), received = get32(ack, 12);
    int64_t end = (int64_t)((uint64_t)get32(ack, 20) << 32 | get32(ack, 16));
    uint32_t failed_at = get32(ack, 24), problem = get32(ack, 28);
    link_release();
    const char *mode = zero_copy ? "zero-copy" : "copy";
    if (!ok) {
      fail("IntegrityError", "throughput (%s), %u-byte messages, repetition %d: the receiver saw message %u arrive with %s", mode, size, rep, failed_at,
           problem < sizeof PROBLEMS / sizeof *PROBLEMS ? PROBLEMS[problem] : "an unknown problem");
    }
    if ((long)received != count) fail("IntegrityError", "throughput (%s), %u-byte messages, repetition %d: %ld messages sent, %u received", mode, size, rep, count, received);
    if (full && sum != h) {
      fail("IntegrityError", "throughput (%s), %u-byte messages, repetition %d: %s: sent 0x%x, received 0x%x", mode, size, rep, PROBLEMS[CHECKSUM_MISMATCH], h, sum);
    }
    double seconds = (double)(end - start) / 1e9;
    if (seconds < 1e-9) seconds = 1e-9;
    double per_second = (double)count / seconds;
    if (rep == 0) count = clampl(per_second * rep_seconds / 2, 3, 5000000);
    else if (rep == 1) count = timed_count = clampl(per_second * rep_seconds, 3, 5000000);
    else {
      rates[nrates++] = (double)count * size / seconds;
      timed_messages += count;
    }
  }
  printf("{\"type\":\"result\",\"size\":%u,\"perRepeat\":[", size);
  for (int i = 0; i < nrates; i++) printf("%s%.6g", i ? "," : "", rates[i]);
  printf("],\"messagesPerRepeat\":%ld,\"futexCalls\":%ld,\"timedMessages\":%ld}\n", timed_count, futex_calls - futex0, timed_messages);
  fflush(stdout);
}

static long peer_received; // over the session, for corrupt_at

static void serve_throughput(void) {
  const uint32_t size = msg_size;
  uint8_t *base = base_pattern(size);
  uint8_t *expected = base_pattern(size);
  uint8_t ack[ACK_SIZE];
  struct header header = { 0, 0, 0, 0 };
  for (int rep = 0; rep < repeat + 2; rep++) {
    uint32_t h = CHECKSUM_SEED;
    enum problem problem = STAMP_OK;
    long failed_at = -1, count = -1, received = 0;
    for (;;) {
      uint32_t n;
      uint8_t *m = link_receive(&n);
      if (peer_received++ == corrupt_at && n > 0) m[n >> 1] ^= 0x40;
      enum problem code = check_stamps(m, n, size, (uint32_t)received, &header);
      if (code == STAMP_OK && zero_copy) {
        // Read every byte where it lies: compare with the producer's message (the pattern with these stamps).
        stamp(expected, size, header.seq, header.remaining, header.flags, header.rep);
        if (memcmp(m, expected, size) != 0) code = PAYLOAD_DIFFERS;
        unstamp(expected, base, size);
      }
      if (code != STAMP_OK && problem == STAMP_OK) {
        problem = code;
        failed_at = received;
      }
      if (received == 0 && code != TAG_MISMATCH) count = (long)header.remaining + 1;
      if (header.flags & FULL_VERIFY) h = checksum(h, m, n);
      link_release();
      received++;
      if (received == count || (count < 0 && received > 0 && code == STAMP_OK && header.remaining == 0)) break;
    }
    uint64_t end = (uint64_t)now_ns();
    put32(ack, 0, ACK_MAGIC);
    put32(ack, 4, problem == STAMP_OK);
    put32(ack, 8, h);
    put32(ack, 12, (uint32_t)received);
    put32(ack, 16, (uint32_t)end);
    put32(ack, 20, (uint32_t)(end >> 32));
    put32(ack, 24, (uint32_t)failed_at);
    put32(ack, 28, problem);
    link_send(ack, ACK_SIZE);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Ping-pong (bench/patterns/pingpong.ts): one message out, the echo back; round trip from before the send to
// after the receipt. Per repetition p50, p99 and mean; every reply's stamps checked, every byte in the first.
// ---------------------------------------------------------------------------------------------------------------

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/** Nearest-rank percentile of sorted values (percentile() of patterns/common.ts). */
static double percentile(const double *sorted, long n, double q) {
  double rank = q * (double)n;
  long i = (long)rank;
  if ((double)i < rank) i++; // ceil, without libm
  i -= 1;
  if (i < 0) i = 0;
  if (i > n - 1) i = n - 1;
  return sorted[i];
}

static void drive_pingpong(void) {
  const uint32_t size = msg_size;
  uint8_t *own = base_pattern(size);
  long count = 64, timed_count = 0, timed_messages = 0, futex0 = 0;
  double *p50s = xmalloc(sizeof(double) * repeat), *p99s = xmalloc(sizeof(double) * repeat), *means = xmalloc(sizeof(double) * repeat);
  int nrep = 0;
  struct header header;
  for (int rep = 0; rep < repeat + 2; rep++) {
    if (rep == 2) futex0 = futex_calls;
    int full = rep == 0;
    uint32_t flags = full ? FULL_VERIFY : 0;
    double *rtt = xmalloc(sizeof(double) * count);
    uint32_t sent_sum = CHECKSUM_SEED, got_sum = CHECKSUM_SEED;
    for (long i = 0; i < count; i++) {
      stamp(own, size, (uint32_t)i, (uint32_t)(count - 1 - i), flags, (uint32_t)rep);
      if (full) sent_sum = checksum(sent_sum, own, size);
      int64_t t0 = now_ns();
      link_send(own, size);
      uint32_t n;
      uint8_t *m = link_receive(&n);
      int64_t t1 = now_ns();
      enum problem code = check_stamps(m, n, size, (uint32_t)i, &header);
      if (code != STAMP_OK) fail("IntegrityError", "ping-pong, %u-byte messages, repetition %d: reply %ld came back with %s", size, rep, i, PROBLEMS[code]);
      if (full) got_sum = checksum(got_sum, m, n);
      link_release();
      rtt[i] = (double)(t1 - t0);
    }
    if (full && sent_sum != got_sum) fail("IntegrityError", "ping-pong, %u-byte messages: %s between what was sent and what came back", size, PROBLEMS[CHECKSUM_MISMATCH]);
    double total = 0;
    for (long i = 0; i < count; i++) total += rtt[i];
    double per_second = (double)count / (total / 1e9);
    long next = count;
    if (rep == 0) next = clampl(per_second * rep_seconds / 2, 20, 2000000);
    else if (rep == 1) next = timed_count = clampl(per_second * rep_seconds, 20, 2000000);
    else {
      qsort(rtt, count, sizeof *rtt, cmp_double);
      p50s[nrep] = percentile(rtt, count, 0.5);
      p99s[nrep] = percentile(rtt, count, 0.99);
      means[nrep] = total / count;
      nrep++;
      timed_messages += count;
    }
    free(rtt);
    count = next;
  }
  printf("{\"type\":\"result\",\"size\":%u,\"p50s\":[", size);
  for (int i = 0; i < nrep; i++) printf("%s%.1f", i ? "," : "", p50s[i]);
  printf("],\"p99s\":[");
  for (int i = 0; i < nrep; i++) printf("%s%.1f", i ? "," : "", p99s[i]);
  printf("],\"means\":[");
  for (int i = 0; i < nrep; i++) printf("%s%.1f", i ? "," : "", means[i]);
  printf("],\"messagesPerRepeat\":%ld,\"futexCalls\":%ld,\"timedMessages\":%ld}\n", timed_count, futex_calls - futex0, timed_messages);
  fflush(stdout);
}

static void serve_pingpong(void) {
  for (int rep = 0; rep < repeat + 2; rep++) {
    uint32_t remaining = 1;
    while (remaining != 0) {
      uint32_t n;
      uint8_t *m = link_receive(&n);
      if (peer_received++ == corrupt_at && n > 0) m[n >> 1] ^= 0x40;
      remaining = n >= 8 ? get32(m, 4) : 0;
      link_send(m, n);
      link_release();
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Command line and main().
// ---------------------------------------------------------------------------------------------------------------

static const char USAGE[] =
  "usage: drive <pattern> <mode> <wait> <size> <repeat> <repSeconds> [capacity=N] [spin=N] | serve <id> <pattern> <mode> <wait> <size> <repeat> <repSeconds> [... corrupt=N]";

/** Parses the settings from argv[first..]. */
static void parse_settings(int argc, char **argv, int first) {
  if (argc < first + 6) fail("Error", "%s", USAGE);
  const char *p = argv[first], *m = argv[first + 1], *w = argv[first + 2];
  if (strcmp(p, "throughput") == 0) pattern = THROUGHPUT;
  else if (strcmp(p, "pingpong") == 0) pattern = PINGPONG;
  else fail("Error", "unknown pattern %s", p);
  if (strcmp(m, "copy") == 0) zero_copy = 0;
  else if (strcmp(m, "zero-copy") == 0) zero_copy = 1;
  else fail("Error", "unknown mode %s", m);
  if (strcmp(w, "spin") == 0) wait_kind = WAIT_SPIN;
  else if (strcmp(w, "futex") == 0) wait_kind = WAIT_FUTEX;
  else if (strcmp(w, "hybrid") == 0) wait_kind = WAIT_HYBRID;
  else fail("Error", "unknown wait strategy %s", w);
  long size = atol(argv[first + 3]);
  if (size < MIN_MESSAGE || size > (1L << 29)) fail("Error", "message size %ld out of range", size);
  msg_size = (uint32_t)size;
  repeat = atoi(argv[first + 4]);
  if (repeat < 1 || repeat > 1000) fail("Error", "repeat %d out of range", repeat);
  rep_seconds = atof(argv[first + 5]);
  if (!(rep_seconds > 0)) fail("Error", "repSeconds must be > 0");
  for (int i = first + 6; i < argc; i++) {
    const char *eq = strchr(argv[i], '=');
    if (!eq) fail("Error", "expected key=value, got %s", argv[i]);
    long value = atol(eq + 1);
    size_t key = (size_t)(eq - argv[i]);
    if (key == 8 && strncmp(argv[i], "capacity", key) == 0) opt_capacity = value;
    else if (key == 4 && strncmp(argv[i], "spin", key) == 0) opt_spin = value;
    else if (key == 7 && strncmp(argv[i], "corrupt", key) == 0) corrupt_at = value;
    else fail("Error", "unknown option %s", argv[i]);
  }
}

/** The CPUs this process may run on, as a list ("0", "0-1", "0,2"). */
static void allowed_cpus(char *out, size_t room) {
  cpu_set_t set;
  out[0] = 0;
  if (sched_getaffinity(0, sizeof set, &set) != 0) {
    snprintf(out, room, "?");
    return;
  }
  size_t used = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (!CPU_ISSET(cpu, &set)) continue;
    int last = cpu;
    while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, &set)) last++;
    int n = last > cpu ? snprintf(out + used, room - used, "%s%d-%d", used ? "," : "", cpu, last) : snprintf(out + used, room - used, "%s%d", used ? "," : "", cpu);
    if (n < 0 || (size_t)n >= room - used) break;
    used += (size_t)n;
    cpu = last;
  }
}

static void ready(int id) {
  char cpus[256];
  allowed_cpus(cpus, sizeof cpus);
  printf("{\"type\":\"ready\",\"id\":%d,\"cpus\":", id);
  json_string(cpus);
  printf("}\n");
  fflush(stdout);
}

int main(int argc, char **argv) {
  die_with_parent();
  if (argc >= 2 && strcmp(argv[1], "drive") == 0) {
    parse_settings(argc, argv, 2);
    ready(link_open_driver());
    link_connect();
    if (pattern == THROUGHPUT) drive_throughput();
    else drive_pingpong();
  } else if (argc >= 3 && strcmp(argv[1], "serve") == 0) {
    int id = atoi(argv[2]);
    parse_settings(argc, argv, 3);
    ready(link_open_peer(id));
    if (pattern == THROUGHPUT) serve_throughput();
    else serve_pingpong();
  } else {
    fail("Error", "%s", USAGE);
  }
  link_close();
  return 0;
}

#endif
