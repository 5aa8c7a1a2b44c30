/**
 * Decode/encode functions built from a generated field table. No per-target
 * code: everything comes from offsets, sizes, signedness and endianness.
 */
import type {
  AbiDescription,
  FieldLayout,
  FutexWaiter,
  IpcPerm,
  Msginfo,
  MsqidDs,
  MsqidDsPatch,
  Sembuf,
  SemidDs,
  SemidDsPatch,
  Seminfo,
  ShmidDs,
  ShmidDsPatch,
  ShmInfo,
  Shminfo,
  StructLayout,
} from './types.js';

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
  decodeSemidDs(bytes: Uint8Array): SemidDs;
  /** sizeof(semid_ds) bytes, zeros elsewhere, for semctl IPC_SET (the kernel reads uid, gid, mode only). */
  encodeSemidDs(patch: SemidDsPatch): Uint8Array;
  decodeMsqidDs(bytes: Uint8Array): MsqidDs;
  /** sizeof(msqid_ds) bytes for msgctl IPC_SET: uid, gid, mode and msg_qbytes (all four required), zeros elsewhere. */
  encodeMsqidDs(patch: MsqidDsPatch): Uint8Array;
  decodeSeminfo(bytes: Uint8Array): Seminfo;
  decodeMsginfo(bytes: Uint8Array): Msginfo;
  /**
   * An array of struct sembuf for semop(2). RangeError when sem_num is outside 0..65535, sem_op outside
   * -32768..32767, or sem_flg outside -32768..65535 (a short, or its 16 bits as unsigned); a missing sem_flg is 0.
   */
  encodeSembufs(ops: readonly Sembuf[]): Uint8Array;
  /**
   * The pointer-sized integer to pass by value as semctl's 4th argument (union semun) so that `int val` lands at
   * byte 0 of the union: `val` on little-endian and 32-bit targets, `BigInt(val) << 32n` on big-endian 64-bit
   * (the kernel takes `arg >> 32` there). RangeError outside the int range.
   */
  semunValue(val: number): number | bigint;
  /** Write mtype (a signed C long, target byte order) at offset 0 of a msgbuf; RangeError outside the long's range. */
  writeMsgType(bytes: Uint8Array, type: number | bigint): void;
  /** Read mtype from offset 0 of a msgbuf: a number when it is a safe integer, else a bigint. */
  readMsgType(bytes: Uint8Array): number | bigint;
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
  // A number beyond 2^53 is not exact (and 2 ** 64 - 1 rounds to 2 ** 64): safe integers only.
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
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

/** An integer in [min, max], or a TypeError / RangeError naming it. */
function checkInt(value: unknown, min: number, max: number, name: string): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  return value;
}

/** The low 8·size bits of an integer already range-checked (negative values as two's complement). */
function writeBits(v: DataView, f: FieldLayout, base: number, le: boolean, value: number): void {
  const o = base + f.offset;
  switch (f.size) {
    case 1:
      v.setUint8(o, value & 0xff);
      break;
    case 2:
      v.setUint16(o, value & 0xffff, le);
      break;
    case 4:
      v.setUint32(o, value >>> 0, le);
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
  const semDs = d.structs.semid_ds;
  const msqDs = d.structs.msqid_ds;
  const semPermBase = need(semDs, 'sem_perm').offset;
  const msqPermBase = need(msqDs, 'msg_perm').offset;

  // Legacy 32-bit layout: time = unsigned low word + high word * 2^32. Only beside a 4-byte time: glibc also
  // names x86-64's (and mips64's) reserved words `__sem_otime_high`..., next to an 8-byte time.
  const timeReader = (layout: StructLayout, name: string) => {
    const high = layout.fields[`${name}_high`];
    const low = need(layout, name);
    if (high && low.size === 4) return (v: DataView) => readNumber(v, high, 0, le, true) * TWO_32 + readNumber(v, low, 0, le, true);
    return (v: DataView) => {
      const value = readNumber(v, low, 0, le);
      return Number.isNaN(value) ? Number(readBig(v, low, 0, le)) : value;
    };
  };
  const atime = timeReader(ds, 'shm_atime');
  const dtime = timeReader(ds, 'shm_dtime');
  const ctime = timeReader(ds, 'shm_ctime');
  const semOtime = timeReader(semDs, 'sem_otime');
  const semCtime = timeReader(semDs, 'sem_ctime');
  const msgStime = timeReader(msqDs, 'msg_stime');
  const msgRtime = timeReader(msqDs, 'msg_rtime');
  const msgCtime = timeReader(msqDs, 'msg_ctime');

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

  const sf = { nsems: need(semDs, 'sem_nsems') };
  const mf = {
    cbytes: need(msqDs, 'msg_cbytes'),
    qnum: need(msqDs, 'msg_qnum'),
    qbytes: need(msqDs, 'msg_qbytes'),
    lspid: need(msqDs, 'msg_lspid'),
    lrpid: need(msqDs, 'msg_lrpid'),
  };
  const seminfo = d.structs.seminfo;
  const msginfo = d.structs.msginfo;
  const sembuf = d.structs.sembuf;
  const bf = { num: need(sembuf, 'sem_num'), op: need(sembuf, 'sem_op'), flg: need(sembuf, 'sem_flg') };
  const semun = d.structs.semun;
  // int val at byte 0 of a pointer-sized union: on big-endian, the high bytes of the integer passed.
  const semunShift = le ? 0n : BigInt(8 * (semun.size - need(semun, 'val').size));

  const decodePerm = (v: DataView, base: number): IpcPerm => ({
    key: readSmall(v, pf.key, base, le),
    uid: readSmall(v, pf.uid, base, le),
    gid: readSmall(v, pf.gid, base, le),
    cuid: readSmall(v, pf.cuid, base, le),
    cgid: readSmall(v, pf.cgid, base, le),
    mode: readSmall(v, pf.mode, base, le),
    seq: readSmall(v, pf.seq, base, le),
  });

  /** IPC_SET buffer of `size` bytes: uid, gid, mode of the ipc_perm at `base`, zeros elsewhere. */
  const encodePerm = (size: number, base: number, p: { uid?: number; gid?: number; mode?: number }) => {
    const bytes = new Uint8Array(size);
    const v = new DataView(bytes.buffer);
    if (p.uid !== undefined) writeUnsigned(v, pf.uid, base, le, p.uid, 'perm.uid');
    if (p.gid !== undefined) writeUnsigned(v, pf.gid, base, le, p.gid, 'perm.gid');
    if (p.mode !== undefined) writeUnsigned(v, pf.mode, base, le, p.mode, 'perm.mode');
    return { bytes, v };
  };

  const longBits = 8 * d.sizeofLong;
  const longMin = -(1n << BigInt(longBits - 1));
  const longMax = (1n << BigInt(longBits - 1)) - 1n;

  return {
    decodeShmidDs(bytes) {
      const v = view(bytes, ds, 'decodeShmidDs');
      return {
        perm: decodePerm(v, permBase),
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
      return encodePerm(ds.size, permBase, patch?.perm ?? {}).bytes;
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

    decodeSemidDs(bytes) {
      const v = view(bytes, semDs, 'decodeSemidDs');
      return {
        perm: decodePerm(v, semPermBase),
        otime: semOtime(v),
        ctime: semCtime(v),
        nsems: readSafe(v, sf.nsems, 0, le, 'sem_nsems'),
      };
    },

    encodeSemidDs(patch) {
      return encodePerm(semDs.size, semPermBase, patch?.perm ?? {}).bytes;
    },

    decodeMsqidDs(bytes) {
      const v = view(bytes, msqDs, 'decodeMsqidDs');
      return {
        perm: decodePerm(v, msqPermBase),
        stime: msgStime(v),
        rtime: msgRtime(v),
        ctime: msgCtime(v),
        cbytes: readSafe(v, mf.cbytes, 0, le, 'msg_cbytes'),
        qnum: readSafe(v, mf.qnum, 0, le, 'msg_qnum'),
        qbytes: readSafe(v, mf.qbytes, 0, le, 'msg_qbytes'),
        lspid: readSmall(v, mf.lspid, 0, le),
        lrpid: readSmall(v, mf.lrpid, 0, le),
      };
    },

    encodeMsqidDs(patch) {
      // The kernel's msgctl IPC_SET reads all four: a missing one would silently become 0.
      const p = patch?.perm;
      for (const name of ['uid', 'gid', 'mode'] as const) {
        if (typeof p?.[name] !== 'number')
          throw new TypeError(`encodeMsqidDs: perm.${name} must be a number (msgctl IPC_SET writes all of uid, gid, mode, qbytes)`);
      }
      if (typeof patch.qbytes !== 'number') throw new TypeError('encodeMsqidDs: qbytes must be a number (msgctl IPC_SET writes all of uid, gid, mode, qbytes)');
      const { bytes, v } = encodePerm(msqDs.size, msqPermBase, p);
      writeUnsigned(v, mf.qbytes, 0, le, patch.qbytes, 'qbytes');
      return bytes;
    },

    decodeSeminfo(bytes) {
      const v = view(bytes, seminfo, 'decodeSeminfo');
      const int = (name: string) => readSmall(v, need(seminfo, name), 0, le);
      return {
        semmap: int('semmap'),
        semmni: int('semmni'),
        semmns: int('semmns'),
        semmnu: int('semmnu'),
        semmsl: int('semmsl'),
        semopm: int('semopm'),
        semume: int('semume'),
        semusz: int('semusz'),
        semvmx: int('semvmx'),
        semaem: int('semaem'),
      };
    },

    decodeMsginfo(bytes) {
      const v = view(bytes, msginfo, 'decodeMsginfo');
      const int = (name: string) => readSmall(v, need(msginfo, name), 0, le);
      return {
        msgpool: int('msgpool'),
        msgmap: int('msgmap'),
        msgmax: int('msgmax'),
        msgmnb: int('msgmnb'),
        msgmni: int('msgmni'),
        msgssz: int('msgssz'),
        msgtql: int('msgtql'),
        msgseg: int('msgseg'),
      };
    },

    encodeSembufs(ops) {
      if (!Array.isArray(ops)) throw new TypeError('encodeSembufs: expected an array of { sem_num, sem_op, sem_flg }');
      const bytes = new Uint8Array(sembuf.size * ops.length);
      const v = new DataView(bytes.buffer);
      ops.forEach((op, i) => {
        if (op === null || typeof op !== 'object') throw new TypeError(`encodeSembufs: ops[${i}] must be an object`);
        const base = i * sembuf.size;
        const flg = op.sem_flg ?? 0;
        writeBits(v, bf.num, base, le, checkInt(op.sem_num, 0, 65535, `ops[${i}].sem_num`));
        writeBits(v, bf.op, base, le, checkInt(op.sem_op, -32768, 32767, `ops[${i}].sem_op`));
        writeBits(v, bf.flg, base, le, checkInt(flg, -32768, 65535, `ops[${i}].sem_flg`));
      });
      return bytes;
    },

    semunValue(val) {
      checkInt(val, -(2 ** 31), 2 ** 31 - 1, 'semun val');
      return semunShift === 0n ? val : BigInt(val) << semunShift;
    },

    writeMsgType(bytes, type) {
      if (!(bytes instanceof Uint8Array)) throw new TypeError('writeMsgType: expected a Uint8Array');
      if (bytes.byteLength < d.sizeofLong) throw new RangeError(`writeMsgType: need ${d.sizeofLong} bytes, got ${bytes.byteLength}`);
      let big: bigint;
      if (typeof type === 'bigint') big = type;
      else if (typeof type === 'number') {
        if (!Number.isInteger(type)) throw new RangeError(`mtype must be an integer, got ${type}`);
        big = BigInt(type);
      } else throw new TypeError(`mtype must be a number or a bigint, got ${typeof type}`);
      if (big < longMin || big > longMax) throw new RangeError(`mtype must be in [${longMin}, ${longMax}] (a C long on ${d.target}), got ${big}`);
      const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (d.sizeofLong === 8) v.setBigInt64(0, big, le);
      else v.setInt32(0, Number(big), le);
    },

    readMsgType(bytes) {
      if (!(bytes instanceof Uint8Array)) throw new TypeError('readMsgType: expected a Uint8Array');
      if (bytes.byteLength < d.sizeofLong) throw new RangeError(`readMsgType: need ${d.sizeofLong} bytes, got ${bytes.byteLength}`);
      const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (d.sizeofLong !== 8) return v.getInt32(0, le);
      const big = v.getBigInt64(0, le);
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    },
  };
}
