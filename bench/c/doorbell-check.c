// Checks of the C waker (doorbell.c), used by test/bench/doorbell.test.ts:
//
//   doorbell-check self                 plays both sides in one process: its own listening doorbell, cells in
//                                       local memory; every case of the waker (see main_self). Prints one JSON line
//                                       per case and exits 0 when all pass, 1 at the first that does not.
//   doorbell-check ring <shmid> <offset>
//                                       the waker of a cell that another process announces: attaches the segment
//                                       (System V, by id), then for every line on stdin calls cell_wake() on the
//                                       cell at byte `offset` and prints {"result":..,"connects":..,"sends":..}.
//
//   gcc -O2 -Wall -o doorbell-check doorbell-check.c doorbell.c -pthread
#define _GNU_SOURCE
#include "doorbell.h"
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)

static int checks;

#define CHECK(cond, ...)                                                                                           \
  do {                                                                                                             \
    if (!(cond)) {                                                                                                 \
      printf("{\"check\":%d,\"ok\":false,\"line\":%d,\"message\":\"", checks, __LINE__);                          \
      printf(__VA_ARGS__);                                                                                         \
      printf("\"}\n");                                                                                             \
      exit(1);                                                                                                     \
    }                                                                                                              \
    checks++;                                                                                                      \
  } while (0)

static void passed(const char *what) {
  printf("{\"case\":\"%s\",\"ok\":true}\n", what);
  fflush(stdout);
}

// A cell in local memory: 8 words, as in a segment.
static uint32_t cell[CELL_SIZE / 4] __attribute__((aligned(64)));

static uint32_t *at(int offset) {
  return &cell[offset / 4];
}

static void announce_doorbell(int32_t pid, uint32_t a, uint32_t b, uint32_t token) {
  STORE(at(CELL_KIND), CELL_KIND_SOCKET);
  STORE(at(CELL_PID), (uint32_t)pid);
  STORE(at(CELL_NONCE_A), a);
  STORE(at(CELL_NONCE_B), b);
  STORE(at(CELL_TOKEN), token);
  STORE(at(CELL_STATE), CELL_DOORBELL);
}

/** A listening doorbell as the library makes one (the whole sockaddr_un), or `unpadded`: its name without the dots. */
static int listen_doorbell(int32_t pid, uint32_t a, uint32_t b, int unpadded) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  int n = doorbell_name(addr.sun_path + 1, sizeof addr.sun_path - 1, pid, a, b);
  CHECK(n == DOORBELL_NAME_LENGTH, "name length %d", n);
  size_t dots = 0; // the name is not NUL-terminated (it fills sun_path): count the trailing dots by hand
  while (dots < (size_t)n && addr.sun_path[n - dots] == '.') dots++;
  socklen_t length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n - (unpadded ? dots : 0));
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CHECK(fd >= 0, "socket: %s", strerror(errno));
  CHECK(bind(fd, (struct sockaddr *)&addr, length) == 0, "bind: %s", strerror(errno));
  CHECK(listen(fd, 16) == 0, "listen: %s", strerror(errno));
  return fd;
}

/** The next connection of a listener (waits up to a second). */
static int accept_one(int listener) {
  struct pollfd p = { listener, POLLIN, 0 };
  CHECK(poll(&p, 1, 1000) == 1, "no connection to accept");
  int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
  CHECK(fd >= 0, "accept: %s", strerror(errno));
  return fd;
}

/** Reads exactly 4 bytes (waits up to a second) and returns them as a native word. */
static uint32_t read_token(int fd) {
  uint8_t bytes[4];
  size_t got = 0;
  while (got < 4) {
    struct pollfd p = { fd, POLLIN, 0 };
    CHECK(poll(&p, 1, 1000) == 1, "no token arrived (%zu of 4 bytes)", got);
    ssize_t n = read(fd, bytes + got, 4 - got);
    CHECK(n > 0, "read: %zd %s", n, strerror(errno));
    got += (size_t)n;
  }
  uint32_t token;
  memcpy(&token, bytes, 4);
  return token;
}

/** Whether a socket has nothing to read right now. */
static int quiet(int fd) {
  struct pollfd p = { fd, POLLIN, 0 };
  return poll(&p, 1, 0) == 0;
}

static uint32_t nonce(void) {
  static int seeded;
  if (!seeded) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    srandom((unsigned)(ts.tv_nsec ^ getpid()));
    seeded = 1;
  }
  return (uint32_t)random() ^ (uint32_t)random() << 16;
}

// A synchronous sleeper on the cell, in another thread: the futex path of cell_wake().
static volatile int sleeper_result = -1;

static void *sleeper(void *unused) {
  (void)unused;
  uint32_t seen = LOAD(at(CELL_BELL));
  STORE(at(CELL_STATE), CELL_FUTEX);
  struct timespec ts = { 5, 0 };
  long r = syscall(SYS_futex, at(CELL_BELL), FUTEX_WAIT, seen, &ts, NULL, 0);
  int e = errno;
  STORE(at(CELL_STATE), CELL_IDLE);
  sleeper_result = r == 0 ? 0 : e;
  return NULL;
}

static int main_self(void) {
  int32_t pid = getpid();
  char name[108];

  // The name: decimal pid, each nonce word as 8 lowercase hex digits; no name for pid <= 0.
  CHECK(doorbell_name(name, sizeof name, 1234, 0xdeadbeefu, 0xabcdu) == DOORBELL_NAME_LENGTH, "name length");
  CHECK(strncmp(name, "sysv-shm-bell/1234/deadbeef0000abcd/...", 39) == 0 && strlen(name) == DOORBELL_NAME_LENGTH &&
            strspn(name + 36, ".") == DOORBELL_NAME_LENGTH - 36,
        "name %s", name);
  CHECK(doorbell_name(name, sizeof name, 0, 1, 2) == -1 && doorbell_name(name, sizeof name, -7, 1, 2) == -1, "pid <= 0 named");
  passed("name");

  // Nobody sleeps: nothing at all (the bell stays, no call).
  struct doorbell_counts before = doorbell_counts;
  STORE(at(CELL_BELL), 41);
  CHECK(cell_wake(cell) == WAKE_NONE, "idle cell woken");
  CHECK(LOAD(at(CELL_BELL)) == 41, "idle cell's bell bumped");
  CHECK(memcmp(&before, &doorbell_counts, sizeof before) == 0, "idle cell made calls");
  passed("idle");

  // An asynchronous sleeper: STATE exchanged to IDLE, BELL + 1, its token on its doorbell; one connection, kept.
  uint32_t a = nonce(), b = nonce();
  int listener = listen_doorbell(pid, a, b, 0);
  announce_doorbell(pid, a, b, 0x11223344u);
  CHECK(cell_wake(cell) == WAKE_SENT, "doorbell not rung");
  CHECK(LOAD(at(CELL_STATE)) == CELL_IDLE && LOAD(at(CELL_BELL)) == 42, "state %u bell %u", LOAD(at(CELL_STATE)), LOAD(at(CELL_BELL)));
  int conn = accept_one(listener);
  CHECK(read_token(conn) == 0x11223344u, "wrong token");
  CHECK(doorbell_counts.connects == before.connects + 1, "connects");
  for (uint32_t token = 1; token <= 3; token++) {
    announce_doorbell(pid, a, b, token);
    CHECK(cell_wake(cell) == WAKE_SENT, "doorbell not rung again");
    CHECK(read_token(conn) == token, "wrong token %u", token);
  }
  CHECK(doorbell_counts.connects == before.connects + 1, "the connection was not kept");
  CHECK(quiet(listener), "a second connection");
  passed("doorbell");

  // A cell rung twice without a new announcement: the second waker finds it idle.
  CHECK(cell_wake(cell) == WAKE_NONE && quiet(conn), "a withdrawn sleep was rung");
  passed("once");

  // The owner dropped the kept connection: the next send fails (EPIPE), one reconnect reaches the doorbell.
  close(conn);
  announce_doorbell(pid, a, b, 77);
  CHECK(cell_wake(cell) == WAKE_SENT, "not rung after the owner dropped the connection");
  CHECK(doorbell_counts.connects == before.connects + 2, "no reconnect");
  conn = accept_one(listener);
  CHECK(read_token(conn) == 77, "wrong token after reconnect");
  passed("reconnect");

  // The owner is gone (listener and connection closed): GONE, nothing blocks; STATE cleared all the same.
  close(conn);
  close(listener);
  announce_doorbell(pid, a, b, 78);
  CHECK(cell_wake(cell) == WAKE_GONE, "a closed doorbell rung");
  CHECK(LOAD(at(CELL_STATE)) == CELL_IDLE, "state");
  announce_doorbell(pid, nonce(), nonce(), 79);
  CHECK(cell_wake(cell) == WAKE_GONE, "a doorbell nobody listens on rung");
  passed("gone");

  // A doorbell bound with its name unpadded (a shorter address) is another name: not reached.
  a = nonce(), b = nonce();
  listener = listen_doorbell(pid, a, b, 1);
  announce_doorbell(pid, a, b, 80);
  CHECK(cell_wake(cell) == WAKE_GONE, "an unpadded name reached");
  CHECK(quiet(listener), "an unpadded name got a connection");
  close(listener);
  passed("addrlen");

  // Hostile or unknown cells: no connection, no send; the cell is cleared and its bell bumped.
  a = nonce(), b = nonce();
  listener = listen_doorbell(pid, a, b, 0);
  before = doorbell_counts;
  uint32_t bell = LOAD(at(CELL_BELL));
  struct {
    uint32_t state, kind;
    int32_t pid;
  } bad[] = {
    { CELL_DOORBELL, 2, pid },                 // an unknown kind
    { CELL_DOORBELL, 0, pid },                 // no kind
    { CELL_DOORBELL, CELL_KIND_SOCKET, 0 },    // no pid
    { CELL_DOORBELL, CELL_KIND_SOCKET, -1 },   // a negative pid
    { 3, CELL_KIND_SOCKET, pid },              // an unknown state
    { 0xffffffffu, CELL_KIND_SOCKET, pid },    // another one
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    announce_doorbell(pid, a, b, 90);
    STORE(at(CELL_KIND), bad[i].kind);
    STORE(at(CELL_PID), (uint32_t)bad[i].pid);
    STORE(at(CELL_STATE), bad[i].state);
    CHECK(cell_wake(cell) == WAKE_BAD, "bad cell %zu not refused", i);
    CHECK(LOAD(at(CELL_STATE)) == CELL_IDLE && LOAD(at(CELL_BELL)) == ++bell, "bad cell %zu: state or bell", i);
  }
  CHECK(doorbell_counts.connects == before.connects && doorbell_counts.sends == before.sends, "a bad cell made a connection");
  CHECK(quiet(listener), "a bad cell reached the doorbell");
  passed("hostile");

  // A full doorbell (its owner reads nothing): FULL, never blocking; once read, rung again.
  announce_doorbell(pid, a, b, 5);
  CHECK(cell_wake(cell) == WAKE_SENT, "not rung");
  conn = accept_one(listener);
  int sent = 1, result = WAKE_SENT;
  while (sent < 100000) {
    announce_doorbell(pid, a, b, 5);
    result = cell_wake(cell);
    if (result != WAKE_SENT) break;
    sent++;
  }
  CHECK(result == WAKE_FULL, "never full: %d after %d tokens", result, sent);
  CHECK(LOAD(at(CELL_STATE)) == CELL_IDLE, "state");
  for (int i = 0; i < sent; i++) CHECK(read_token(conn) == 5, "token %d", i);
  CHECK(quiet(conn), "more tokens than sent");
  announce_doorbell(pid, a, b, 6);
  CHECK(cell_wake(cell) == WAKE_SENT, "not rung after the doorbell was read");
  CHECK(read_token(conn) == 6, "token");
  printf("{\"case\":\"full\",\"ok\":true,\"tokensBeforeFull\":%d}\n", sent);
  close(conn);
  close(listener);

  // A synchronous sleeper: FUTEX_WAKE.
  pthread_t thread;
  before = doorbell_counts;
  CHECK(pthread_create(&thread, NULL, sleeper, NULL) == 0, "pthread_create");
  while (LOAD(at(CELL_STATE)) != CELL_FUTEX) usleep(100);
  usleep(20000); // most likely in FUTEX_WAIT by now; if not, the bumped bell makes it return at once (EAGAIN)
  CHECK(cell_wake(cell) == WAKE_FUTEX, "futex sleeper not woken");
  pthread_join(thread, NULL);
  CHECK(sleeper_result == 0 || sleeper_result == EAGAIN, "the sleeper ended with %d", sleeper_result);
  CHECK(doorbell_counts.futex_wakes == before.futex_wakes + 1 && doorbell_counts.connects == before.connects, "calls");
  passed("futex");

  doorbell_disconnect_all();
  printf("{\"done\":true,\"checks\":%d}\n", checks);
  return 0;
}

static int main_ring(int shmid, long offset) {
  uint8_t *seg = shmat(shmid, NULL, 0);
  if (seg == (void *)-1) {
    printf("{\"error\":\"shmat: %s\"}\n", strerror(errno));
    return 1;
  }
  char line[256];
  printf("{\"ready\":true}\n");
  fflush(stdout);
  while (fgets(line, sizeof line, stdin)) {
    int result = cell_wake(seg + offset);
    printf("{\"result\":\"%s\",\"connects\":%ld,\"sends\":%ld}\n", cell_wake_result_name(result), doorbell_counts.connects, doorbell_counts.sends);
    fflush(stdout);
  }
  doorbell_disconnect_all();
  shmdt(seg);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 2 && strcmp(argv[1], "self") == 0) return main_self();
  if (argc == 4 && strcmp(argv[1], "ring") == 0) return main_ring(atoi(argv[2]), atol(argv[3]));
  fprintf(stderr, "usage: doorbell-check self | doorbell-check ring <shmid> <offset>\n");
  return 2;
}
