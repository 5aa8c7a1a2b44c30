/*
 * The byte layout shared by the C peers and the TypeScript tests (test/peers/c-peer.test.ts).
 *
 *   offset  0: magic   "PEER" as a little-endian uint32 (0x52454550)
 *   offset  4: length  payload length in bytes (segment size - 16), little-endian uint32
 *   offset  8: seed    little-endian uint32
 *   offset 12: sum     FNV-1a (32-bit) of the payload, little-endian uint32
 *   offset 16: payload byte i = (i * 131 + seed * 7 + (i >> 8) * 3) mod 256
 *
 * Integers are encoded byte by byte so the layout does not depend on the host's byte order.
 */
#ifndef PEER_PATTERN_H
#define PEER_PATTERN_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define PEER_MAGIC 0x52454550u
#define PEER_HEADER 16u

static inline uint8_t peer_byte(uint32_t seed, size_t i)
{
	return (uint8_t)((i * 131u + (size_t)seed * 7u + (i >> 8) * 3u) & 0xffu);
}

static inline uint32_t peer_fnv1a(const volatile uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

static inline void peer_put32(volatile uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t peer_get32(const volatile uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Parses a project id the way the tests pass it: a number ("65", "0x41") or a single character ("A"). */
static inline int peer_proj(const char *arg)
{
	if (arg[0] >= '0' && arg[0] <= '9')
		return (int)strtol(arg, NULL, 0);
	return (unsigned char)arg[0];
}

#endif
