/*
 * C message-queue peer: uses System V message queues the way a plain C program would, for
 * test/peers/sysv-sem-msg-c.test.ts. Prints lines of key=value pairs; exit status 0 on success, 1 when the data
 * does not verify, 2 on a failed call. Every command gives up after 20 s (alarm).
 *
 * Message text i of a batch (seed s) is msg_byte(s, i, j) for j < its length: the tests compute the same bytes.
 *
 *   msg-peer create <key> <mode>                 msgget(key, IPC_CREAT|IPC_EXCL|mode) (mode in octal)
 *   msg-peer open <key>                          msgget(key, 0)
 *   msg-peer stat <msqid>                        every field of struct msqid_ds from IPC_STAT
 *   msg-peer qbytes <msqid> <n>                  IPC_STAT, then IPC_SET with msg_qbytes = n
 *   msg-peer send <msqid> <seed> <type:len,...>  one msgsnd per item, message i of the list = (type, msg_byte(seed, i, .))
 *   msg-peer recv <msqid> <count> <msgtyp> <maxsize> <flags>
 *        count msgrcv(msgtyp) into a buffer of maxsize; flags "-" or any of "except", "noerror", "nowait" joined
 *        by ':'; prints one line per message: "got=i type=T len=L fnv=H hex=<first 64 bytes>", or "result=ENOMSG"
 *   msg-peer echo <msqid> <count> <reqtype> <addtype> <maxsize>
 *        a server: count times msgrcv(reqtype), then msgsnd(type + addtype, every byte XOR 0x5a)
 *   msg-peer client <msqid> <count> <seed> <len> <reqtype> <replytype>
 *        count round trips: msgsnd(reqtype, msg_byte(seed, i, .)), then msgrcv(replytype) must be the same bytes
 *        XOR 0x5a; prints "rounds=N ok=1" or "bad=i"
 *   msg-peer rmid <msqid>                        msgctl(IPC_RMID)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>

#define MAX_TEXT (1 << 20)

/* The buffer msgsnd and msgrcv take: a long, then the text. */
struct message {
	long mtype;
	unsigned char mtext[MAX_TEXT];
};

static struct message buffer;
static unsigned char expected[MAX_TEXT];

static inline unsigned char msg_byte(uint32_t seed, uint32_t i, size_t j)
{
	return (unsigned char)((j * 131u + seed * 7u + i * 17u + (j >> 8) * 3u) & 0xffu);
}

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

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

static int stat_queue(int id)
{
	struct msqid_ds ds;
	if (msgctl(id, IPC_STAT, &ds) == -1)
		return fail("IPC_STAT");
	printf("msqid=%d key=%d uid=%u gid=%u cuid=%u cgid=%u mode=0o%o qnum=%lu cbytes=%lu qbytes=%lu lspid=%d lrpid=%d "
	       "stime=%lld rtime=%lld ctime=%lld\n",
	       id, (int)ds.msg_perm.__key, (unsigned)ds.msg_perm.uid, (unsigned)ds.msg_perm.gid, (unsigned)ds.msg_perm.cuid,
	       (unsigned)ds.msg_perm.cgid, (unsigned)ds.msg_perm.mode, (unsigned long)ds.msg_qnum,
	       (unsigned long)ds.__msg_cbytes, (unsigned long)ds.msg_qbytes, (int)ds.msg_lspid, (int)ds.msg_lrpid,
	       (long long)ds.msg_stime, (long long)ds.msg_rtime, (long long)ds.msg_ctime);
	return 0;
}

static int send_list(int id, uint32_t seed, char *list)
{
	uint32_t i = 0;
	for (char *item = strtok(list, ","); item; item = strtok(NULL, ","), i++) {
		char *colon = strchr(item, ':');
		if (!colon) {
			printf("error=list\n");
			return 2;
		}
		*colon = '\0';
		long type, len;
		if (number(item, &type) || number(colon + 1, &len) || len < 0 || len > MAX_TEXT)
			return 2;
		buffer.mtype = type;
		for (long j = 0; j < len; j++)
			buffer.mtext[j] = msg_byte(seed, i, (size_t)j);
		if (msgsnd(id, &buffer, (size_t)len, 0) == -1)
			return fail("msgsnd");
	}
	printf("sent=%u pid=%d\n", i, (int)getpid());
	return 0;
}

static int receive(int id, long count, long msgtyp, long maxsize, char *flags)
{
	int flg = 0;
	if (strcmp(flags, "-") != 0) {
		for (char *f = strtok(flags, ":"); f; f = strtok(NULL, ":")) {
			if (strcmp(f, "except") == 0)
				flg |= MSG_EXCEPT;
			else if (strcmp(f, "noerror") == 0)
				flg |= MSG_NOERROR;
			else if (strcmp(f, "nowait") == 0)
				flg |= IPC_NOWAIT;
			else {
				printf("error=flags\n");
				return 2;
			}
		}
	}
	if (maxsize < 0 || maxsize > MAX_TEXT)
		return 2;
	for (long i = 0; i < count; i++) {
		ssize_t n = msgrcv(id, &buffer, (size_t)maxsize, msgtyp, flg);
		if (n == -1 && errno == ENOMSG) {
			printf("result=ENOMSG\n");
			return 0;
		}
		if (n == -1)
			return fail("msgrcv");
		printf("got=%ld type=%ld len=%zd fnv=%u hex=", i, buffer.mtype, n, fnv1a(buffer.mtext, (size_t)n));
		for (ssize_t j = 0; j < n && j < 64; j++)
			printf("%02x", buffer.mtext[j]);
		printf("\n");
	}
	return 0;
}

static int echo(int id, long count, long reqtype, long addtype, long maxsize)
{
	if (maxsize < 0 || maxsize > MAX_TEXT)
		return 2;
	for (long i = 0; i < count; i++) {
		ssize_t n = msgrcv(id, &buffer, (size_t)maxsize, reqtype, 0);
		if (n == -1)
			return fail("msgrcv");
		for (ssize_t j = 0; j < n; j++)
			buffer.mtext[j] ^= 0x5a;
		buffer.mtype += addtype;
		if (msgsnd(id, &buffer, (size_t)n, 0) == -1)
			return fail("msgsnd");
	}
	printf("echoed=%ld pid=%d\n", count, (int)getpid());
	return 0;
}

static int client(int id, long count, uint32_t seed, long len, long reqtype, long replytype)
{
	if (len < 0 || len > MAX_TEXT)
		return 2;
	for (long i = 0; i < count; i++) {
		buffer.mtype = reqtype;
		for (long j = 0; j < len; j++)
			buffer.mtext[j] = expected[j] = msg_byte(seed, (uint32_t)i, (size_t)j);
		if (msgsnd(id, &buffer, (size_t)len, 0) == -1)
			return fail("msgsnd");
		ssize_t n = msgrcv(id, &buffer, MAX_TEXT, replytype, 0);
		if (n == -1)
			return fail("msgrcv");
		int ok = n == len && buffer.mtype == replytype;
		for (long j = 0; ok && j < len; j++)
			ok = buffer.mtext[j] == (expected[j] ^ 0x5a);
		if (!ok) {
			printf("bad=%ld type=%ld len=%zd\n", i, buffer.mtype, n);
			return 1;
		}
	}
	printf("rounds=%ld ok=1 pid=%d\n", count, (int)getpid());
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(20);
	long a, b, c, d, e, f;
	if (argc == 4 && strcmp(argv[1], "create") == 0) {
		if (number(argv[2], &a))
			return 2;
		long mode = strtol(argv[3], NULL, 8);
		int id = msgget((key_t)a, IPC_CREAT | IPC_EXCL | (int)mode);
		if (id == -1)
			return fail("msgget");
		printf("msqid=%d key=%ld\n", id, a);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "open") == 0) {
		if (number(argv[2], &a))
			return 2;
		int id = msgget((key_t)a, 0);
		if (id == -1)
			return fail("msgget");
		printf("msqid=%d\n", id);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "stat") == 0) {
		if (number(argv[2], &a))
			return 2;
		return stat_queue((int)a);
	}
	if (argc == 4 && strcmp(argv[1], "qbytes") == 0) {
		if (number(argv[2], &a) || number(argv[3], &b))
			return 2;
		struct msqid_ds ds;
		if (msgctl((int)a, IPC_STAT, &ds) == -1)
			return fail("IPC_STAT");
		ds.msg_qbytes = (msglen_t)b;
		if (msgctl((int)a, IPC_SET, &ds) == -1)
			return fail("IPC_SET");
		printf("qbytes=%ld\n", b);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "send") == 0) {
		if (number(argv[2], &a) || number(argv[3], &b))
			return 2;
		return send_list((int)a, (uint32_t)b, argv[4]);
	}
	if (argc == 7 && strcmp(argv[1], "recv") == 0) {
		if (number(argv[2], &a) || number(argv[3], &b) || number(argv[4], &c) || number(argv[5], &d))
			return 2;
		return receive((int)a, b, c, d, argv[6]);
	}
	if (argc == 7 && strcmp(argv[1], "echo") == 0) {
		if (number(argv[2], &a) || number(argv[3], &b) || number(argv[4], &c) || number(argv[5], &d) ||
		    number(argv[6], &e))
			return 2;
		return echo((int)a, b, c, d, e);
	}
	if (argc == 8 && strcmp(argv[1], "client") == 0) {
		if (number(argv[2], &a) || number(argv[3], &b) || number(argv[4], &c) || number(argv[5], &d) ||
		    number(argv[6], &e) || number(argv[7], &f))
			return 2;
		return client((int)a, b, (uint32_t)c, d, e, f);
	}
	if (argc == 3 && strcmp(argv[1], "rmid") == 0) {
		if (number(argv[2], &a))
			return 2;
		if (msgctl((int)a, IPC_RMID, NULL) == -1)
			return fail("IPC_RMID");
		printf("removed=%ld\n", a);
		return 0;
	}
	fprintf(stderr, "usage: see the comment at the top of msg-peer.c\n");
	return 2;
}
