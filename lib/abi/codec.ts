/**
 * Decode/encode functions built from a generated field table. No per-target
 * code: everything comes from offsets, sizes, signedness and endianness.
 */
import type { AbiDescription, FieldLayout, IpcPerm, ShmidDs, ShmidDsPatch, ShmInfo, Shminfo, StructLayout } from './types.js';

export interface Codec {
  decodeShmidDs(bytes: Uint8Array): ShmidDs;
  encodeShmidDs(patch: ShmidDsPatch): Uint8Array;
  decodeShminfo(bytes: Uint8Array): Shminfo;
  decodeShmInfo(bytes: Uint8Array): ShmInfo;
  encodeTimespec(ms: number): Uint8Array;
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
    case 1: return BigInt(signed ? v.getInt8(o) : v.getUint8(o));
    case 2: return BigInt(signed ? v.getInt16(o, le) : v.getUint16(o, le));
    case 4: return BigInt(signed ? v.getInt32(o, le) : v.getUint32(o, le));
    case 8: return signed ? v.getBigInt64(o, le) : v.getBigUint64(o, le);
    default: throw new Error(`unsupported field size ${f.size}`);
  }
}

/** A field of at most 4 bytes always fits a number exactly. */
function readSmall(v: DataView, f: FieldLayout, base: number, le: boolean): number {
  if (f.size > 4) throw new Error(`field of ${f.size} bytes read as a 32-bit number`);
  return Number(readBig(v, f, base, le));
}

/** For sizes and counts: exact number, or a RangeError rather than a rounded value. */
function readSafe(v: DataView, f: FieldLayout, base: number, le: boolean, name: string): number {
  const b = readBig(v, f, base, le);
  if (b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`${name} = ${b} exceeds Number.MAX_SAFE_INTEGER`);
  }
  return Number(b);
}

function writeUnsigned(v: DataView, f: FieldLayout, base: number, le: boolean, value: number, name: string): void {
  const max = 2 ** (8 * f.size) - 1;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer in [0, ${max}], got ${value}`);
  }
  const o = base + f.offset;
  switch (f.size) {
    case 1: v.setUint8(o, value); break;
    case 2: v.setUint16(o, value, le); break;
    case 4: v.setUint32(o, value, le); break;
    case 8: v.setBigUint64(o, BigInt(value), le); break;
    default: throw new Error(`unsupported field size ${f.size}`);
  }
}

function writeSigned(v: DataView, f: FieldLayout, le: boolean, value: bigint): void {
  switch (f.size) {
    case 4: v.setInt32(f.offset, Number(BigInt.asIntN(32, value)), le); break;
    case 8: v.setBigInt64(f.offset, value, le); break;
    default: throw new Error(`unsupported field size ${f.size}`);
  }
}

export function makeCodec(d: AbiDescription): Codec {
  const le = d.littleEndian;
  const perm = d.structs.ipc_perm;
  const ds = d.structs.shmid_ds;
  const info = d.structs.shminfo;
  const sinfo = d.structs.shm_info;
  const ts = d.structs.timespec;
  const permBase = need(ds, 'shm_perm').offset;

  // Legacy 32-bit layout: time = unsigned low word + high word * 2^32.
  const time = (v: DataView, name: 'shm_atime' | 'shm_dtime' | 'shm_ctime'): number => {
    const high = ds.fields[`${name}_high`];
    const low = need(ds, name);
    if (!high) return Number(readBig(v, low, 0, le));
    return Number(readBig(v, high, 0, le, true)) * TWO_32 + Number(readBig(v, low, 0, le, true));
  };

  const decodePerm = (v: DataView): IpcPerm => ({
    key: readSmall(v, need(perm, 'key'), permBase, le),
    uid: readSmall(v, need(perm, 'uid'), permBase, le),
    gid: readSmall(v, need(perm, 'gid'), permBase, le),
    cuid: readSmall(v, need(perm, 'cuid'), permBase, le),
    cgid: readSmall(v, need(perm, 'cgid'), permBase, le),
    mode: readSmall(v, need(perm, 'mode'), permBase, le),
    seq: readSmall(v, need(perm, 'seq'), permBase, le),
  });

  return {
    decodeShmidDs(bytes) {
      const v = view(bytes, ds, 'decodeShmidDs');
      return {
        perm: decodePerm(v),
        segsz: readSafe(v, need(ds, 'shm_segsz'), 0, le, 'shm_segsz'),
        atime: time(v, 'shm_atime'),
        dtime: time(v, 'shm_dtime'),
        ctime: time(v, 'shm_ctime'),
        cpid: readSmall(v, need(ds, 'shm_cpid'), 0, le),
        lpid: readSmall(v, need(ds, 'shm_lpid'), 0, le),
        nattch: readSafe(v, need(ds, 'shm_nattch'), 0, le, 'shm_nattch'),
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
  };
}
