/* The cell protocol of the doorbell spike, for C wakers and synchronous C waiters (see engine.ts for the layout). */
#ifndef SPIKE_DOORBELL_H
#define SPIKE_DOORBELL_H
#include <stdint.h>

enum { C_WORD = 0, C_STATE = 1, C_KIND = 2, C_PID = 3, C_A = 4, C_B = 5, C_TOKEN = 6, CELL_WORDS = 8 };
enum { S_IDLE = 0, S_FUTEX = 1, S_DOORBELL = 2 };
enum { K_PIPE = 1, K_SOCKET = 2 };
enum { DB_IDLE = 0, DB_FUTEX = 1, DB_RUNG = 2, DB_FULL = 3, DB_STALE = -1, DB_BAD = -2 };

/* After publishing cell[C_WORD]: wakes the announced sleeper (futex or doorbell); nothing at all when none. */
int db_ring(int32_t *cell);
/* Writes the 4-byte token to a doorbell; never blocks; a dead receiver is DB_STALE (no SIGPIPE reaches the process). */
int db_ring_doorbell(int32_t kind, int32_t pid, int32_t a, int32_t b, int32_t token);
/* Sleeps in FUTEX_WAIT while cell[C_WORD] == expected, announced as S_FUTEX. 0 ok, 1 not-equal, 2 timed out. */
int db_wait_sync(int32_t *cell, int32_t expected, long timeout_ms);
/* Set to 0 to open, write and close on every ring (no cache). */
extern int db_cache_enabled;
extern long db_opened;
#endif
