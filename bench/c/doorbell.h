// The waker of a channel's wake-up cell (ring format version 2), in C: what an end does after publishing its
// counter, so that the peer wakes up whether it sleeps in the kernel (a futex) or in its event loop (a doorbell
// socket). The layout and the protocol are lib/sync/ring-layout.ts and docs/channel.md ("Waiting"); ring.c (the
// bench's c-ring transport) uses it, and so can any C peer of the library.
//
//   cell_wake(cell)                after publishing: nothing when nobody sleeps (one load, no call, no syscall);
//                                  else STATE exchanged to IDLE, BELL + 1, then FUTEX_WAKE or the token to the doorbell
//   doorbell_ring(kind, pid, a, b, token)   the doorbell part alone: connect once (cached), send 4 bytes, never block
//   doorbell_disconnect_all()      closes the cached connections (also fine to leave them to exit)
//
// Thread-safe (the connection cache is behind a mutex, taken only on the doorbell path). Build: compile doorbell.c
// with the program, e.g. `gcc -O2 -Wall -o ring ring.c doorbell.c -pthread` (bench/transports/native.ts does).
#ifndef SYSV_SHM_DOORBELL_H
#define SYSV_SHM_DOORBELL_H

#include <stddef.h>
#include <stdint.h>

// A wake-up cell: 8 native-endian 32-bit words (32 bytes, 4-byte aligned), byte offsets from its start.
#define CELL_BELL 0      // futex word; the waker adds 1 before every wake-up
#define CELL_STATE 4     // CELL_IDLE, CELL_FUTEX or CELL_DOORBELL: set by the sleeper, exchanged to IDLE by the waker
#define CELL_KIND 8      // how the doorbell is reached: CELL_KIND_SOCKET
#define CELL_PID 12      // the doorbell's owner (a process id, > 0)
#define CELL_NONCE_A 16  // the 64-bit nonce of the doorbell's name, as two words
#define CELL_NONCE_B 20
#define CELL_TOKEN 24    // 4 bytes sent as they are in memory: which of its waits the owner checks
#define CELL_SIZE 32     // bytes 28..31 are reserved (0)

#define CELL_IDLE 0u
#define CELL_FUTEX 1u
#define CELL_DOORBELL 2u

/** An abstract-namespace Unix stream socket named "sysv-shm-bell/<pid>/<a as %08x><b as %08x>". */
#define CELL_KIND_SOCKET 1u

/** What cell_wake() and doorbell_ring() did. */
enum cell_wake_result {
  WAKE_NONE = 0,  // nobody announced a sleep (STATE was IDLE): nothing done
  WAKE_FUTEX = 1, // a synchronous sleeper: BELL bumped, one FUTEX_WAKE
  WAKE_SENT = 2,  // an asynchronous sleeper: BELL bumped, its token sent to the doorbell
  WAKE_FULL = 3,  // the doorbell is full (EAGAIN): token dropped; its owner scans every wait when it reads the
                  // hundreds of tokens unread on this connection (or, for a full accept backlog, at its next watch)
  WAKE_GONE = 4,  // the doorbell is gone (refused or reset, also after one reconnect): nobody to wake
  WAKE_BAD = 5,   // the cell announced what this waker does not follow (unknown STATE, KIND != 1, PID <= 0): BELL
                  // bumped, nothing sent
  WAKE_ERROR = 6, // a system call failed otherwise (EMFILE, ENOMEM, EACCES, ...): errno tells
};

/** Counters for tests and benchmarks (not synchronized: read them from the waking thread). */
struct doorbell_counts {
  long futex_wakes; // FUTEX_WAKE calls made by cell_wake()
  long connects;    // connections made (a cached one is reused: one per doorbell while it lives)
  long sends;       // send() calls
};
extern struct doorbell_counts doorbell_counts;

/** The exchange and what follows it: cell_wake() once it found STATE set. */
int cell_wake_announced(void *cell);

/**
 * The waker, after publishing its counter (sequentially consistent, as the sleeper's announcement): wakes the end
 * that announced in `cell` (32 bytes in shared memory) that it sleeps, if one did. Never blocks. Values read from
 * the cell are untrusted: an unknown state, kind or a pid <= 0 make it do nothing more than clear STATE and bump
 * BELL, and a doorbell is only ever looked for under its "sysv-shm-bell/" name.
 */
static inline int cell_wake(void *cell) {
  if (__atomic_load_n((uint32_t *)((char *)cell + CELL_STATE), __ATOMIC_SEQ_CST) == CELL_IDLE) return WAKE_NONE;
  return cell_wake_announced(cell);
}

/**
 * Sends the 4 bytes of `token` (as they are in memory) to the doorbell (kind, pid, a, b), connecting on first use
 * and keeping the connection (a small cache keyed by pid, a, b). Never blocks, never raises SIGPIPE: WAKE_SENT,
 * WAKE_FULL, WAKE_GONE (after one reconnect), WAKE_BAD (kind != 1 or pid <= 0) or WAKE_ERROR.
 */
int doorbell_ring(uint32_t kind, int32_t pid, uint32_t a, uint32_t b, uint32_t token);

/** A doorbell's name fills sun_path after the abstract namespace's leading NUL: the address is a whole sockaddr_un. */
#define DOORBELL_NAME_LENGTH 107

/**
 * The doorbell's abstract socket name, without the leading NUL: "sysv-shm-bell/<pid>/<a><b>/" (pid in decimal, a
 * and b as 8 lowercase hex digits each) padded with '.' to DOORBELL_NAME_LENGTH bytes, NUL-terminated only if
 * `size` leaves room. Returns DOORBELL_NAME_LENGTH, or -1 for pid <= 0 or a `size` below DOORBELL_NAME_LENGTH.
 */
int doorbell_name(char *out, size_t size, int32_t pid, uint32_t a, uint32_t b);

/** Closes every cached doorbell connection. */
void doorbell_disconnect_all(void);

/** "none", "futex", "sent", "full", "gone", "bad", "error" (for logs and JSON lines). */
const char *cell_wake_result_name(int result);

#endif
