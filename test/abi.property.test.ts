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

// ---------------------------------------------------------------------------
// Semaphores and message queues
// ---------------------------------------------------------------------------

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const semNum = fc.integer({ min: 0, max: 65535 });
const semOp = fc.integer({ min: -32768, max: 32767 });
const semFlg = fc.integer({ min: -32768, max: 65535 });
/** Integers just outside [min, max], and non-integers inside it. */
const outside = (min: number, max: number) =>
  fc.oneof(
    fc.integer({ min: max + 1, max: max + 2 ** 20 }),
    fc.integer({ min: min - 2 ** 20, max: min - 1 }),
    fc.double({ min, max, noNaN: true }).filter((x) => !Number.isInteger(x)),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
  );

describe.each(listTargets())('target %s (semaphores and queues, property)', (name) => {
  const abi = getAbi(name);
  const d = abi.description;
  const le = d.littleEndian;
  const perm = d.structs.ipc_perm.fields;

  it('encodeSembufs writes each op at i * sizeof(struct sembuf): unsigned sem_num, signed sem_op, sem_flg as a short', () => {
    const f = d.structs.sembuf.fields;
    fc.assert(
      fc.property(fc.array(fc.record({ sem_num: semNum, sem_op: semOp, sem_flg: semFlg }), { maxLength: 12 }), (ops) => {
        const bytes = abi.encodeSembufs(ops);
        expect(bytes.length).toBe(ops.length * abi.sizeof.sembuf);
        const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const back = ops.map((_, i) => {
          const base = i * abi.sizeof.sembuf;
          return {
            sem_num: v.getUint16(base + f.sem_num.offset, le),
            sem_op: v.getInt16(base + f.sem_op.offset, le),
            sem_flg: v.getInt16(base + f.sem_flg.offset, le),
          };
        });
        // A flag given as the short's unsigned bits (e.g. 0x9000) reads back as the same short.
        expect(back).toEqual(ops.map((o) => ({ ...o, sem_flg: (o.sem_flg << 16) >> 16 })));
      }),
      { numRuns: 200 },
    );
  });

  it('encodeSembufs throws a RangeError naming the op and field for any value out of its C type', () => {
    const field = fc.constantFrom(
      { key: 'sem_num', bad: outside(0, 65535) },
      { key: 'sem_op', bad: outside(-32768, 32767) },
      { key: 'sem_flg', bad: outside(-32768, 65535) },
    );
    fc.assert(
      fc.property(
        fc.array(fc.record({ sem_num: semNum, sem_op: semOp, sem_flg: semFlg }), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        field.chain((fl) => fc.tuple(fc.constant(fl.key), fl.bad)),
        (ops, at, [key, bad]) => {
          const i = at % ops.length;
          const broken = ops.map((o, j) => (j === i ? { ...o, [key]: bad } : o));
          expect(() => abi.encodeSembufs(broken)).toThrow(RangeError);
          expect(() => abi.encodeSembufs(broken)).toThrow(`ops[${i}].${key}`);
        },
      ),
      { numRuns: 200 },
    );
    expect(() => abi.encodeSembufs([{ sem_num: '1' as never, sem_op: 0, sem_flg: 0 }])).toThrow(TypeError);
    expect(abi.encodeSembufs([{ sem_num: 1, sem_op: 1 } as never])).toEqual(abi.encodeSembufs([{ sem_num: 1, sem_op: 1, sem_flg: 0 }]));
  });

  it('writeMsgType / readMsgType: a signed C long at offset 0 in target byte order, the text untouched', () => {
    const bits = 8 * abi.sizeof.long;
    const min = -(1n << BigInt(bits - 1));
    const max = (1n << BigInt(bits - 1)) - 1n;
    fc.assert(
      fc.property(fc.bigInt({ min, max }), fc.boolean(), fc.uint8Array({ maxLength: 8 }), (type, asNumber, text) => {
        const safe = type >= BigInt(Number.MIN_SAFE_INTEGER) && type <= BigInt(Number.MAX_SAFE_INTEGER);
        const bytes = new Uint8Array(abi.sizeof.long + text.length);
        bytes.set(text, abi.sizeof.long);
        abi.writeMsgType(bytes, asNumber && safe ? Number(type) : type);
        const v = new DataView(bytes.buffer);
        expect(bits === 64 ? v.getBigInt64(0, le) : BigInt(v.getInt32(0, le))).toBe(type);
        expect(bytes.subarray(abi.sizeof.long)).toEqual(text);
        // A number when exact, else a bigint.
        expect(abi.readMsgType(bytes)).toBe(safe ? Number(type) : type);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.bigInt({ min: max + 1n, max: max * 4n }), fc.bigInt({ min: min * 4n, max: min - 1n })), fc.boolean(), (type, asNumber) => {
        const bytes = new Uint8Array(abi.sizeof.long);
        const given = asNumber && Number.isSafeInteger(Number(type)) ? Number(type) : type;
        expect(() => abi.writeMsgType(bytes, given)).toThrow(RangeError);
        expect(bytes).toEqual(new Uint8Array(abi.sizeof.long));
      }),
      { numRuns: 100 },
    );
    expect(() => abi.writeMsgType(new Uint8Array(abi.sizeof.long), 1.5)).toThrow(RangeError);
    expect(() => abi.writeMsgType(new Uint8Array(abi.sizeof.long - 1), 1)).toThrow(RangeError);
    expect(() => abi.readMsgType(new Uint8Array(abi.sizeof.long - 1))).toThrow(RangeError);
  });

  it('semunValue: the pointer-sized integer whose bytes hold int val at offset 0 (BE64: shifted by 32, else the value)', () => {
    fc.assert(
      fc.property(int32, (val) => {
        const arg = abi.semunValue(val);
        if (name === 'linux-s390x-gnu') expect(arg).toBe(BigInt(val) << 32n);
        else expect(arg).toBe(val);
        // The register passed as a long, stored in target order: val is the int at byte 0.
        const bytes = new Uint8Array(abi.sizeof.semun);
        const v = new DataView(bytes.buffer);
        if (abi.sizeof.semun === 8) v.setBigInt64(0, BigInt(arg), le);
        else v.setInt32(0, Number(arg), le);
        expect(v.getInt32(d.structs.semun.fields.val.offset, le)).toBe(val);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(outside(-(2 ** 31), 2 ** 31 - 1), (bad) => {
        expect(() => abi.semunValue(bad)).toThrow(RangeError);
      }),
      { numRuns: 50 },
    );
  });

  /** Write a time the way the target lays it out: low word + high word where the time is 4 bytes. */
  const putTime = (v: DataView, fields: Readonly<Record<string, FieldLayout>>, name: string, t: bigint, junk: bigint) => {
    const low = fields[name];
    const high = fields[`${name}_high`];
    if (low.size === 4 && high) {
      put(v, low, t & 0xffffffffn, le);
      put(v, high, t >> 32n, le);
    } else {
      put(v, low, t, le);
      // x86-64 / mips64 glibc: a reserved word of that name, whatever it holds, is not part of the time.
      if (high) put(v, high, junk, le);
    }
  };
  // 4-byte times without a high word (none here) would stop at 2^31 - 1.
  const timeArb = fc.bigInt({ min: 0n, max: 2n ** 40n });

  it('decodeSemidDs: times (legacy high words combined, reserved words ignored), nsems and perm', () => {
    const f = d.structs.semid_ds.fields;
    const base = f.sem_perm.offset;
    fc.assert(
      fc.property(
        timeArb,
        timeArb,
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.integer({ min: 0, max: f.sem_nsems.size === 2 ? 65535 : 2 ** 31 }),
        int32,
        fc.integer({ min: 0, max: 0xffffffff }),
        (otime, ctime, junk, nsems, key, uid) => {
          const bytes = new Uint8Array(abi.sizeof.semidDs);
          const v = new DataView(bytes.buffer);
          putTime(v, f, 'sem_otime', otime, junk);
          putTime(v, f, 'sem_ctime', ctime, ~junk);
          put(v, f.sem_nsems, BigInt(nsems), le);
          put(v, perm.key, BigInt(key), le, base);
          put(v, perm.uid, BigInt(uid), le, base);
          const r = abi.decodeSemidDs(bytes);
          expect([r.otime, r.ctime, r.nsems, r.perm.key, r.perm.uid]).toEqual([Number(otime), Number(ctime), nsems, key, uid]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('decodeMsqidDs: times (legacy high words combined), counts exact, pids and perm', () => {
    const f = d.structs.msqid_ds.fields;
    const base = f.msg_perm.offset;
    const count = fc.bigInt({ min: 0n, max: f.msg_qnum.size === 8 ? BigInt(Number.MAX_SAFE_INTEGER) : 2n ** 32n - 1n });
    fc.assert(
      fc.property(
        fc.tuple(timeArb, timeArb, timeArb),
        fc.tuple(count, count, count),
        fc.tuple(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 2 ** 31 - 1 })),
        fc.integer({ min: 0, max: 2 ** (8 * perm.mode.size) - 1 }),
        (times, [cbytes, qnum, qbytes], [lspid, lrpid], mode) => {
          const bytes = new Uint8Array(abi.sizeof.msqidDs);
          const v = new DataView(bytes.buffer);
          for (const [i, t] of (['msg_stime', 'msg_rtime', 'msg_ctime'] as const).entries()) putTime(v, f, t, times[i], 0n);
          put(v, f.msg_cbytes, cbytes, le);
          put(v, f.msg_qnum, qnum, le);
          put(v, f.msg_qbytes, qbytes, le);
          put(v, f.msg_lspid, BigInt(lspid), le);
          put(v, f.msg_lrpid, BigInt(lrpid), le);
          put(v, perm.mode, BigInt(mode), le, base);
          expect(abi.decodeMsqidDs(bytes)).toEqual({
            perm: { key: 0, uid: 0, gid: 0, cuid: 0, cgid: 0, mode, seq: 0 },
            stime: Number(times[0]),
            rtime: Number(times[1]),
            ctime: Number(times[2]),
            cbytes: Number(cbytes),
            qnum: Number(qnum),
            qbytes: Number(qbytes),
            lspid,
            lrpid,
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('encodeSemidDs / encodeMsqidDs round-trip what IPC_SET writes, zeros elsewhere', () => {
    const modeMax = 2 ** (8 * perm.mode.size) - 1;
    const qbytesMax = abi.sizeof.long === 8 ? Number.MAX_SAFE_INTEGER : 0xffffffff;
    fc.assert(
      fc.property(
        fc.record({ uid: fc.integer({ min: 0, max: 0xffffffff }), gid: fc.integer({ min: 0, max: 0xffffffff }), mode: fc.integer({ min: 0, max: modeMax }) }),
        fc.integer({ min: 0, max: qbytesMax }),
        (p, qbytes) => {
          const sem = abi.decodeSemidDs(abi.encodeSemidDs({ perm: p }));
          expect(sem).toEqual({ perm: { key: 0, cuid: 0, cgid: 0, seq: 0, ...p }, otime: 0, ctime: 0, nsems: 0 });
          const msq = abi.decodeMsqidDs(abi.encodeMsqidDs({ perm: p, qbytes }));
          expect(msq).toEqual({
            perm: { key: 0, cuid: 0, cgid: 0, seq: 0, ...p },
            stime: 0,
            rtime: 0,
            ctime: 0,
            cbytes: 0,
            qnum: 0,
            qbytes,
            lspid: 0,
            lrpid: 0,
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('decodeSeminfo / decodeMsginfo read every int (and msgseg as an unsigned short) exactly', () => {
    const si = d.structs.seminfo.fields;
    const mi = d.structs.msginfo.fields;
    const semNames = ['semmap', 'semmni', 'semmns', 'semmnu', 'semmsl', 'semopm', 'semume', 'semusz', 'semvmx', 'semaem'];
    const msgNames = ['msgpool', 'msgmap', 'msgmax', 'msgmnb', 'msgmni', 'msgssz', 'msgtql'];
    fc.assert(
      fc.property(fc.array(int32, { minLength: 10, maxLength: 10 }), fc.array(int32, { minLength: 7, maxLength: 7 }), semNum, (s, m, msgseg) => {
        const sb = new Uint8Array(abi.sizeof.seminfo);
        const sv = new DataView(sb.buffer);
        for (const [i, n] of semNames.entries()) put(sv, si[n], BigInt(s[i]), le);
        expect(abi.decodeSeminfo(sb)).toEqual(Object.fromEntries(semNames.map((n, i) => [n, s[i]])));
        const mb = new Uint8Array(abi.sizeof.msginfo);
        const mv = new DataView(mb.buffer);
        for (const [i, n] of msgNames.entries()) put(mv, mi[n], BigInt(m[i]), le);
        put(mv, mi.msgseg, BigInt(msgseg), le);
        expect(abi.decodeMsginfo(mb)).toEqual({ ...Object.fromEntries(msgNames.map((n, i) => [n, m[i]])), msgseg });
      }),
      { numRuns: 100 },
    );
  });
});
