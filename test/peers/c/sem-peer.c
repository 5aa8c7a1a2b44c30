/*
 * C semaphore peer: uses System V semaphore sets the way a plain C program would, for
 * test/peers/sysv-sem-msg-c.test.ts. Prints lines of key=value pairs; exit status 0 on success, 1 when an
 * operation timed out (EAGAIN), 2 on a failed call. Every command gives up after 20 s (alarm), so that a broken
 * test never leaves it behind.
 *
 *   sem-peer create <key> <nsems> <mode>     semget(key, nsems, IPC_CREAT|IPC_EXCL|mode) (mode in octal)
 *   sem-peer open <key>                      semget(key, 0, 0)
 *   sem-peer stat <semid>                    IPC_STAT, GETALL, and GETVAL/GETNCNT/GETZCNT/GETPID per semaphore
 *   sem-peer setval <semid> <num> <value>    semctl(SETVAL)
 *   sem-peer setall <semid> <v,v,...>        semctl(SETALL)
 *   sem-peer ping <semid> <rounds>           per round: V(0), then P(1)   (a set of at least 2)
 *   sem-peer pong <semid> <rounds>           per round: P(0), then V(1)
 *   sem-peer op <semid> <ops> <timeout_ms> <exit|stay>
 *        one atomic semop (semtimedop when timeout_ms >= 0) of the ops "num:op[:undo][:nowait],..."; prints
 *        "waiting pid=N" before the call and "result=ok|EAGAIN" after it; with "stay" it then reads stdin until EOF
 *        before exiting (a holder that a test can SIGKILL while it holds)
 *   sem-peer rmid <semid>                    semctl(IPC_RMID)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>
#include <unistd.h>

/* No libc defines it (_SEM_SEMUN_UNDEFINED): the caller does. */
union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

#define MAX_SEMS 256
#define MAX_OPS 32
/* How long ping and pong wait for their peer at most, per operation. */
#define STEP_TIMEOUT_S 10

static int fail(const char *what)
{
	printf("error=%s errno=%d message=\"%s\"\n", what, errno, strerror(errno));
	return 2;
}

static int number(const char *text, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 0);
	if (errno || end == text || *end) {
		printf("error=argument value=\"%s\"\n", text);
		return -1;
	}
	*out = v;
	return 0;
}

static int nsems_of(int id)
{
	struct semid_ds ds;
	union semun arg = {.buf = &ds};
	if (semctl(id, 0, IPC_STAT, arg) == -1)
		return -1;
	return (int)ds.sem_nsems;
}

static int stat_set(int id)
{
	struct semid_ds ds;
	union semun arg = {.buf = &ds};
	if (semctl(id, 0, IPC_STAT, arg) == -1)
		return fail("IPC_STAT");
	int n = (int)ds.sem_nsems;
	if (n > MAX_SEMS)
		n = MAX_SEMS;
	unsigned short all[MAX_SEMS];
	arg.array = all;
	if (semctl(id, 0, GETALL, arg) == -1)
		return fail("GETALL");
	printf("semid=%d key=%d uid=%u gid=%u cuid=%u cgid=%u mode=0o%o nsems=%lu otime=%lld ctime=%lld", id,
	       (int)ds.sem_perm.__key, (unsigned)ds.sem_perm.uid, (unsigned)ds.sem_perm.gid, (unsigned)ds.sem_perm.cuid,
	       (unsigned)ds.sem_perm.cgid, (unsigned)ds.sem_perm.mode, (unsigned long)ds.sem_nsems, (long long)ds.sem_otime,
	       (long long)ds.sem_ctime);
	static const struct {
		const char *name;
		int cmd;
	} per[] = {{"getval", GETVAL}, {"ncnt", GETNCNT}, {"zcnt", GETZCNT}, {"pids", GETPID}};
	printf(" values=");
	for (int i = 0; i < n; i++)
		printf("%s%u", i ? "," : "", all[i]);
	for (size_t k = 0; k < sizeof per / sizeof per[0]; k++) {
		printf(" %s=", per[k].name);
		for (int i = 0; i < n; i++) {
			int v = semctl(id, i, per[k].cmd);
			if (v == -1)
				return fail(per[k].name);
			printf("%s%d", i ? "," : "", v);
		}
	}
	printf("\n");
	return 0;
}

/* One blocking step of ping/pong, bounded so that a dead partner is an error, not a hang. */
static int step(int id, unsigned short num, short op)
{
	struct sembuf sop = {.sem_num = num, .sem_op = op, .sem_flg = 0};
	struct timespec limit = {.tv_sec = STEP_TIMEOUT_S, .tv_nsec = 0};
	for (;;) {
		if (semtimedop(id, &sop, 1, &limit) == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

static int ping_pong(int id, long rounds, int ping)
{
	if (nsems_of(id) < 2) {
		printf("error=set-too-small\n");
		return 2;
	}
	for (long i = 0; i < rounds; i++) {
		if (ping ? step(id, 0, 1) || step(id, 1, -1) : step(id, 0, -1) || step(id, 1, 1)) {
			printf("round=%ld ", i);
			return fail(ping ? "ping" : "pong");
		}
	}
	printf("rounds=%ld pid=%d\n", rounds, (int)getpid());
	return 0;
}

/* Parses "num:op[:undo][:nowait],..." into sops; returns the count or -1. */
static int parse_ops(char *text, struct sembuf *sops)
{
	int n = 0;
	for (char *item = strtok(text, ","); item; item = strtok(NULL, ",")) {
		if (n == MAX_OPS)
			return -1;
		char *num = item;
		char *op = strchr(num, ':');
		if (!op)
			return -1;
		*op++ = '\0';
		char *flags = strchr(op, ':');
		if (flags)
			*flags++ = '\0';
		long vnum, vop;
		if (number(num, &vnum) || number(op, &vop))
			return -1;
		short flg = 0;
		while (flags && *flags) {
			char *next = strchr(flags, ':');
			if (next)
				*next++ = '\0';
			if (strcmp(flags, "undo") == 0)
				flg |= SEM_UNDO;
			else if (strcmp(flags, "nowait") == 0)
				flg |= IPC_NOWAIT;
			else
				return -1;
			flags = next;
		}
		sops[n++] = (struct sembuf){.sem_num = (unsigned short)vnum, .sem_op = (short)vop, .sem_flg = flg};
	}
	return n;
}

static int operate(int id, char *spec, long timeout_ms, int stay)
{
	struct sembuf sops[MAX_OPS];
	int n = parse_ops(spec, sops);
	if (n <= 0) {
		printf("error=ops\n");
		return 2;
	}
	printf("waiting pid=%d\n", (int)getpid());
	fflush(stdout);
	int r;
	if (timeout_ms >= 0) {
		struct timespec limit = {.tv_sec = timeout_ms / 1000, .tv_nsec = (timeout_ms % 1000) * 1000000L};
		r = semtimedop(id, sops, (size_t)n, &limit);
	} else {
		r = semop(id, sops, (size_t)n);
	}
	if (r == -1 && errno != EAGAIN)
		return fail("semop");
	printf("result=%s pid=%d\n", r == 0 ? "ok" : "EAGAIN", (int)getpid());
	fflush(stdout);
	if (stay) {
		char buf[256];
		while (fread(buf, 1, sizeof buf, stdin) > 0) {
		}
	}
	return r == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(20);
	long a, b, c;
	if (argc == 5 && strcmp(argv[1], "create") == 0) {
		if (number(argv[2], &a) || number(argv[3], &b))
			return 2;
		char *end;
		long mode = strtol(argv[4], &end, 8);
		int id = semget((key_t)a, (int)b, IPC_CREAT | IPC_EXCL | (int)mode);
		if (id == -1)
			return fail("semget");
		printf("semid=%d key=%ld\n", id, a);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "open") == 0) {
		if (number(argv[2], &a))
			return 2;
		int id = semget((key_t)a, 0, 0);
		if (id == -1)
			return fail("semget");
		printf("semid=%d nsems=%d\n", id, nsems_of(id));
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "stat") == 0) {
		if (number(argv[2], &a))
			return 2;
		return stat_set((int)a);
	}
	if (argc == 5 && strcmp(argv[1], "setval") == 0) {
		if (number(argv[2], &a) || number(argv[3], &b) || number(argv[4], &c))
			return 2;
		union semun arg = {.val = (int)c};
		if (semctl((int)a, (int)b, SETVAL, arg) == -1)
			return fail("SETVAL");
		printf("set=%ld\n", c);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "setall") == 0) {
		if (number(argv[2], &a))
			return 2;
		unsigned short all[MAX_SEMS];
		int n = 0;
		for (char *item = strtok(argv[3], ","); item && n < MAX_SEMS; item = strtok(NULL, ",")) {
			long v;
			if (number(item, &v))
				return 2;
			all[n++] = (unsigned short)v;
		}
		if (n != nsems_of((int)a)) {
			printf("error=count n=%d\n", n);
			return 2;
		}
		union semun arg = {.array = all};
		if (semctl((int)a, 0, SETALL, arg) == -1)
			return fail("SETALL");
		printf("set=%d\n", n);
		return 0;
	}
	if (argc == 4 && (strcmp(argv[1], "ping") == 0 || strcmp(argv[1], "pong") == 0)) {
		if (number(argv[2], &a) || number(argv[3], &b))
			return 2;
		return ping_pong((int)a, b, strcmp(argv[1], "ping") == 0);
	}
	if (argc == 6 && strcmp(argv[1], "op") == 0) {
		if (number(argv[2], &a) || number(argv[4], &b))
			return 2;
		return operate((int)a, argv[3], b, strcmp(argv[5], "stay") == 0);
	}
	if (argc == 3 && strcmp(argv[1], "rmid") == 0) {
		if (number(argv[2], &a))
			return 2;
		if (semctl((int)a, 0, IPC_RMID) == -1)
			return fail("IPC_RMID");
		printf("removed=%ld\n", a);
		return 0;
	}
	fprintf(stderr, "usage: see the comment at the top of sem-peer.c\n");
	return 2;
}
