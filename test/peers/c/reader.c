/*
 * C reader peer: opens segments the way a plain C program would, for test/peers/c-peer.test.ts.
 * Prints one line of key=value pairs; exit status 0 when all is well, 1 when the data does not verify,
 * 2 on a failed call.
 *
 *   reader key <path> <proj>   ftok + shmget(key, 0, 0) + shmat(SHM_RDONLY), verify the pattern
 *   reader id <shmid>          shmat(SHM_RDONLY) by id, verify the pattern
 *   reader ftok <path> <proj>  print ftok's key
 *   reader stat <shmid>        print every field of struct shmid_ds from IPC_STAT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "pattern.h"

static int fail(const char *what)
{
	printf("error=%s errno=%d message=\"%s\"\n", what, errno, strerror(errno));
	return 2;
}

static int verify(int id)
{
	struct shmid_ds ds;
	if (shmctl(id, IPC_STAT, &ds) == -1)
		return fail("shmctl");
	const volatile uint8_t *p = shmat(id, NULL, SHM_RDONLY);
	if (p == (void *)-1)
		return fail("shmat");
	size_t size = ds.shm_segsz;
	int ok = size >= PEER_HEADER;
	uint32_t magic = 0, length = 0, seed = 0, stored = 0, computed = 0;
	size_t bad_at = (size_t)-1;
	if (ok) {
		magic = peer_get32(p);
		length = peer_get32(p + 4);
		seed = peer_get32(p + 8);
		stored = peer_get32(p + 12);
		ok = magic == PEER_MAGIC && length == size - PEER_HEADER;
	}
	if (ok) {
		computed = peer_fnv1a(p + PEER_HEADER, length);
		for (size_t i = 0; i < length; i++) {
			if (p[PEER_HEADER + i] != peer_byte(seed, i)) {
				bad_at = i;
				break;
			}
		}
		ok = computed == stored && bad_at == (size_t)-1;
	}
	printf("shmid=%d key=%d size=%zu magic=0x%08x length=%u seed=%u stored=%u computed=%u", id, (int)ds.shm_perm.__key,
	       size, magic, length, seed, stored, computed);
	printf(" first=");
	for (size_t i = 0; i < 8 && PEER_HEADER + i < size; i++)
		printf("%02x", p[PEER_HEADER + i]);
	if (bad_at != (size_t)-1)
		printf(" badat=%zu", bad_at);
	/* nattch while this reader is attached */
	struct shmid_ds now;
	if (shmctl(id, IPC_STAT, &now) == 0)
		printf(" nattch=%lu", (unsigned long)now.shm_nattch);
	printf(" verdict=%s\n", ok ? "ok" : "bad");
	if (shmdt((const void *)p) == -1)
		return fail("shmdt");
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && strcmp(argv[1], "key") == 0) {
		key_t key = ftok(argv[2], peer_proj(argv[3]));
		if (key == -1)
			return fail("ftok");
		int id = shmget(key, 0, 0);
		if (id == -1)
			return fail("shmget");
		return verify(id);
	}
	if (argc == 3 && strcmp(argv[1], "id") == 0)
		return verify(atoi(argv[2]));
	if (argc == 4 && strcmp(argv[1], "ftok") == 0) {
		key_t key = ftok(argv[2], peer_proj(argv[3]));
		if (key == -1)
			return fail("ftok");
		printf("key=%d keyhex=0x%08x\n", (int)key, (unsigned)key);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "stat") == 0) {
		struct shmid_ds ds;
		int id = atoi(argv[2]);
		if (shmctl(id, IPC_STAT, &ds) == -1)
			return fail("shmctl");
		printf("key=%d uid=%u gid=%u cuid=%u cgid=%u mode=0o%o seq=%u segsz=%zu atime=%lld dtime=%lld ctime=%lld "
		       "cpid=%d lpid=%d nattch=%lu\n",
		       (int)ds.shm_perm.__key, (unsigned)ds.shm_perm.uid, (unsigned)ds.shm_perm.gid, (unsigned)ds.shm_perm.cuid,
		       (unsigned)ds.shm_perm.cgid, (unsigned)ds.shm_perm.mode, (unsigned)ds.shm_perm.__seq, (size_t)ds.shm_segsz,
		       (long long)ds.shm_atime, (long long)ds.shm_dtime, (long long)ds.shm_ctime, (int)ds.shm_cpid,
		       (int)ds.shm_lpid, (unsigned long)ds.shm_nattch);
		return 0;
	}
	fprintf(stderr, "usage: reader key <path> <proj> | id <shmid> | ftok <path> <proj> | stat <shmid>\n");
	return 64;
}
