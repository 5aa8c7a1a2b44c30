// The latency floor of the benchmark (transport `c-bare`): the least two processes can do to hand a message back
// and forth through shared memory, in C. One segment with a lane per direction; a lane is a sequence word and the
// message length on one cache line, the WAITING word and the futex bell on another, the payload from a third. The
// sender copies the payload in and stores the sequence number; the receiver waits for it and copies the payload
// out. No ring, no records, no checks: one message in flight per direction, so ping-pong only.
// Waits: spin (never sleep) and futex (announce WAITING and sleep at once; the sender wakes only a sleeper). No
// hybrid: with a fixed spin before each sleep, both ends end up sleeping for every message as soon as a wake-up
// takes longer than the spin (the channel learns its spin against exactly that), which would be no floor.
//
// The patterns, the message stamps and the checks of every message are those of harness.h (the same as the
// JavaScript transports'), so its figures compare with theirs; bench/transports/bare.ts is the same floor in
// JavaScript (transport `js-bare`).
//
//   gcc -O2 -o pingpong pingpong.c      (bench/transports/native.ts compiles it at bench time)
#include "harness.h"
#include <sys/ipc.h>
#include <sys/shm.h>

#define LANE_SEQ 0
#define LANE_LENGTH 4
#define LANE_WAITING 128
#define LANE_BELL 132
#define LANE_PAYLOAD 256

struct lane {
  uint8_t *base;
  uint32_t count; // messages sent (sender) or received (receiver) on this lane
};

static struct lane out, in;
static uint8_t *segment;
static uint8_t *private_copy;

static inline uint32_t *lane_word(struct lane *l, uint32_t offset) {
  return (uint32_t *)(l->base + offset);
}

static size_t lane_bytes(void) {
  return LANE_PAYLOAD + (((size_t)msg_size + 127) & ~(size_t)127);
}

/** Lane 0 goes from the driver to the peer, lane 1 back. */
static void set_lanes(int driver) {
  struct lane down = { segment, 0 }, up = { segment + lane_bytes(), 0 };
  out = driver ? down : up;
  in = driver ? up : down;
  private_copy = aligned_alloc(64, lane_bytes());
  if (!private_copy) fail("Error", "out of memory");
  memset(private_copy, 0, lane_bytes());
}

static int link_open_driver(void) {
  if (pattern != PINGPONG) fail("Error", "c-bare carries one message at a time: ping-pong only");
  if (wait_kind == WAIT_HYBRID) fail("Error", "c-bare waits by spinning or with futex only");
  int id = shmget(IPC_PRIVATE, 2 * lane_bytes(), IPC_CREAT | 0600);
  if (id < 0) fail("Error", "shmget: %s", strerror(errno));
  void *at = shmat(id, NULL, 0);
  int err = errno;
  shmctl(id, IPC_RMID, NULL); // the peer attaches it by id while we are attached
  if (at == (void *)-1) fail("Error", "shmat: %s", strerror(err));
  segment = at;
  set_lanes(1);
  return id;
}

static void link_connect(void) {}

static int link_open_peer(int id) {
  void *at = shmat(id, NULL, 0);
  if (at == (void *)-1) fail("Error", "shmat(%d): %s", id, strerror(errno));
  segment = at;
  set_lanes(0);
  return -1;
}

static void link_send(const uint8_t *data, uint32_t n) {
  if (n > msg_size) fail("Error", "a message of %u bytes does not fit the lane (%u)", n, msg_size);
  memcpy(out.base + LANE_PAYLOAD, data, n);
  __atomic_store_n(lane_word(&out, LANE_LENGTH), n, __ATOMIC_RELAXED);
  STORE(lane_word(&out, LANE_SEQ), ++out.count);
  if (wait_kind != WAIT_SPIN && LOAD(lane_word(&out, LANE_WAITING)) != 0 && EXCHANGE(lane_word(&out, LANE_WAITING), 0) != 0) {
    ADD(lane_word(&out, LANE_BELL), 1);
    futex_wake(lane_word(&out, LANE_BELL), 1);
  }
}

static uint8_t *link_receive(uint32_t *n) {
  uint32_t expected = in.count + 1;
  uint32_t *seq = lane_word(&in, LANE_SEQ);
  if (wait_kind == WAIT_SPIN) {
    while (LOAD(seq) != expected) {
    }
  }
  while (LOAD(seq) != expected) {
    uint32_t bell = LOAD(lane_word(&in, LANE_BELL));
    STORE(lane_word(&in, LANE_WAITING), 1);
    if (LOAD(seq) == expected) {
      STORE(lane_word(&in, LANE_WAITING), 0);
      break;
    }
    futex_wait(lane_word(&in, LANE_BELL), bell, 50);
    STORE(lane_word(&in, LANE_WAITING), 0);
  }
  uint32_t length = __atomic_load_n(lane_word(&in, LANE_LENGTH), __ATOMIC_RELAXED);
  if (length > msg_size) fail("Error", "a message of %u bytes does not fit the lane (%u)", length, msg_size);
  memcpy(private_copy, in.base + LANE_PAYLOAD, length);
  in.count = expected;
  *n = length;
  return private_copy;
}

static void link_release(void) {}

static uint8_t *link_reserve(uint32_t n) {
  (void)n;
  fail("Error", "c-bare has no zero-copy mode");
}

static void link_commit(uint32_t n) {
  (void)n;
}

static void link_close(void) {
  if (segment) shmdt(segment);
  segment = NULL;
}
