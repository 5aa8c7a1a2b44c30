/* C side of the doorbell spike: ring a cell (futex or doorbell), wait synchronously on a cell. */
#define _GNU_SOURCE
#include "doorbell.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int db_cache_enabled = 1;
long db_opened = 0;

struct entry { int32_t kind, pid, a, b; int fd; };
#define CACHE 64
static struct entry cache[CACHE];
static int cache_n = 0;

static int find(int32_t kind, int32_t pid, int32_t a, int32_t b) {
  for (int i = 0; i < cache_n; i++)
    if (cache[i].kind == kind && cache[i].pid == pid && cache[i].a == a && cache[i].b == b) return i;
  return -1;
}

static void forget(int i) {
  close(cache[i].fd);
  cache[i] = cache[--cache_n];
}

static int open_pipe(int32_t pid, int32_t a, int32_t b) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, a);
  int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st;
  /* A reused pid: /proc/pid/fd/a is any file of another process. Write only to the very pipe announced. */
  if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode) || (int32_t)st.st_ino != b) {
    close(fd);
    return -1;
  }
  return fd;
}

static int connect_socket(int32_t pid, int32_t a, int32_t b) {
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int n = snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "sysv-shm-bell/%d/%08x%08x", pid, (uint32_t)a, (uint32_t)b);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&addr, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* write(2) to a pipe whose reader died raises SIGPIPE: block it around the write and swallow the one we caused. */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t n) {
  sigset_t pipe_set, old, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigpending(&pending);
  int was_pending = sigismember(&pending, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  ssize_t r = write(fd, buf, n);
  int saved = errno;
  if (r < 0 && saved == EPIPE && !was_pending) {
    struct timespec zero = { 0, 0 };
    while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {}
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = saved;
  return r;
}

int db_ring_doorbell(int32_t kind, int32_t pid, int32_t a, int32_t b, int32_t token) {
  if (pid <= 0 || (kind != K_PIPE && kind != K_SOCKET)) return DB_BAD;
  for (int attempt = 0; attempt < 2; attempt++) {
    int i = db_cache_enabled ? find(kind, pid, a, b) : -1;
    int fd;
    if (i >= 0) fd = cache[i].fd;
    else {
      fd = kind == K_PIPE ? open_pipe(pid, a, b) : connect_socket(pid, a, b);
      if (fd < 0) return DB_STALE;
      db_opened++;
      if (db_cache_enabled) {
        if (cache_n == CACHE) forget(0);
        cache[cache_n] = (struct entry){ kind, pid, a, b, fd };
        i = cache_n++;
      }
    }
    /* One write of 4 bytes: atomic on a pipe (<= PIPE_BUF), so tokens of several wakers never interleave. */
    ssize_t r = kind == K_PIPE ? write_nosigpipe(fd, &token, 4) : send(fd, &token, 4, MSG_NOSIGNAL | MSG_DONTWAIT);
    int e = errno;
    if (!db_cache_enabled) close(fd);
    if (r > 0) return DB_RUNG;
    if (e == EAGAIN) return DB_FULL;
    if (!db_cache_enabled) return DB_STALE;
    forget(i); /* EPIPE, ECONNRESET: the receiver is gone; the second attempt reopens and finds out */
  }
  return DB_STALE;
}

int db_ring(int32_t *cell) {
  if (__atomic_load_n(&cell[C_STATE], __ATOMIC_SEQ_CST) == S_IDLE) return DB_IDLE;
  int32_t s = __atomic_exchange_n(&cell[C_STATE], S_IDLE, __ATOMIC_SEQ_CST);
  if (s == S_IDLE) return DB_IDLE;
  if (s == S_FUTEX) {
    syscall(SYS_futex, &cell[C_WORD], FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
    return DB_FUTEX;
  }
  if (s != S_DOORBELL) return DB_BAD;
  return db_ring_doorbell(__atomic_load_n(&cell[C_KIND], __ATOMIC_SEQ_CST), __atomic_load_n(&cell[C_PID], __ATOMIC_SEQ_CST),
                          __atomic_load_n(&cell[C_A], __ATOMIC_SEQ_CST), __atomic_load_n(&cell[C_B], __ATOMIC_SEQ_CST),
                          __atomic_load_n(&cell[C_TOKEN], __ATOMIC_SEQ_CST));
}

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

int db_wait_sync(int32_t *cell, int32_t expected, long timeout_ms) {
  long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
  for (;;) {
    __atomic_store_n(&cell[C_STATE], S_FUTEX, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&cell[C_WORD], __ATOMIC_SEQ_CST) != expected) {
      __atomic_store_n(&cell[C_STATE], S_IDLE, __ATOMIC_SEQ_CST);
      return 1;
    }
    struct timespec ts, *tsp = NULL;
    if (deadline >= 0) {
      long left = deadline - now_ms();
      if (left <= 0) {
        __atomic_store_n(&cell[C_STATE], S_IDLE, __ATOMIC_SEQ_CST);
        return 2;
      }
      ts.tv_sec = left / 1000;
      ts.tv_nsec = (left % 1000) * 1000000L;
      tsp = &ts;
    }
    long r = syscall(SYS_futex, &cell[C_WORD], FUTEX_WAIT, expected, tsp, NULL, 0);
    int e = errno;
    __atomic_store_n(&cell[C_STATE], S_IDLE, __ATOMIC_SEQ_CST);
    if (r == 0) return 0;
    if (e == EAGAIN) return 1;
    if (e != ETIMEDOUT && e != EINTR) return -1;
  }
}
