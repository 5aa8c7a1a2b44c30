import { createRequire } from 'node:module';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
const require = createRequire('/work/main/package.json');
const koffi = require('koffi');
const lib = koffi.load('libc.so.6');
const sys = lib.func('long syscall(long nr, void *a, long b, long c, void *d, long e)');
const memmove = lib.func('void *memmove(void *dst, void *src, size_t n)');
const sab = new SharedArrayBuffer(64);
const i32 = new Int32Array(sab);
let addr; try { addr = koffi.address(i32); } catch (e) { addr = 'address() err: ' + e.message; }
const mm = memmove(i32, i32, 0);
console.log(isMainThread ? 'main' : 'worker', 'koffi.address', addr, 'memmove', mm, typeof mm);
// futex_waitv with an entry whose value mismatches -> EAGAIN expected
const w = new BigUint64Array(3); // one entry: val, uaddr, flags|reserved
const ptr = typeof mm === 'bigint' ? mm : koffi.address(mm);
w[0] = 5n; w[1] = ptr; w[2] = 2n | 128n;
i32[0] = 4;
let r = sys(449, w, 1, 0, null, 0);
console.log('futex_waitv mismatch ->', r, 'errno', koffi.errno());
// negative expected sign-extended
i32[0] = -1; w[0] = BigInt.asUintN(64, -1n);
r = sys(449, w, 1, 0, null, 0); console.log('sign-extended -1 ->', r, 'errno', koffi.errno());
// timeout: absolute monotonic
const ts = new BigInt64Array(2); const now = process.hrtime.bigint(); // hrtime is monotonic (CLOCK_MONOTONIC)
w[0] = BigInt(i32[0] >>> 0);
ts[0] = (now + 20_000_000n) / 1_000_000_000n; ts[1] = (now + 20_000_000n) % 1_000_000_000n;
const t0 = performance.now();
r = sys(449, w, 1, 0, ts, 1 /*CLOCK_MONOTONIC*/); console.log('timeout 20ms ->', r, 'errno', koffi.errno(), (performance.now()-t0).toFixed(1),'ms');
if (isMainThread) new Worker(new URL(import.meta.url));
