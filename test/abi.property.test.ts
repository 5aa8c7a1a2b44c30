import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getAbi, listTargets } from '../lib/index.js';
import type { FieldLayout } from '../lib/internal.js';

/** Independent writer (not the codec's) for building test bytes. */
function put(v: DataView, f: FieldLayout, value: bigint, le: boolean, base = 0): void {
  const o = base + f.offset;
  switch (f.size) {
    case 2:
      v.setUint16(o, Number(BigInt.asUintN(16, value)), le);
      break;
    case 4:
      v.setUint32(o, Number(BigInt.asUintN(32, value)), le);
      break;
    case 8:
      v.setBigUint64(o, BigInt.asUintN(64, value), le);
      break;
    default:
      throw new Error(`size ${f.size}`);
  }
}

const uintOf = (size: number) => fc.bigInt({ min: 0n, max: 2n ** BigInt(8 * size) - 1n });

describe.each(listTargets())('target %s (property)', (name) => {
  const abi = getAbi(name);
  const d = abi.description;
  const perm = d.structs.ipc_perm.fields;
  const ds = d.structs.shmid_ds.fields;
  const le = d.littleEndian;

  it('encodeShmidDs -> decodeShmidDs round-trips uid, gid, mode', () => {
    const modeMax = 2 ** (8 * perm.mode.size) - 1;
    fc.assert(
      fc.property(
        fc.record(
          {
            uid: fc.integer({ min: 0, max: 0xffffffff }),
            gid: fc.integer({ min: 0, max: 0xffffffff }),
            mode: fc.integer({ min: 0, max: modeMax }),
          },
          { requiredKeys: [] },
        ),
        (p) => {
          const bytes = abi.encodeShmidDs({ perm: p });
          expect(bytes.length).toBe(abi.sizeof.shmidDs);
          const back = abi.decodeShmidDs(bytes);
          expect(back.perm.uid).toBe(p.uid ?? 0);
          expect(back.perm.gid).toBe(p.gid ?? 0);
          expect(back.perm.mode).toBe(p.mode ?? 0);
          // Nothing else is written.
          expect({ ...back, perm: { ...back.perm, uid: 0, gid: 0, mode: 0 } }).toEqual({
            perm: { key: 0, uid: 0, gid: 0, cuid: 0, cgid: 0, mode: 0, seq: 0 },
            segsz: 0,
            atime: 0,
            dtime: 0,
            ctime: 0,
            cpid: 0,
            lpid: 0,
            nattch: 0,
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('decoding random bytes never throws except for an unsafe segsz/nattch', () => {
    const safe = (f: FieldLayout, bytes: Uint8Array) => {
      const v = new DataView(bytes.buffer, bytes.byteOffset);
      const n = f.size === 8 ? v.getBigUint64(f.offset, le) : BigInt(v.getUint32(f.offset, le));
      return n <= BigInt(Number.MAX_SAFE_INTEGER);
    };
    fc.assert(
      fc.property(fc.uint8Array({ minLength: abi.sizeof.shmidDs, maxLength: abi.sizeof.shmidDs + 16 }), (bytes) => {
        if (safe(ds.shm_segsz, bytes) && safe(ds.shm_nattch, bytes)) {
          const r = abi.decodeShmidDs(bytes);
          for (const x of [r.atime, r.dtime, r.ctime, r.cpid, r.lpid, ...Object.values(r.perm)]) {
            expect(Number.isFinite(x)).toBe(true);
          }
          expect(r.perm.uid).toBeGreaterThanOrEqual(0);
          expect(r.perm.key).toBeGreaterThanOrEqual(-(2 ** 31));
        } else {
          expect(() => abi.decodeShmidDs(bytes)).toThrow(RangeError);
        }
        // Everything in shminfo / shm_info decodes from any bytes.
        const pad = (n: number) => Uint8Array.from({ length: n }, (_, i) => bytes[i % bytes.length]);
        abi.decodeShminfo(pad(abi.sizeof.shminfo));
        abi.decodeShmInfo(pad(abi.sizeof.shmInfo));
      }),
      { numRuns: 200 },
    );
  });

  it('64-bit fields decode bigint-exact (shminfo, shm_info)', () => {
    const info = d.structs.shminfo.fields;
    const sinfo = d.structs.shm_info.fields;
    fc.assert(
      fc.property(
        fc.tuple(...['shmmax', 'shmmin', 'shmmni', 'shmseg', 'shmall'].map((f) => uintOf(info[f].size))),
        fc.tuple(...['shm_tot', 'shm_rss', 'shm_swp', 'swap_attempts', 'swap_successes'].map((f) => uintOf(sinfo[f].size))),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        (a, b, usedIds) => {
          const ib = new Uint8Array(abi.sizeof.shminfo);
          const iv = new DataView(ib.buffer);
          for (const [i, f] of ['shmmax', 'shmmin', 'shmmni', 'shmseg', 'shmall'].entries()) put(iv, info[f], a[i], le);
          expect(abi.decodeShminfo(ib)).toEqual({ shmmax: a[0], shmmin: a[1], shmmni: a[2], shmseg: a[3], shmall: a[4] });

          const sb = new Uint8Array(abi.sizeof.shmInfo);
          const sv = new DataView(sb.buffer);
          put(sv, sinfo.used_ids, BigInt(usedIds), le);
          for (const [i, f] of ['shm_tot', 'shm_rss', 'shm_swp', 'swap_attempts', 'swap_successes'].entries()) put(sv, sinfo[f], b[i], le);
          expect(abi.decodeShmInfo(sb)).toEqual({
            usedIds,
            shmTot: b[0],
            shmRss: b[1],
            shmSwp: b[2],
            swapAttempts: b[3],
            swapSuccesses: b[4],
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('times, pids, key and segsz decode exactly from the values written', () => {
    const timeMax = ds.shm_atime_high || ds.shm_atime.size === 8 ? 2n ** 40n : 2n ** 31n - 1n;
    fc.assert(
      fc.property(
        fc.tuple(fc.bigInt({ min: 0n, max: timeMax }), fc.bigInt({ min: 0n, max: timeMax }), fc.bigInt({ min: 0n, max: timeMax })),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.bigInt({ min: 0n, max: ds.shm_segsz.size === 8 ? BigInt(Number.MAX_SAFE_INTEGER) : 2n ** 32n - 1n }),
        fc.integer({ min: 0, max: 2 ** (8 * perm.seq.size - (perm.seq.signed ? 1 : 0)) - 1 }),
        (times, key, pid, segsz, seq) => {
          const bytes = new Uint8Array(abi.sizeof.shmidDs);
          const v = new DataView(bytes.buffer);
          (['shm_atime', 'shm_dtime', 'shm_ctime'] as const).forEach((f, i) => {
            const high = ds[`${f}_high`];
            if (high) {
              put(v, ds[f], times[i] & 0xffffffffn, le);
              put(v, high, times[i] >> 32n, le);
            } else {
              put(v, ds[f], times[i], le);
            }
          });
          put(v, perm.key, BigInt(key), le, ds.shm_perm.offset);
          put(v, perm.seq, BigInt(seq), le, ds.shm_perm.offset);
          put(v, ds.shm_cpid, BigInt(pid), le);
          put(v, ds.shm_segsz, segsz, le);
          const r = abi.decodeShmidDs(bytes);
          expect([r.atime, r.dtime, r.ctime]).toEqual(times.map(Number));
          expect(r.perm.key).toBe(key);
          expect(r.perm.seq).toBe(seq);
          expect(r.cpid).toBe(pid);
          expect(r.segsz).toBe(Number(segsz));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('encodeTimespec keeps the value to the nanosecond rounding', () => {
    const f = d.structs.timespec.fields;
    const max = f.tv_sec.size === 4 ? 2 ** 31 * 1000 - 1 : 1e13;
    fc.assert(
      fc.property(fc.double({ min: 0, max, noNaN: true }), (ms) => {
        const b = abi.encodeTimespec(ms);
        const v = new DataView(b.buffer);
        const rd = (x: FieldLayout) => (x.size === 8 ? Number(v.getBigInt64(x.offset, le)) : v.getInt32(x.offset, le));
        const sec = rd(f.tv_sec);
        const nsec = rd(f.tv_nsec);
        expect(nsec).toBeGreaterThanOrEqual(0);
        expect(nsec).toBeLessThan(1e9);
        expect(sec).toBe(Math.floor(ms / 1000));
        expect(Math.abs(sec * 1000 + nsec / 1e6 - ms)).toBeLessThan(1e-3 + ms * 1e-12);
      }),
      { numRuns: 200 },
    );
  });
});
