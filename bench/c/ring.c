// The throughput anchor of the benchmark (transport `c-ring`): the library's channel protocol written in C, so
// that the report can say how close the JavaScript channel comes to what this machine allows with the same
// protocol, the same copies and the same CPUs.
//
// Everything the channel does on its paths is here (lib/sync/channel.ts, lib/sync/ring-layout.ts,
// lib/sync/spin-policy.ts, docs/channel.md): one segment per direction, created by its producer (IPC_PRIVATE,
// attached, IPC_RMID at once) with the version-2 header (magic stored last, pids and start times); free-running
// u32 head and tail byte counters on their own 128-byte lines, each end caching the other's counter and reading
// it again only when the cache says "full" / "empty"; 8-byte-aligned records [u32 length, u32 0, payload] in a
// power-of-two ring, a wrap marker when a record does not fit before the end (published alone when only the
// marker fits); the consumer's checks of every head, length and marker it reads (EPROTO); waiting as the channel
// waits synchronously: spin (with the learnt spin of spin-policy.ts), then sliced futex sleeps announced in the
// end's wake-up cell (STATE = FUTEX), the own counter published again before each sleep. The other side wakes it
// only when it finds STATE set, through doorbell.c's cell_wake(), which also reaches a peer that sleeps in its
// event loop (STATE = DOORBELL: the cell's token sent to that end's doorbell socket), such as an asynchronous
// JavaScript end. close() wakes the peer both ways.
//
// Copy mode makes the channel's two copies: memcpy into the ring on the producer (send), memcpy out of it on the
// consumer (receiveInto). Zero-copy mode writes and reads the payload in place (reserve/commit, peek/release).
// Both ends are C; bench/transports/native.ts starts them pinned like the JavaScript ends. The header is the
// library's, so a JavaScript Channel can open a channel made here and the other way round (test/bench checks it).
//
//   gcc -O2 -Wall -o ring ring.c doorbell.c -pthread      (bench/transports/native.ts compiles it at bench time)
#include "harness.h"
#include "doorbell.h"
#include <sys/ipc.h>
#include <sys/shm.h>

// lib/sync/ring-layout.ts
#define MAGIC 0x434d4853u
#define VERSION 2
#define LINE 128
#define OFF_MAGIC 0
#define OFF_VERSION 4
#define OFF_CAPACITY 8
#define OFF_DATA_OFFSET 12
#define OFF_PRODUCER_PID 16
#define OFF_CONSUMER_PID 20
#define OFF_PRODUCER_CLOSED 24
#define OFF_CONSUMER_CLOSED 28
#define OFF_MAX_MESSAGE 32
#define OFF_PRODUCER_START 40
#define OFF_CONSUMER_START 48
#define OFF_HEAD (LINE * 1)
#define OFF_TAIL (LINE * 2)
// the wake-up cells (CELL_* offsets and states: doorbell.h): the consumer sleeps on its own (for records), the
// producer on its own (for room); each is written by its end, except BELL and the STATE exchange (the peer's)
#define OFF_CONSUMER_CELL (LINE * 3)
#define OFF_PRODUCER_CELL (LINE * 4)
#define DATA_OFFSET (LINE * 8)
#define RECORD_HEADER 8u
#define RECORD_ALIGN 8u
#define WRAP_MARKER 0xffffffffu
#define MIN_CAPACITY 64u
#define MAX_CAPACITY (1u << 30)

// lib/sync/channel.ts
#define SLICE_MS 50
#define DEFAULT_SPIN 4000

static inline uint32_t record_size(uint32_t n) {
  return RECORD_HEADER + ((n + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1));
}

// ---------------------------------------------------------------------------------------------------------------
// The learnt spin (lib/sync/spin-policy.ts, line for line).
// ---------------------------------------------------------------------------------------------------------------

#define SHORT_SLEEP_MS 0.5
#define MAX_SPIN_MS 0.2
#define SPIN_CHECK_EVERY 1024
#define MAX_BUDGET (1L << 24)
#define PROBE_INTERVAL 256
#define MAX_PROBE_INTERVAL (1L << 16)

struct spin_policy {
  long base, budget, sleep_first, probe_interval;
  int futile;
  double spin_start;
};

static void policy_init(struct spin_policy *p, long base) {
  p->base = p->budget = base;
  p->sleep_first = 0;
  p->probe_interval = PROBE_INTERVAL;
  p->futile = 0;
  p->spin_start = -1;
}

static long policy_next(struct spin_policy *p) {
  p->spin_start = -1;
  if (p->sleep_first > 0) {
    p->sleep_first--;
    return 0;
  }
  return p->budget;
}

static int policy_keep_spinning(struct spin_policy *p) {
  double now = now_ms();
  if (p->spin_start < 0) {
    p->spin_start = now;
    return 1;
  }
  return p->budget <= p->base || now - p->spin_start < MAX_SPIN_MS;
}

static void policy_spun(struct spin_policy *p) {
  if (p->futile) {
    p->futile = 0;
    p->probe_interval = PROBE_INTERVAL;
  }
}

static void policy_slept(struct spin_policy *p, long budget, double spin_end, double slept_ms) {
  if (budget == 0) return;
  if (slept_ms >= SHORT_SLEEP_MS) {
    p->futile = 0;
    p->probe_interval = PROBE_INTERVAL;
    p->budget = p->budget >> 1 > p->base ? p->budget >> 1 : p->base;
    return;
  }
  double spin_ms = p->spin_start < 0 ? 0 : spin_end - p->spin_start;
  long max_budget = MAX_BUDGET > p->base ? MAX_BUDGET : p->base;
  if (spin_ms >= MAX_SPIN_MS || p->budget >= max_budget) {
    p->probe_interval = p->futile ? (p->probe_interval * 2 < MAX_PROBE_INTERVAL ? p->probe_interval * 2 : MAX_PROBE_INTERVAL) : PROBE_INTERVAL;
    p->futile = 1;
    p->sleep_first = p->probe_interval;
    p->budget = p->base;
    return;
  }
  p->budget = p->budget * 2 < max_budget ? p->budget * 2 : max_budget;
}

// ---------------------------------------------------------------------------------------------------------------
// One end of one channel.
// ---------------------------------------------------------------------------------------------------------------

struct channel {
  int id;
  uint8_t *seg;
  uint8_t *ring;
  uint32_t capacity, mask;
  int producer;
  // producer: the local write counter and the last tail seen; consumer: the local read counter and the last head seen
  uint32_t head, tail_seen;
  uint32_t tail, head_seen;
  struct spin_policy policy;
};

static inline uint32_t *word(struct channel *c, uint32_t offset) {
  return (uint32_t *)(c->seg + offset);
}

/** The cell this end sleeps on, and the one of its peer, which it wakes. */
static inline uint32_t own_cell(struct channel *c) {
  return c->producer ? OFF_PRODUCER_CELL : OFF_CONSUMER_CELL;
}

static inline uint32_t peer_cell(struct channel *c) {
  return c->producer ? OFF_CONSUMER_CELL : OFF_PRODUCER_CELL;
}

/**
 * The waker, after publishing a counter: wakes the peer if its cell says that it sleeps (one load when it does
 * not), by FUTEX_WAKE or through its doorbell (doorbell.c).
 */
static inline void wake_peer(struct channel *c) {
  if (cell_wake(c->seg + peer_cell(c)) == WAKE_FUTEX) futex_calls++;
}

/** Clock ticks since boot at this process's start (/proc/self/stat field 22), as the channel stores it. */
static double start_time(void) {
  char text[1024];
  FILE *f = fopen("/proc/self/stat", "r");
  if (!f) return 0;
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = 0;
  char *p = strrchr(text, ')');
  if (!p) return 0;
  p += 2; // field 3
  for (int field = 3; field < 22 && p; field++) {
    p = strchr(p, ' ');
    if (p) p++;
  }
  return p ? strtod(p, NULL) : 0;
}

/** Whether the process `pid` runs (a zombie does not). */
static int alive(int pid) {
  if (pid <= 0) return 1; // no consumer yet
  if (kill(pid, 0) != 0 && errno == ESRCH) return 0;
  char path[64], text[512];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = 0;
  char *p = strrchr(text, ')');
  return !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X' || p[2] == 'x'));
}

static __attribute__((noreturn)) void corrupt(struct channel *c, const char *what, uint32_t a, uint32_t b) {
  fail("EPROTO", "channel %d is corrupted: %s (%u, %u)", c->id, what, a, b);
}

static void channel_create(struct channel *c, uint32_t capacity, long spin) {
  if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || (capacity & (capacity - 1))) fail("Error", "capacity %u is not a power of two in [64, 2^30]", capacity);
  int id = shmget(IPC_PRIVATE, DATA_OFFSET + capacity, IPC_CREAT | 0600);
  if (id < 0) fail("Error", "shmget: %s", strerror(errno));
  void *seg = shmat(id, NULL, 0);
  int err = errno;
  shmctl(id, IPC_RMID, NULL); // marked at once, like Channel.create: gone with the last detach, whatever happens
  if (seg == (void *)-1) fail("Error", "shmat: %s", strerror(err));
  memset(c, 0, sizeof *c);
  c->id = id;
  c->seg = seg;
  c->ring = c->seg + DATA_OFFSET;
  c->capacity = capacity;
  c->mask = capacity - 1;
  c->producer = 1;
  policy_init(&c->policy, spin);
  *word(c, OFF_VERSION) = VERSION;
  *word(c, OFF_CAPACITY) = capacity;
  *word(c, OFF_DATA_OFFSET) = DATA_OFFSET;
  *word(c, OFF_MAX_MESSAGE) = capacity - RECORD_HEADER;
  double start = start_time();
  memcpy(c->seg + OFF_PRODUCER_START, &start, 8);
  *word(c, OFF_PRODUCER_PID) = (uint32_t)getpid();
  STORE(word(c, OFF_MAGIC), MAGIC);
}

static void channel_open(struct channel *c, int id, long spin) {
  void *seg = shmat(id, NULL, 0);
  if (seg == (void *)-1) fail("Error", "shmat(%d): %s", id, strerror(errno));
  memset(c, 0, sizeof *c);
  c->id = id;
  c->seg = seg;
  if (LOAD(word(c, OFF_MAGIC)) != MAGIC) fail("EPROTO", "segment %d is not a channel", id);
  if (*word(c, OFF_VERSION) != VERSION) fail("EPROTO", "segment %d holds channel version %u", id, *word(c, OFF_VERSION));
  uint32_t capacity = *word(c, OFF_CAPACITY);
  if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || (capacity & (capacity - 1)) || *word(c, OFF_DATA_OFFSET) != DATA_OFFSET) fail("EPROTO", "segment %d: bad capacity or data offset", id);
  uint32_t head = LOAD(word(c, OFF_HEAD));
  if (head > capacity || head % RECORD_ALIGN) fail("EPROTO", "segment %d: head %u", id, head);
  uint32_t none = 0;
  if (!CAS(word(c, OFF_CONSUMER_PID), &none, (uint32_t)getpid())) fail("EBUSY", "channel %d already has a consumer", id);
  double start = start_time();
  memcpy(c->seg + OFF_CONSUMER_START, &start, 8);
  c->ring = c->seg + DATA_OFFSET;
  c->capacity = capacity;
  c->mask = capacity - 1;
  c->producer = 0;
  c->head_seen = head;
  policy_init(&c->policy, spin);
}

/**
 * close(): the closed flag; both bells bumped and every futex sleeper on them woken; then the peer's cell rung
 * like a waker does, so that a peer asleep in its event loop gets its token; detach.
 */
static void channel_close(struct channel *c) {
  if (!c->seg) return;
  STORE(word(c, c->producer ? OFF_PRODUCER_CLOSED : OFF_CONSUMER_CLOSED), 1);
  ADD(word(c, OFF_CONSUMER_CELL + CELL_BELL), 1);
  ADD(word(c, OFF_PRODUCER_CELL + CELL_BELL), 1);
  futex_wake(word(c, OFF_CONSUMER_CELL + CELL_BELL), 0x7fffffff);
  futex_wake(word(c, OFF_PRODUCER_CELL + CELL_BELL), 0x7fffffff);
  wake_peer(c);
  shmdt(c->seg);
  c->seg = NULL;
}

/**
 * Called with the sleep announced (STATE = FUTEX) and the condition still false (#beforeSleep): EPIPE if the peer
 * closed; this end's counter published again (a counter overwritten by another process must not make both ends
 * wait).
 */
static void before_sleep(struct channel *c) {
  if (LOAD(word(c, c->producer ? OFF_CONSUMER_CLOSED : OFF_PRODUCER_CLOSED)) != 0) {
    STORE(word(c, own_cell(c) + CELL_STATE), CELL_IDLE);
    fail("EPIPE", "the %s closed channel %d", c->producer ? "consumer" : "producer", c->id);
  }
  if (c->producer) STORE(word(c, OFF_HEAD), c->head);
  else STORE(word(c, OFF_TAIL), c->tail);
}

/** #afterSleep: the peer's liveness once per slice of waiting. */
static double after_sleep(struct channel *c, int result, double check_at) {
  double now = now_ms();
  if (result != ETIMEDOUT && now < check_at) return check_at;
  int pid = (int)LOAD(word(c, c->producer ? OFF_CONSUMER_PID : OFF_PRODUCER_PID));
  if (!alive(pid)) fail("EPIPE", "the %s (pid %d) of channel %d exited", c->producer ? "consumer" : "producer", pid, c->id);
  return now + SLICE_MS;
}

// ---------------------------------------------------------------------------------------------------------------
// Producer (send, reserve/commit).
// ---------------------------------------------------------------------------------------------------------------

/** #loadTail: the consumer's tail, read once and checked (forward only, whole records, never past the head). */
static uint32_t load_tail(struct channel *c) {
  uint32_t tail = LOAD(word(c, OFF_TAIL));
  if (c->head - tail > c->head - c->tail_seen || tail % RECORD_ALIGN) corrupt(c, "tail moved backwards or is not a multiple of 8 (tail, last seen)", tail, c->tail_seen);
  c->tail_seen = tail;
  return tail;
}

static inline int room(struct channel *c, uint32_t bytes) {
  if ((uint64_t)(c->head - c->tail_seen) + bytes <= c->capacity) return 1;
  return (uint64_t)(c->head - load_tail(c)) + bytes <= c->capacity;
}

/** #publish: the local head, then the consumer woken only if its cell announces that it sleeps. */
static inline void publish(struct channel *c) {
  STORE(word(c, OFF_HEAD), c->head);
  wake_peer(c);
}

/** #tryAcquire: the ring offset for a record of `record` bytes now, or -1; a wrap marker when it does not fit. */
static inline long try_acquire(struct channel *c, uint32_t record) {
  uint32_t pos = c->head & c->mask;
  uint32_t contiguous = c->capacity - pos;
  if (contiguous >= record) return room(c, record) ? (long)pos : -1;
  if (room(c, contiguous + record)) {
    *(uint32_t *)(c->ring + pos) = WRAP_MARKER;
    c->head += contiguous;
    return 0;
  }
  if (!room(c, contiguous)) return -1;
  *(uint32_t *)(c->ring + pos) = WRAP_MARKER;
  c->head += contiguous;
  publish(c);
  return room(c, record) ? 0 : -1;
}

/** #acquire: waits for room (spin, then sliced futex sleeps). */
static uint32_t acquire(struct channel *c, uint32_t record) {
  long pos = try_acquire(c, record);
  if (pos >= 0) return (uint32_t)pos;
  struct spin_policy *policy = &c->policy;
  long spun = policy_next(policy);
  for (long i = spun; i > 0; i--) {
    pos = try_acquire(c, record);
    if (pos >= 0) {
      policy_spun(policy);
      return (uint32_t)pos;
    }
    if ((i & (SPIN_CHECK_EVERY - 1)) == 0 && !policy_keep_spinning(policy)) break;
  }
  // The synchronous sleeper: bell = load(BELL); store(STATE, FUTEX); re-check; futex_wait; store(STATE, IDLE).
  uint32_t *bell = word(c, OFF_PRODUCER_CELL + CELL_BELL), *state = word(c, OFF_PRODUCER_CELL + CELL_STATE);
  double started = now_ms(), check_at = started + SLICE_MS;
  for (int slept = 0;; slept = 1) {
    uint32_t seen = LOAD(bell);
    STORE(state, CELL_FUTEX);
    pos = try_acquire(c, record);
    if (pos >= 0) {
      STORE(state, CELL_IDLE);
      if (slept) policy_slept(policy, spun, started, now_ms() - started);
      return (uint32_t)pos;
    }
    before_sleep(c);
    int result = futex_wait(bell, seen, SLICE_MS);
    STORE(state, CELL_IDLE);
    check_at = after_sleep(c, result, check_at);
  }
}

static inline void write_header(struct channel *c, uint32_t pos, uint32_t n) {
  *(uint32_t *)(c->ring + pos) = n;
  *(uint32_t *)(c->ring + pos + 4) = 0;
}

/** send(): one copy into the ring. */
static void channel_send(struct channel *c, const uint8_t *data, uint32_t n) {
  if (n > c->capacity - RECORD_HEADER) fail("Error", "EMSGSIZE: %u bytes do not fit a ring of %u", n, c->capacity);
  uint32_t record = record_size(n);
  uint32_t pos = acquire(c, record);
  write_header(c, pos, n);
  memcpy(c->ring + pos + RECORD_HEADER, data, n);
  c->head += record;
  publish(c);
}

static uint32_t reserved_pos;

static uint8_t *channel_reserve(struct channel *c, uint32_t n) {
  if (n > c->capacity - RECORD_HEADER) fail("Error", "EMSGSIZE: %u bytes do not fit a ring of %u", n, c->capacity);
  reserved_pos = acquire(c, record_size(n));
  return c->ring + reserved_pos + RECORD_HEADER;
}

static void channel_commit(struct channel *c, uint32_t n) {
  write_header(c, reserved_pos, n);
  c->head += record_size(n);
  publish(c);
}

// ---------------------------------------------------------------------------------------------------------------
// Consumer (receiveInto, peek/release).
// ---------------------------------------------------------------------------------------------------------------

/** #seeHead: a head read from the header, checked (within capacity ahead of the tail, whole records). */
static inline void see_head(struct channel *c, uint32_t head) {
  if (head - c->tail > c->capacity || head % RECORD_ALIGN) corrupt(c, "head not within capacity ahead of tail (head, tail)", head, c->tail);
  c->head_seen = head;
}

/** #publishTail: the local tail, then the producer woken only if its cell announces that it sleeps. */
static inline void publish_tail(struct channel *c) {
  STORE(word(c, OFF_TAIL), c->tail);
  wake_peer(c);
}

/** #tryNext: the length of the next record (read once and checked), or -1 when the ring is empty. */
static inline long try_next(struct channel *c) {
  uint32_t tail = c->tail;
  if (tail == c->head_seen) {
    uint32_t head = LOAD(word(c, OFF_HEAD));
    if (head == tail) return -1;
    see_head(c, head);
  }
  uint32_t pos = tail & c->mask;
  uint32_t length = __atomic_load_n((uint32_t *)(c->ring + pos), __ATOMIC_RELAXED);
  if (length == WRAP_MARKER) {
    uint32_t skip = c->capacity - pos;
    if (pos == 0) corrupt(c, "a wrap marker at ring offset 0 (tail, 0)", tail, 0);
    if (skip > c->head_seen - tail) corrupt(c, "a wrap marker skips more than is published (skip, published)", skip, c->head_seen - tail);
    tail = c->tail = tail + skip;
    publish_tail(c);
    if (tail == c->head_seen) {
      uint32_t head = LOAD(word(c, OFF_HEAD));
      if (head == tail) return -1;
      see_head(c, head);
    }
    pos = 0;
    length = __atomic_load_n((uint32_t *)c->ring, __ATOMIC_RELAXED);
    if (length == WRAP_MARKER) corrupt(c, "two wrap markers in a row (offsets)", c->capacity - skip, 0);
  }
  if (length > c->capacity - RECORD_HEADER - pos) corrupt(c, "a record does not fit before the end of the ring (length, offset)", length, pos);
  if (record_size(length) > c->head_seen - tail) corrupt(c, "a record longer than what is published (length, published)", length, c->head_seen - tail);
  return length;
}

/** #next: waits for a message (spin, then sliced futex sleeps); returns its length. */
static uint32_t next(struct channel *c) {
  long length = try_next(c);
  if (length >= 0) return (uint32_t)length;
  struct spin_policy *policy = &c->policy;
  long spun = policy_next(policy);
  uint32_t tail = c->tail;
  for (long i = spun; i > 0; i--) {
    uint32_t head = LOAD(word(c, OFF_HEAD));
    if (head != tail) {
      see_head(c, head);
      length = try_next(c);
      if (length >= 0) {
        policy_spun(policy);
        return (uint32_t)length;
      }
      tail = c->tail;
    }
    if ((i & (SPIN_CHECK_EVERY - 1)) == 0 && !policy_keep_spinning(policy)) break;
  }
  // The synchronous sleeper, as in acquire(), on the consumer's cell.
  uint32_t *bell = word(c, OFF_CONSUMER_CELL + CELL_BELL), *state = word(c, OFF_CONSUMER_CELL + CELL_STATE);
  double started = now_ms(), check_at = started + SLICE_MS;
  for (int slept = 0;; slept = 1) {
    uint32_t seen = LOAD(bell);
    STORE(state, CELL_FUTEX);
    length = try_next(c);
    if (length >= 0) {
      STORE(state, CELL_IDLE);
      if (slept) policy_slept(policy, spun, started, now_ms() - started);
      return (uint32_t)length;
    }
    before_sleep(c);
    int result = futex_wait(bell, seen, SLICE_MS);
    STORE(state, CELL_IDLE);
    check_at = after_sleep(c, result, check_at);
  }
}

static inline void release_record(struct channel *c, uint32_t length) {
  c->tail += record_size(length);
  publish_tail(c);
}

// ---------------------------------------------------------------------------------------------------------------
// The link of harness.h: the driver produces on `out` (its segment) and consumes `in` (the peer's); the peer the
// other way round. Both rings have the capacity given on the command line (capacityFor() of the JS transports).
// ---------------------------------------------------------------------------------------------------------------

static struct channel out, in;
static uint8_t *private_copy; // copy mode: what link_receive copies out into (receiveInto's target)
static uint32_t peeked = WRAP_MARKER;

static long spin_for_wait(void) {
  if (wait_kind == WAIT_SPIN) return 2000000000L; // as the JS transport: never sleep
  if (wait_kind == WAIT_FUTEX) return 0;
  return opt_spin >= 0 ? opt_spin : DEFAULT_SPIN;
}

static uint32_t ring_capacity(void) {
  uint32_t c = MIN_CAPACITY;
  uint64_t wanted = opt_capacity > 0 ? (uint64_t)opt_capacity : 4ull * (msg_size + 16);
  while (c < wanted && c < MAX_CAPACITY) c *= 2;
  return c;
}

static void allocate_private(void) {
  uint32_t n = msg_size > ACK_SIZE ? msg_size : ACK_SIZE;
  private_copy = aligned_alloc(64, ((size_t)n + 63) & ~(size_t)63);
  if (!private_copy) fail("Error", "out of memory");
  memset(private_copy, 0, n);
}

static int link_open_driver(void) {
  allocate_private();
  channel_create(&out, ring_capacity(), spin_for_wait());
  return out.id;
}

/** The peer's ready line named its channel; the node process passes the id on to our stdin. */
static void link_connect(void) {
  int id;
  if (scanf("%d", &id) != 1) fail("Error", "expected the peer's channel id on stdin");
  channel_open(&in, id, spin_for_wait());
}

static int link_open_peer(int id) {
  allocate_private();
  channel_open(&in, id, spin_for_wait());
  channel_create(&out, ring_capacity(), spin_for_wait());
  return out.id;
}

static void link_send(const uint8_t *data, uint32_t n) {
  channel_send(&out, data, n);
}

static uint8_t *link_reserve(uint32_t n) {
  return channel_reserve(&out, n);
}

static void link_commit(uint32_t n) {
  channel_commit(&out, n);
}

static uint8_t *link_receive(uint32_t *n) {
  uint32_t length = next(&in);
  uint8_t *at = in.ring + (in.tail & in.mask) + RECORD_HEADER;
  *n = length;
  if (zero_copy) {
    peeked = length;
    return at;
  }
  if (length > (msg_size > ACK_SIZE ? msg_size : ACK_SIZE)) fail("Error", "a message of %u bytes does not fit the receive buffer", length);
  memcpy(private_copy, at, length);
  release_record(&in, length);
  return private_copy;
}

static void link_release(void) {
  if (peeked == WRAP_MARKER) return;
  release_record(&in, peeked);
  peeked = WRAP_MARKER;
}

static void link_close(void) {
  channel_close(&out);
  channel_close(&in);
  doorbell_disconnect_all();
}
