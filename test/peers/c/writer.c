/*
 * C writer peer: creates or changes System V segments the way a plain C program would, for
 * test/peers/c-peer.test.ts. Prints one line of key=value pairs; exit status 0 on success, 2 on a failed call.
 *
 *   writer key <path> <proj> <size> <seed>   ftok + shmget(IPC_CREAT|IPC_EXCL|0600), fill with the pattern
 *   writer private <size> <seed>             shmget(IPC_PRIVATE, ...), fill with the pattern
 *   writer rmid <shmid>                      shmctl(IPC_RMID)
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

static int create_and_fill(key_t key, size_t size, uint32_t seed)
{
	if (size < PEER_HEADER) {
		printf("error=size-too-small\n");
		return 2;
	}
	int id = shmget(key, size, IPC_CREAT | IPC_EXCL | 0600);
	if (id == -1)
		return fail("shmget");
	volatile uint8_t *p = shmat(id, NULL, 0);
	if (p == (void *)-1)
		return fail("shmat");
	size_t n = size - PEER_HEADER;
	volatile uint8_t *payload = p + PEER_HEADER;
	for (size_t i = 0; i < n; i++)
		payload[i] = peer_byte(seed, i);
	uint32_t sum = peer_fnv1a(payload, n);
	peer_put32(p, PEER_MAGIC);
	peer_put32(p + 4, (uint32_t)n);
	peer_put32(p + 8, seed);
	peer_put32(p + 12, sum);
	if (shmdt((const void *)p) == -1)
		return fail("shmdt");
	printf("shmid=%d key=%d keyhex=0x%08x size=%zu seed=%u checksum=%u\n", id, (int)key, (unsigned)key, size, seed, sum);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 6 && strcmp(argv[1], "key") == 0) {
		key_t key = ftok(argv[2], peer_proj(argv[3]));
		if (key == -1)
			return fail("ftok");
		return create_and_fill(key, strtoul(argv[4], NULL, 0), (uint32_t)strtoul(argv[5], NULL, 0));
	}
	if (argc == 4 && strcmp(argv[1], "private") == 0)
		return create_and_fill(IPC_PRIVATE, strtoul(argv[2], NULL, 0), (uint32_t)strtoul(argv[3], NULL, 0));
	if (argc == 3 && strcmp(argv[1], "rmid") == 0) {
		int id = atoi(argv[2]);
		if (shmctl(id, IPC_RMID, NULL) == -1)
			return fail("shmctl");
		printf("removed=%d\n", id);
		return 0;
	}
	fprintf(stderr, "usage: writer key <path> <proj> <size> <seed> | private <size> <seed> | rmid <shmid>\n");
	return 64;
}
