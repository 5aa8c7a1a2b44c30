// The waker of a wake-up cell (doorbell.h): a FUTEX_WAKE for a synchronous sleeper, the cell's 4-byte token to
// its doorbell (an abstract Unix stream socket polled by the sleeper's event loop) for an asynchronous one.
// Protocol: lib/sync/ring-layout.ts and docs/channel.md.
#define _GNU_SOURCE
#include "doorbell.h"
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

struct doorbell_counts doorbell_counts;

// Connections to doorbells, kept: a waker connects once per doorbell (per owner's event loop), not per wake-up.
// Few are live at a time (one per peer process and thread that sleeps asynchronously); the least recently used
// one is closed when the cache is full. A connection whose owner went away fails its next send (EPIPE) and is
// dropped then.
#define CACHE_SIZE 16

struct connection {
  int fd; // -1: free
  int32_t pid;
  uint32_t a, b;
  unsigned long used;
};

static struct connection cache[CACHE_SIZE] = { [0 ... CACHE_SIZE - 1] = { .fd = -1 } };
static unsigned long clock_tick;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static inline uint32_t *cell_word(void *cell, int offset) {
  return (uint32_t *)((char *)cell + offset);
}

int doorbell_name(char *out, size_t size, int32_t pid, uint32_t a, uint32_t b) {
  if (pid <= 0) return -1;
  /* Padded with '.' to DOORBELL_NAME_LENGTH bytes: the address then fills sun_path exactly. */
  if (size < DOORBELL_NAME_LENGTH) return -1;
  char prefix[64];
  int n = snprintf(prefix, sizeof prefix, "sysv-shm-bell/%d/%08x%08x/", (int)pid, (unsigned)a, (unsigned)b);
  if (n < 0 || n >= (int)sizeof prefix) return -1;
  memcpy(out, prefix, (size_t)n);
  memset(out + n, '.', DOORBELL_NAME_LENGTH - (size_t)n);
  if (size > DOORBELL_NAME_LENGTH) out[DOORBELL_NAME_LENGTH] = 0; /* a C string when there is room */
  return DOORBELL_NAME_LENGTH;
}

static struct connection *find(int32_t pid, uint32_t a, uint32_t b) {
  for (int i = 0; i < CACHE_SIZE; i++)
    if (cache[i].fd >= 0 && cache[i].pid == pid && cache[i].a == a && cache[i].b == b) return &cache[i];
  return NULL;
}

static void forget(struct connection *c) {
  close(c->fd);
  c->fd = -1;
}

static struct connection *remember(int fd, int32_t pid, uint32_t a, uint32_t b) {
  struct connection *slot = &cache[0];
  for (int i = 0; i < CACHE_SIZE; i++) {
    if (cache[i].fd < 0) {
      slot = &cache[i];
      break;
    }
    if (cache[i].used < slot->used) slot = &cache[i];
  }
  if (slot->fd >= 0) forget(slot);
  *slot = (struct connection){ .fd = fd, .pid = pid, .a = a, .b = b };
  return slot;
}

/**
 * A new connection to the doorbell: WAKE_SENT with *fd set, WAKE_GONE (nobody listens under that name: its owner
 * exited or closed it), WAKE_FULL (its accept backlog is full: the token is dropped, and the owner's periodic
 * check of every pending wait covers it) or WAKE_ERROR. Non-blocking: a Unix stream connect completes at once or
 * fails.
 */
static int connect_doorbell(int32_t pid, uint32_t a, uint32_t b, int *fd) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  // sun_path[0] = 0: the abstract namespace; the name follows, and the address ends with it (no trailing NUL)
  int n = doorbell_name(addr.sun_path + 1, sizeof addr.sun_path - 1, pid, a, b);
  if (n < 0 || (size_t)n > sizeof addr.sun_path - 1) return WAKE_BAD;
  socklen_t length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) return WAKE_ERROR;
  if (connect(s, (struct sockaddr *)&addr, length) != 0) {
    int e = errno;
    close(s);
    errno = e;
    if (e == ECONNREFUSED || e == ENOENT) return WAKE_GONE;
    if (e == EAGAIN) return WAKE_FULL;
    return WAKE_ERROR;
  }
  doorbell_counts.connects++;
  *fd = s;
  return WAKE_SENT;
}

int doorbell_ring(uint32_t kind, int32_t pid, uint32_t a, uint32_t b, uint32_t token) {
  if (kind != CELL_KIND_SOCKET || pid <= 0) return WAKE_BAD;
  pthread_mutex_lock(&cache_lock);
  int result = WAKE_GONE;
  for (int attempt = 0; attempt < 2; attempt++) {
    struct connection *c = find(pid, a, b);
    int cached = c != NULL;
    if (!c) {
      int fd;
      result = connect_doorbell(pid, a, b, &fd);
      if (result != WAKE_SENT) break;
      c = remember(fd, pid, a, b);
    }
    c->used = ++clock_tick;
    doorbell_counts.sends++;
    ssize_t sent;
    do sent = send(c->fd, &token, sizeof token, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (sent < 0 && errno == EINTR);
    // 4 bytes on a Unix stream socket go as one piece or not at all (an owner treats an odd count as "check all")
    if (sent > 0) {
      result = WAKE_SENT;
      break;
    }
    int e = errno;
    if (e == EAGAIN || e == EWOULDBLOCK) {
      // Hundreds of this waker's tokens are unread on this connection: the owner's next read returns many of them
      // and then checks every pending wait, so the dropped token is not missed.
      result = WAKE_FULL;
      break;
    }
    forget(c);
    errno = e;
    if (e != EPIPE && e != ECONNRESET && e != ECONNREFUSED && e != ENOTCONN) {
      result = WAKE_ERROR;
      break;
    }
    // The owner closed this connection or exited since it was made. A kept connection may be stale while its
    // doorbell still listens (its owner dropped the connection): connect once more. A fresh one is the answer.
    result = WAKE_GONE;
    if (!cached) break;
  }
  int e = errno;
  pthread_mutex_unlock(&cache_lock);
  errno = e;
  return result;
}

int cell_wake_announced(void *cell) {
  uint32_t *bell = cell_word(cell, CELL_BELL);
  uint32_t state = __atomic_exchange_n(cell_word(cell, CELL_STATE), CELL_IDLE, __ATOMIC_SEQ_CST);
  // IDLE: the sleeper withdrew (it re-checks before it sleeps again) or another waker took the announcement
  if (state == CELL_IDLE) return WAKE_NONE;
  __atomic_fetch_add(bell, 1, __ATOMIC_SEQ_CST);
  if (state == CELL_FUTEX) {
    doorbell_counts.futex_wakes++;
    syscall(SYS_futex, bell, FUTEX_WAKE, 1, NULL, NULL, 0);
    return WAKE_FUTEX;
  }
  if (state != CELL_DOORBELL) return WAKE_BAD;
  // Read after the exchange: the sleeper wrote them before it stored STATE = DOORBELL.
  uint32_t kind = __atomic_load_n(cell_word(cell, CELL_KIND), __ATOMIC_SEQ_CST);
  uint32_t pid = __atomic_load_n(cell_word(cell, CELL_PID), __ATOMIC_SEQ_CST);
  uint32_t a = __atomic_load_n(cell_word(cell, CELL_NONCE_A), __ATOMIC_SEQ_CST);
  uint32_t b = __atomic_load_n(cell_word(cell, CELL_NONCE_B), __ATOMIC_SEQ_CST);
  uint32_t token = __atomic_load_n(cell_word(cell, CELL_TOKEN), __ATOMIC_SEQ_CST);
  return doorbell_ring(kind, (int32_t)pid, a, b, token);
}

void doorbell_disconnect_all(void) {
  pthread_mutex_lock(&cache_lock);
  for (int i = 0; i < CACHE_SIZE; i++)
    if (cache[i].fd >= 0) forget(&cache[i]);
  pthread_mutex_unlock(&cache_lock);
}

const char *cell_wake_result_name(int result) {
  static const char *const names[] = { "none", "futex", "sent", "full", "gone", "bad", "error" };
  return result >= 0 && result <= WAKE_ERROR ? names[result] : "?";
}
