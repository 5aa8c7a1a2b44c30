/**
 * Decode/encode functions built from a generated field table. No per-target
 * code: everything comes from offsets, sizes, signedness and endianness.
 */
import type { AbiDescription, FieldLayout, FutexWaiter, IpcPerm, ShmidDs, ShmidDsPatch, ShmInfo, Shminfo, StructLayout } from './types.js';

export interface Codec {
  decodeShmidDs(bytes: Uint8Array): ShmidDs;
  encodeShmidDs(patch: ShmidDsPatch): Uint8Array;
  decodeShminfo(bytes: Uint8Array): Shminfo;
  decodeShmInfo(bytes: Uint8Array): ShmInfo;
  encodeTimespec(ms: number): Uint8Array;
  /**
   * A struct sockaddr_un of exactly offsetof(sun_path) + path.length bytes (the addrlen to pass): sun_family =
   * AF_UNIX, then `path` as given (a leading 0 byte makes it an abstract name; a filesystem path wants its
   * trailing 0). RangeError if `path` is longer than sun_path.
   */
  encodeSockaddrUn(path: Uint8Array): Uint8Array;
  /** An array of struct futex_waitv for futex_waitv(2), zeros in the reserved words. */
  encodeFutexWaitv(waiters: readonly FutexWaiter[]): Uint8Array;
}

const TWO_32 = 2 ** 32;

function view(bytes: Uint8Array, layout: StructLayout, what: string): DataView {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${what}: expected a Uint8Array`);
  if (bytes.byteLength < layout.size) {
    throw new RangeError(`${what}: need ${layout.size} bytes, got ${bytes.byteLength}`);
  }
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function need(layout: StructLayout, name: string): FieldLayout {
  const f = layout.fields[name];
  if (!f) throw new Error(`ABI table has no field ${name}`);
  return f;
}

/** Read any 1/2/4/8-byte integer field exactly, as a bigint. */
function readBig(v: DataView, f: FieldLayout, base: number, le: boolean, forceUnsigned = false): bigint {
  const o = base + f.offset;
  const signed = f.signed === true && !forceUnsigned;
  switch (f.size) {
    case 1:
      return BigInt(signed ? v.getInt8(o) : v.getUint8(o));
    case 2:
      return BigInt(signed ? v.getInt16(o, le) : v.getUint16(o, le));
    case 4:
      return BigInt(signed ? v.getInt32(o, le) : v.getUint32(o, le));
    case 8:
      return signed ? v.getBigInt64(o, le) : v.getBigUint64(o, le);
    default:
      throw new Error(`unsupported field size ${f.size}`);
  }
}

/**
 * Any integer field as a number, without BigInt (IPC_STAT is on hot paths): 8-byte fields are read as two
 * 32-bit halves. Returns NaN when the value cannot be represented exactly.
 */
function readNumber(v: DataView, f: FieldLayout, base: number, le: boolean, forceUnsigned = false): number {
  const o = base + f.offset;
  const signed = f.signed === true && !forceUnsigned;
  switch (f.size) {
    case 1:
      return signed ? v.getInt8(o) : v.getUint8(o);
    case 2:
      return signed ? v.getInt16(o, le) : v.getUint16(o, le);
    case 4:
      return signed ? v.getInt32(o, le) : v.getUint32(o, le);
    case 8: {
      const low = v.getUint32(le ? o : o + 4, le);
      const highAt = le ? o + 4 : o;
      const high = signed ? v.getInt32(highAt, le) : v.getUint32(highAt, le);
      const value = high * TWO_32 + low;
      return Number.isSafeInteger(value) ? value : Number.NaN;
    }
    default:
      throw new Error(`unsupported field size ${f.size}`);
  }
}

/** A field of at most 4 bytes always fits a number exactly. */
function readSmall(v: DataView, f: FieldLayout, base: number, le: boolean): number {
  if (f.size > 4) throw new Error(`field of ${f.size} bytes read as a 32-bit number`);
  return readNumber(v, f, base, le);
}

/** For sizes and counts: exact number, or a RangeError rather than a rounded value. */
function readSafe(v: DataView, f: FieldLayout, base: number, le: boolean, name: string): number {
  const value = readNumber(v, f, base, le);
  if (Number.isNaN(value)) throw new RangeError(`${name} = ${readBig(v, f, base, le)} exceeds Number.MAX_SAFE_INTEGER`);
  return value;
}

function writeUnsigned(v: DataView, f: FieldLayout, base: number, le: boolean, value: number, name: string): void {
  const max = 2 ** (8 * f.size) - 1;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer in [0, ${max}], got ${value}`);
  }
  const o = base + f.offset;
  switch (f.size) {
    case 1:
      v.setUint8(o, value);
      break;
    case 2:
      v.setUint16(o, value, le);
      break;
    case 4:
      v.setUint32(o, value, le);
      break;
    case 8:
      v.setBigUint64(o, BigInt(value), le);
      break;
    default:
      throw new Error(`unsupported field size ${f.size}`);
  }
}

function writeUnsignedBig(v: DataView, f: FieldLayout, base: number, le: boolean, value: bigint, name: string): void {
  const max = (1n << BigInt(8 * f.size)) - 1n;
  if (typeof value !== 'bigint' || value < 0n || value > max) throw new RangeError(`${name} must be an integer in [0, ${max}], got ${value}`);
  if (f.size === 8) v.setBigUint64(base + f.offset, value, le);
  else writeUnsigned(v, f, base, le, Number(value), name);
}

function writeSigned(v: DataView, f: FieldLayout, le: boolean, value: bigint): void {
  switch (f.size) {
    case 4:
      v.setInt32(f.offset, Number(BigInt.asIntN(32, value)), le);
      break;
    case 8:
      v.setBigInt64(f.offset, value, le);
      break;
    default:
      throw new Error(`unsupported field size ${f.size}`);
  }
}

export function makeCodec(d: AbiDescription): Codec {
  const le = d.littleEndian;
  const perm = d.structs.ipc_perm;
  const ds = d.structs.shmid_ds;
  const info = d.structs.shminfo;
  const sinfo = d.structs.shm_info;
  const ts = d.structs.timespec;
  const un = d.structs.sockaddr_un;
  const waitv = d.kernelStructs.futex_waitv;
  const permBase = need(ds, 'shm_perm').offset;

  // Legacy 32-bit layout: time = unsigned low word + high word * 2^32.
  const timeReader = (name: 'shm_atime' | 'shm_dtime' | 'shm_ctime') => {
    const high = ds.fields[`${name}_high`];
    const low = need(ds, name);
    if (high) return (v: DataView) => readNumber(v, high, 0, le, true) * TWO_32 + readNumber(v, low, 0, le, true);
    return (v: DataView) => {
      const value = readNumber(v, low, 0, le);
      return Number.isNaN(value) ? Number(readBig(v, low, 0, le)) : value;
    };
  };
  const atime = timeReader('shm_atime');
  const dtime = timeReader('shm_dtime');
  const ctime = timeReader('shm_ctime');

  // Field layouts looked up once, not per call.
  const pf = {
    key: need(perm, 'key'),
    uid: need(perm, 'uid'),
    gid: need(perm, 'gid'),
    cuid: need(perm, 'cuid'),
    cgid: need(perm, 'cgid'),
    mode: need(perm, 'mode'),
    seq: need(perm, 'seq'),
  };
  const df = { segsz: need(ds, 'shm_segsz'), cpid: need(ds, 'shm_cpid'), lpid: need(ds, 'shm_lpid'), nattch: need(ds, 'shm_nattch') };

  const decodePerm = (v: DataView): IpcPerm => ({
    key: readSmall(v, pf.key, permBase, le),
    uid: readSmall(v, pf.uid, permBase, le),
    gid: readSmall(v, pf.gid, permBase, le),
    cuid: readSmall(v, pf.cuid, permBase, le),
    cgid: readSmall(v, pf.cgid, permBase, le),
    mode: readSmall(v, pf.mode, permBase, le),
    seq: readSmall(v, pf.seq, permBase, le),
  });

  return {
    decodeShmidDs(bytes) {
      const v = view(bytes, ds, 'decodeShmidDs');
      return {
        perm: decodePerm(v),
        segsz: readSafe(v, df.segsz, 0, le, 'shm_segsz'),
        atime: atime(v),
        dtime: dtime(v),
        ctime: ctime(v),
        cpid: readSmall(v, df.cpid, 0, le),
        lpid: readSmall(v, df.lpid, 0, le),
        nattch: readSafe(v, df.nattch, 0, le, 'shm_nattch'),
      };
    },

    encodeShmidDs(patch) {
      // Zeros elsewhere: IPC_SET reads only uid, gid and mode.
      const bytes = new Uint8Array(ds.size);
      const v = new DataView(bytes.buffer);
      const p = patch?.perm ?? {};
      if (p.uid !== undefined) writeUnsigned(v, need(perm, 'uid'), permBase, le, p.uid, 'perm.uid');
      if (p.gid !== undefined) writeUnsigned(v, need(perm, 'gid'), permBase, le, p.gid, 'perm.gid');
      if (p.mode !== undefined) writeUnsigned(v, need(perm, 'mode'), permBase, le, p.mode, 'perm.mode');
      return bytes;
    },

    decodeShminfo(bytes) {
      const v = view(bytes, info, 'decodeShminfo');
      const big = (name: string) => readBig(v, need(info, name), 0, le);
      return { shmmax: big('shmmax'), shmmin: big('shmmin'), shmmni: big('shmmni'), shmseg: big('shmseg'), shmall: big('shmall') };
    },

    decodeShmInfo(bytes) {
      const v = view(bytes, sinfo, 'decodeShmInfo');
      const big = (name: string) => readBig(v, need(sinfo, name), 0, le);
      return {
        usedIds: readSmall(v, need(sinfo, 'used_ids'), 0, le),
        shmTot: big('shm_tot'),
        shmRss: big('shm_rss'),
        shmSwp: big('shm_swp'),
        swapAttempts: big('swap_attempts'),
        swapSuccesses: big('swap_successes'),
      };
    },

    encodeTimespec(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`timeout must be a finite number of ms >= 0, got ${ms}`);
      const sec = Math.floor(ms / 1000);
      const nsec = Math.min(999_999_999, Math.round((ms - sec * 1000) * 1e6));
      const secField = need(ts, 'tv_sec');
      if (secField.size === 4 && sec > 0x7fffffff) throw new RangeError(`timeout ${ms} ms does not fit a 32-bit time_t`);
      // Zero-filled, so the padding next to a 32-bit tv_nsec (time64 on 32-bit) is 0 as the kernel requires.
      const bytes = new Uint8Array(ts.size);
      const v = new DataView(bytes.buffer);
      writeSigned(v, secField, le, BigInt(sec));
      writeSigned(v, need(ts, 'tv_nsec'), le, BigInt(nsec));
      return bytes;
    },

    encodeSockaddrUn(path) {
      if (!(path instanceof Uint8Array)) throw new TypeError('encodeSockaddrUn: expected a Uint8Array');
      const sunPath = need(un, 'sun_path');
      if (path.length > sunPath.size) throw new RangeError(`a sockaddr_un path holds at most ${sunPath.size} bytes, got ${path.length}`);
      const family = d.constants.AF_UNIX;
      if (family === undefined) throw new Error(`the ABI table of ${d.target} has no AF_UNIX`);
      const bytes = new Uint8Array(sunPath.offset + path.length);
      writeUnsigned(new DataView(bytes.buffer), need(un, 'sun_family'), 0, le, family, 'sun_family');
      bytes.set(path, sunPath.offset);
      return bytes;
    },

    encodeFutexWaitv(waiters) {
      const fields = { val: need(waitv, 'val'), uaddr: need(waitv, 'uaddr'), flags: need(waitv, 'flags') };
      const bytes = new Uint8Array(waitv.size * waiters.length);
      const v = new DataView(bytes.buffer);
      waiters.forEach((w, i) => {
        const base = i * waitv.size;
        if (typeof w.val !== 'bigint' && !Number.isSafeInteger(w.val)) throw new RangeError(`waiters[${i}].val must be an integer, got ${w.val}`);
        writeUnsignedBig(v, fields.val, base, le, BigInt(w.val), `waiters[${i}].val`);
        writeUnsignedBig(v, fields.uaddr, base, le, w.uaddr, `waiters[${i}].uaddr`);
        writeUnsigned(v, fields.flags, base, le, w.flags, `waiters[${i}].flags`);
      });
      return bytes;
    },
  };
}
