// The system view (list, limits, summary, orphans, remove) against util-linux's ipcs, field by field.
// ipcs is util-linux 2.38 (Debian 12), run with LC_ALL=C and an explicit TZ: its times are local times printed
// by ctime(), so we format our Dates in the same time zone and compare the strings.
//
// Beware: every ipcs run forks this process, and the kernel counts the fork's copy of an attached segment as an
// attach and (at exec) a detach by the child. So for an attached segment lpid/atime/dtime move with each ipcs
// run: list() is always read right AFTER the ipcs run it is compared with.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IPC_INFO, Segment, ShmError, limits, list, orphans, remove, shmctl, summary, type SegmentStatus } from '../../lib/index.js';
import { processExists } from '../../lib/internal.js';
import { procRow, removeAfterTest, uniqueKey } from '../support/segments.js';
import { runProgram, startProgram, waitForLine } from '../support/child.js';
import { catchError } from '../support/errors.js';
import { parseIpcsDetail, parseIpcsUsage, sameValue } from '../support/ipcs.js';

// ---------------------------------------------------------------------------------------------------------------
// ipcs and its output.
function ipcs(args: Array<string | number>, tz = 'UTC'): string {
  return execFileSync('ipcs', args.map(String), { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', TZ: tz } });
}

/** Data rows of an `ipcs -m [-p|-c]` table, cells keyed by the header's names; extra cells (the status words) in `rest`. */
function table(args: string[]): Map<number, Record<string, string> & { rest: string[] }> {
  const lines = ipcs(['-m', ...args]).split('\n');
  const at = lines.findIndex((line) => /^(key|shmid)\s/.test(line));
  expect(at, 'ipcs table header').toBeGreaterThan(0);
  const names = lines[at].trim().split(/\s+/);
  const rows = new Map<number, Record<string, string> & { rest: string[] }>();
  for (const line of lines.slice(at + 1)) {
    if (line.trim() === '') continue;
    const cells = line.trim().split(/\s+/);
    const row: Record<string, string> = {};
    for (const [i, name] of names.entries()) row[name] = cells[i] ?? '';
    rows.set(Number(row.shmid), Object.assign(row, { rest: cells.slice(names.length) }));
  }
  return rows;
}

/** The status words of an `ipcs -m` row (the status column and what spills after it): e.g. ['dest'], ['locked']. */
function statusWords(row: Record<string, string> & { rest: string[] }): string[] {
  return [row.status, ...row.rest].filter((word) => word !== undefined && word !== '').sort();
}

/** `ipcs -m -t`: shmid, owner and three times (ctime()+4 cut to 16 chars: "Nov 21 08:18:39" or "Not set"). */
function timesTable(tz: string): Map<number, { owner: string; attached: string; detached: string; changed: string }> {
  const text = ipcs(['-m', '-t'], tz);
  const time = '(Not set|[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d)';
  const pattern = new RegExp(`^(\\d+)\\s+(\\S+)\\s+${time}\\s+${time}\\s+${time}\\s*$`);
  const rows = new Map<number, { owner: string; attached: string; detached: string; changed: string }>();
  for (const line of text.split('\n')) {
    const match = pattern.exec(line);
    if (match) rows.set(Number(match[1]), { owner: match[2], attached: match[3], detached: match[4], changed: match[5] });
  }
  expect(text).toContain('------ Shared Memory Attach/Detach/Change Times --------');
  return rows;
}

/** `ipcs -m -i <id>`: the "name=value" fields. */
function detail(id: number, tz: string): Record<string, string> {
  return parseIpcsDetail(ipcs(['-m', '-i', id], tz), id);
}

/** A Date the way ctime() prints it in a time zone: "Sat Nov 21 08:18:39 2026". */
function ctime(date: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      year: 'numeric',
      hourCycle: 'h23',
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.weekday} ${parts.month} ${parts.day.padStart(2, ' ')} ${parts.hour}:${parts.minute}:${parts.second} ${parts.year}`;
}

/** What ipcs -t prints: ctime() + 4, 16 characters, trimmed; "Not set" for 0. */
function shortTime(date: Date | null, timeZone: string): string {
  return date === null ? 'Not set' : ctime(date, timeZone).slice(4, 20).trim();
}
function longTime(date: Date | null, timeZone: string): string {
  return date === null ? 'Not set' : ctime(date, timeZone);
}

// User and group names as ipcs resolves them (getpwuid/getgrgid; files only on this machine): a name, or the number.
function names(file: string): Map<number, string> {
  const map = new Map<number, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [name, , id] = line.split(':');
    if (name && id !== undefined && !map.has(Number(id))) map.set(Number(id), name);
  }
  return map;
}
const users = names('/etc/passwd');
const groups = names('/etc/group');
const userName = (uid: number) => users.get(uid) ?? String(uid);
const groupName = (gid: number) => groups.get(gid) ?? String(gid);
/** ipcs's owner column back to a uid. */
function uidOf(owner: string): number {
  if (/^\d+$/.test(owner)) return Number(owner);
  const entry = [...users].find(([, name]) => name === owner);
  expect(entry, `user ${owner} in /etc/passwd`).toBeDefined();
  return entry![0];
}

const hex = (key: number) => '0x' + (key >>> 0).toString(16).padStart(8, '0');
/** The full mode word (permission bits | SHM_DEST | SHM_LOCKED) as the kernel holds it. */
const fullMode = (s: SegmentStatus) => s.mode | (s.markedForRemoval ? 0o1000 : 0) | (s.locked ? 0o2000 : 0);
/** printf("%#o"). */
const altOctal = (mode: number) => (mode === 0 ? '0' : '0' + mode.toString(8));

/** A child program of test/fixtures/system/. */
const program = (name: string) => fileURLToPath(new URL(`../fixtures/system/${name}.ts`, import.meta.url));

const PAGE = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim());
const NOBODY = 65534;

// ---------------------------------------------------------------------------------------------------------------
/**
 * Four segments that exercise every column: one attached twice (a negative key_t, mode 0640, two pages touched),
 * one locked with SHM_LOCK, one removed while attached (dest, key 0), one given to nobody:nogroup with setOwner.
 */
function fixture() {
  const twice = Segment.create({ key: uniqueKey() | 0x8000_0000, size: 5000, mode: 0o640 });
  removeAfterTest(twice.id);
  const rw = twice.attach();
  const ro = twice.attach({ readOnly: true });
  rw.fill(0x11);

  const locked = Segment.create({ key: uniqueKey(), size: 3 * PAGE, mode: 0o600 });
  removeAfterTest(locked.id);
  locked.lock();

  const doomedKey = uniqueKey();
  const doomed = Segment.create({ key: doomedKey, size: 3000, mode: 0o660 });
  removeAfterTest(doomed.id);
  const held = doomed.attach();
  doomed.remove();

  const owned = Segment.create({ size: 100, mode: 0o604 });
  removeAfterTest(owned.id);
  owned.setOwner(NOBODY, NOBODY);

  return {
    twice,
    locked,
    doomed,
    doomedKey,
    owned,
    ours: [twice, locked, doomed, owned],
    [Symbol.dispose]() {
      rw[Symbol.dispose]();
      ro[Symbol.dispose]();
      held[Symbol.dispose]();
    },
  };
}

function byId(statuses: SegmentStatus[]): Map<number, SegmentStatus> {
  return new Map(statuses.map((s) => [s.id, s]));
}

/** Ids present in both views (other processes may add or remove segments between two reads); ours must be in both. */
function common<T>(ours: Segment[], ipcsRows: Map<number, T>, listed: Map<number, SegmentStatus>): number[] {
  for (const s of ours) {
    expect(ipcsRows.has(s.id), `ipcs shows segment ${s.id}`).toBe(true);
    expect(listed.has(s.id), `list() shows segment ${s.id}`).toBe(true);
  }
  return [...ipcsRows.keys()].filter((id) => listed.has(id));
}

// ---------------------------------------------------------------------------------------------------------------
describe('list() against ipcs -m', () => {
  it('the fixture itself is what we meant: nattch 2, locked, dest with key 0, owned by nobody', () => {
    using f = fixture();
    const listed = byId(list());
    expect(listed.get(f.twice.id)).toMatchObject({ attached: 2, key: f.twice.key, mode: 0o640, size: 5000, markedForRemoval: false, locked: false });
    expect(f.twice.key).toBeLessThan(0);
    expect(listed.get(f.twice.id)!.keyHex).toMatch(/^0x[89a-f][0-9a-f]{7}$/);
    expect(listed.get(f.twice.id)!.rssBytes).toBe(2 * PAGE); // 5000 bytes filled: two pages resident
    expect(listed.get(f.twice.id)!.swapBytes).toBe(0);
    expect(listed.get(f.locked.id)).toMatchObject({ attached: 0, locked: true, markedForRemoval: false, size: 3 * PAGE });
    expect(listed.get(f.doomed.id)).toMatchObject({ attached: 1, key: 0, keyHex: '0x00000000', markedForRemoval: true, mode: 0o660 });
    expect(listed.get(f.owned.id)).toMatchObject({ uid: NOBODY, gid: NOBODY, cuid: 0, cgid: 0, mode: 0o604, attached: 0 });
    for (const s of f.ours) expect(listed.get(s.id)!.creatorPid).toBe(process.pid);
  });

  it('key (0x%08x), shmid, owner, perms, bytes, nattch and status agree for every segment', () => {
    using f = fixture();
    const rows = table([]);
    const listed = byId(list());
    const ids = common(f.ours, rows, listed);
    for (const id of ids) {
      const row = rows.get(id)!;
      const s = listed.get(id)!;
      expect({ id, key: row.key, owner: uidOf(row.owner), perms: parseInt(row.perms, 8), bytes: Number(row.bytes), nattch: Number(row.nattch) }).toEqual({
        id,
        key: hex(s.key),
        owner: s.uid,
        perms: s.mode,
        bytes: s.size,
        nattch: s.attached,
      });
      expect(s.keyHex).toBe(row.key);
      expect(row.owner).toBe(userName(s.uid));
      expect(statusWords(row)).toEqual([...(s.markedForRemoval ? ['dest'] : []), ...(s.locked ? ['locked'] : [])].sort());
    }
    // The interesting rows, spelled out.
    expect(rows.get(f.twice.id)).toMatchObject({ nattch: '2', perms: '640', bytes: '5000', owner: 'root' });
    expect(statusWords(rows.get(f.locked.id)!)).toEqual(['locked']);
    expect(rows.get(f.doomed.id)).toMatchObject({ key: '0x00000000', nattch: '1' });
    expect(statusWords(rows.get(f.doomed.id)!)).toEqual(['dest']);
    expect(rows.get(f.owned.id)).toMatchObject({ owner: userName(NOBODY), perms: '604' });
  });

  it('ipcs -m -p: cpid and lpid (read after ipcs: its fork moves lpid of attached segments)', () => {
    using f = fixture();
    const rows = table(['-p']);
    const listed = byId(list());
    for (const id of common(f.ours, rows, listed)) {
      const s = listed.get(id)!;
      expect({ id, owner: rows.get(id)!.owner, cpid: Number(rows.get(id)!.cpid), lpid: Number(rows.get(id)!.lpid) }).toEqual({
        id,
        owner: userName(s.uid),
        cpid: s.creatorPid,
        lpid: s.lastPid,
      });
    }
    expect(listed.get(f.owned.id)!.lastPid).toBe(0); // never attached
    expect(listed.get(f.locked.id)!.lastPid).toBe(0);
    expect(listed.get(f.twice.id)!.lastPid).not.toBe(0);
  });

  it('ipcs -m -c: perms, creator (cuid, cgid) and owner (uid, gid) by name', () => {
    using f = fixture();
    const rows = table(['-c']);
    const listed = byId(list());
    for (const id of common(f.ours, rows, listed)) {
      const s = listed.get(id)!;
      expect({ id, ...rows.get(id)!, rest: undefined }).toEqual({
        id,
        shmid: String(id),
        perms: s.mode.toString(8),
        cuid: userName(s.cuid),
        cgid: groupName(s.cgid),
        uid: userName(s.uid),
        gid: groupName(s.gid),
        rest: undefined,
      });
    }
    expect(rows.get(f.owned.id)).toMatchObject({ cuid: userName(0), cgid: groupName(0), uid: userName(NOBODY), gid: groupName(NOBODY) });
  });

  // Zones with odd offsets, on both sides of UTC, so that an hour or a day off shows.
  const zones = ['UTC', 'Asia/Kathmandu', 'America/St_Johns'].filter((zone) => zone === 'UTC' || readableZone(zone));

  it.each(zones)('ipcs -m -t: attach, detach and change times, as local times in TZ=%s', (zone) => {
    using f = fixture();
    // A detach so that one segment has all three times.
    f.locked.attach().detach();
    const rows = timesTable(zone);
    const listed = byId(list());
    for (const id of common(f.ours, rows, listed)) {
      const s = listed.get(id)!;
      const row = rows.get(id)!;
      expect({ id, ...row }).toEqual({
        id,
        owner: userName(s.uid),
        attached: shortTime(s.lastAttachTime, zone),
        detached: shortTime(s.lastDetachTime, zone),
        changed: shortTime(s.lastChangeTime, zone),
      });
    }
    expect(rows.get(f.owned.id)).toMatchObject({ attached: 'Not set', detached: 'Not set' });
    expect(rows.get(f.locked.id)!.detached).not.toBe('Not set');
    // Times are recent.
    for (const s of f.ours) {
      const changed = listed.get(s.id)!.lastChangeTime!;
      expect(Math.abs(changed.getTime() - Date.now())).toBeLessThan(60_000);
      expect(changed.getTime() % 1000).toBe(0);
    }
  });

  it.each(zones)('ipcs -m -i <id>: every field, full times with the year, in TZ=%s', (zone) => {
    using f = fixture();
    for (const segment of f.ours) {
      const fields = detail(segment.id, zone);
      const s = byId(list()).get(segment.id)!;
      expect(fields).toEqual({
        uid: String(s.uid),
        gid: String(s.gid),
        cuid: String(s.cuid),
        cgid: String(s.cgid),
        mode: altOctal(fullMode(s)),
        access_perms: '0' + s.mode.toString(8).padStart(3, '0'),
        bytes: String(s.size),
        lpid: String(s.lastPid),
        cpid: String(s.creatorPid),
        nattch: String(s.attached),
        att_time: longTime(s.lastAttachTime, zone),
        det_time: longTime(s.lastDetachTime, zone),
        change_time: longTime(s.lastChangeTime, zone),
      });
    }
    expect(detail(f.doomed.id, zone).mode).toBe('01660');
    expect(detail(f.locked.id, zone).mode).toBe('02600');
  });
});

function readableZone(zone: string): boolean {
  try {
    readFileSync(`/usr/share/zoneinfo/${zone}`);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
describe("list({ source: 'shmctl' }) against list({ source: 'proc' })", () => {
  it('agree field by field (rss/swap only in /proc, seq only from shmctl)', () => {
    using f = fixture();
    // Other processes may change the system between the two reads: compare a pair taken while nothing moved.
    let compared = false;
    for (let attempt = 0; attempt < 20 && !compared; attempt++) {
      const fromProc = list({ source: 'proc' });
      const fromShmctl = list({ source: 'shmctl' });
      const again = list({ source: 'proc' });
      if (JSON.stringify(fromProc) !== JSON.stringify(again)) continue;
      expect(fromShmctl.map((s) => s.id)).toEqual(fromProc.map((s) => s.id));
      for (let i = 0; i < fromProc.length; i++) {
        const { rssBytes, swapBytes, ...proc } = fromProc[i];
        const { seq, ...stat } = fromShmctl[i];
        expect(stat).toEqual(proc);
        expect('seq' in proc).toBe(false);
        expect(typeof rssBytes).toBe('number');
        expect(typeof swapBytes).toBe('number');
        expect('rssBytes' in stat || 'swapBytes' in stat).toBe(false);
        // id = seq * SEQ_MULTIPLIER + index, with SEQ_MULTIPLIER = 32768 unless the kernel runs with ipcmni_extend.
        if (!readFileSync('/proc/cmdline', 'utf8').includes('ipcmni_extend')) {
          expect(Math.floor(stat.id / 32768)).toBe(seq);
        }
      }
      expect(list()).toEqual(fromProc); // 'auto' prefers /proc
      compared = true;
    }
    expect(compared, 'the segment table kept changing').toBe(true);
    for (const s of f.ours) expect(Segment.fromId(s.id).stat()).toEqual(byId(list({ source: 'shmctl' })).get(s.id));
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('limits() and summary()', () => {
  const UINT64_MAX = 2n ** 64n - 1n;
  // ipcs multiplies shmall (pages) into the unit and saturates at the largest multiple of the unit that fits in 64 bits.
  const saturate = (value: bigint, unit: bigint) => (value > UINT64_MAX ? UINT64_MAX - (UINT64_MAX % unit) : value);
  const tunable = (name: string) => BigInt(readFileSync(`/proc/sys/kernel/${name}`, 'utf8').trim());

  it('limits() agrees with /proc/sys/kernel, IPC_INFO and getconf PAGESIZE', () => {
    const l = limits();
    expect(l.source).toBe('proc');
    expect(l.shmmax).toBe(tunable('shmmax'));
    expect(l.shmall).toBe(tunable('shmall'));
    expect(l.shmmni).toBe(tunable('shmmni'));
    expect(l.pageSize).toBe(PAGE);
    expect(l.shmallBytes).toBe(l.shmall * BigInt(PAGE)); // exact, not saturated like ipcs
    const info = shmctl(0, IPC_INFO);
    expect(l.shmmin).toBe(1n);
    expect(l.shmmin).toBe(BigInt(info.shmmin));
    expect(l.shmseg).toBe(BigInt(info.shmseg));
    expect(BigInt(info.shmmax)).toBe(l.shmmax);
    expect(BigInt(info.shmall)).toBe(l.shmall);
    expect(BigInt(info.shmmni)).toBe(l.shmmni);
    for (const key of ['shmmax', 'shmmin', 'shmmni', 'shmseg', 'shmall', 'shmallBytes'] as const) expect(typeof l[key]).toBe('bigint');
  });

  it('limits() agrees with ipcs -l (kbytes; pages × page size) and ipcs -l -b (bytes)', () => {
    const l = limits();
    const page = BigInt(l.pageSize);
    const kbytes = ipcs(['-m', '-l']);
    expect(kbytes).toContain('------ Shared Memory Limits --------');
    expect(kbytes).toContain(`max number of segments = ${l.shmmni}\n`);
    expect(kbytes).toContain(`max seg size (kbytes) = ${l.shmmax / 1024n}\n`);
    expect(kbytes).toContain(`max total shared memory (kbytes) = ${saturate(l.shmall * (page / 1024n), page / 1024n)}\n`);
    expect(kbytes).toContain(`min seg size (bytes) = ${l.shmmin}\n`);
    const bytes = ipcs(['-m', '-l', '-b']);
    expect(bytes).toContain(`max number of segments = ${l.shmmni}\n`);
    expect(bytes).toContain(`max seg size (bytes) = ${l.shmmax}\n`);
    expect(bytes).toContain(`max total shared memory (bytes) = ${saturate(l.shmallBytes, page)}\n`);
    expect(bytes).toContain(`min seg size (bytes) = ${l.shmmin}\n`);
  });

  it('summary() agrees with ipcs -u, and with the sum of list() (pages allocated and resident)', () => {
    using f = fixture();
    let compared = false;
    for (let attempt = 0; attempt < 20 && !compared; attempt++) {
      const before = summary();
      const statuses = list();
      const text = ipcs(['-m', '-u']);
      const after = summary();
      const statusesAfter = list();
      if (!sameValue(before, after)) continue;
      if (statuses.length !== statusesAfter.length) continue;
      const { sem: _sem, msg: _msg, ...sharedMemory } = before;
      expect(parseIpcsUsage(text)).toEqual(sharedMemory);

      // The same totals from the per-segment rows (SHM_INFO counts segments marked for removal too).
      expect(before.segments).toBe(statuses.length);
      expect(before.pagesAllocated).toBe(statuses.reduce((sum, s) => sum + BigInt(Math.ceil(s.size / PAGE)), 0n));
      expect(before.pagesResident).toBe(statuses.reduce((sum, s) => sum + BigInt(s.rssBytes! / PAGE), 0n));
      expect(before.pagesSwapped).toBe(statuses.reduce((sum, s) => sum + BigInt(s.swapBytes! / PAGE), 0n));
      expect(before.segments).toBeGreaterThanOrEqual(4);
      expect(before.pagesAllocated).toBeGreaterThanOrEqual(2n + 3n + 1n + 1n);
      expect(before.pagesResident).toBeGreaterThanOrEqual(2n);
      compared = true;
    }
    expect(compared, 'SHM_INFO kept changing while ipcs -u ran').toBe(true);
    expect(f.ours.length).toBe(4);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('orphans() and remove()', () => {
  it('a segment whose creator exited without removing it (and that nobody attaches) is an orphan; others are not', async () => {
    // A child creates two segments, attaches and detaches one of them (lpid = the child), and exits.
    const keyed = uniqueKey();
    const made = runProgram(program('leave-two-segments'), [keyed]);
    expect(made.stderr).toBe('');
    expect(made.status).toBe(0);
    const gone = JSON.parse(made.stdout.trim().split('\n').at(-1)!) as { a: number; b: number; pid: number };
    removeAfterTest(gone.a);
    removeAfterTest(gone.b);
    expect(processExists(gone.pid)).toBe(false);
    expect(procRow(gone.a)).toMatchObject({ cpid: gone.pid, lpid: 0, nattch: 0 });
    expect(procRow(gone.b)).toMatchObject({ cpid: gone.pid, lpid: gone.pid, nattch: 0 });

    // A child that created a segment and still runs.
    const living = startProgram(program('create-until-stdin-ends'));
    const livingExit = new Promise((resolve) => living.on('exit', resolve));
    try {
      const [, livingText] = await waitForLine(living, /segment (\d+)/);
      const livingId = removeAfterTest(Number(livingText));

      // A dead creator's segment that we attach: not an orphan while attached, and it stops being one as our
      // attach makes us the last pid even once we detach.
      const adopted = runProgram(program('leave-a-segment'));
      const adoptedId = removeAfterTest(Number(adopted.stdout.trim()));
      const adopter = Segment.fromId(adoptedId);
      const attachment = adopter.attach();

      // Our own segment, unattached: its creator (we) still runs.
      const mine = Segment.create({ size: 4096 });
      removeAfterTest(mine.id);

      let found = orphans().map((s) => s.id);
      expect(found).toContain(gone.a);
      expect(found).toContain(gone.b);
      expect(found).not.toContain(livingId);
      expect(found).not.toContain(adoptedId);
      expect(found).not.toContain(mine.id);
      for (const s of orphans()) {
        expect(s.attached).toBe(0);
        expect(processExists(s.creatorPid)).toBe(false);
        expect(processExists(s.lastPid)).toBe(false);
      }
      attachment.detach();
      expect(adopter.stat().lastPid).toBe(process.pid);
      expect(orphans().map((s) => s.id)).not.toContain(adoptedId);

      // remove({ id }) and remove({ key }) clean up; a second removal is a ShmError.
      remove({ id: gone.a });
      remove({ key: keyed });
      expect(procRow(gone.a)).toBeUndefined();
      expect(procRow(gone.b)).toBeUndefined();
      found = orphans().map((s) => s.id);
      expect(found).not.toContain(gone.a);
      expect(found).not.toContain(gone.b);

      const byId = catchError(() => remove({ id: gone.a }));
      expect(byId).toBeInstanceOf(ShmError);
      expect(byId).toMatchObject({ code: 'EINVAL', syscall: 'shmctl', errno: 22 });
      expect(byId.message).toContain(String(gone.a));
      const byKey = catchError(() => remove({ key: keyed }));
      expect(byKey).toBeInstanceOf(ShmError);
      expect(byKey).toMatchObject({ code: 'ENOENT', syscall: 'shmget', errno: 2 });
      expect(byKey.message).toContain(hex(keyed));

      remove({ id: adoptedId });
      remove({ id: mine.id });
      living.stdin!.end();
      await livingExit;
      expect(procRow(livingId)).toBeUndefined();
    } finally {
      if (living.exitCode === null && living.signalCode === null) living.kill('SIGKILL');
    }
  });

  it('remove() validates its argument before any syscall', () => {
    expect(() => remove(null as never)).toThrow(TypeError);
    expect(() => remove({} as never)).toThrow(TypeError);
    expect(() => remove({ id: -1 })).toThrow(RangeError);
    expect(() => remove({ key: 2 ** 40 })).toThrow(RangeError);
  });
});
