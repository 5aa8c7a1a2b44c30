// The ledger's ordered collection of address ranges (lib/c/ordered-ranges.ts) against a plain sorted array:
// random inserts and removes of non-overlapping ranges, queried after every step.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OrderedRanges, type Range } from '../../lib/internal.js';

describe('OrderedRanges', () => {
  it('keeps ranges in address order through random inserts and removes, in buckets or not', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5000 })), { maxLength: 3000 }),
        fc.integer({ min: 0, max: 5100 }),
        (steps, probe) => {
          const list = new OrderedRanges<Range>();
          const model: Range[] = [];
          for (const [add, slot] of steps) {
            const start = BigInt(slot) * 16n;
            const present = model.find((r) => r.start === start);
            if (add && !present) {
              const range = { start, end: start + 16n };
              list.insert(range);
              model.push(range);
              model.sort((a, b) => (a.start < b.start ? -1 : 1));
            } else if (!add && present) {
              list.remove(present);
              model.splice(model.indexOf(present), 1);
            }
          }
          expect(list.size).toBe(model.length);
          expect([...list]).toEqual(model);
          const address = BigInt(probe) * 16n + 5n;
          const expected = model.filter((r) => r.end > address);
          expect(list.firstEndingAfter(address)).toBe(expected[0]);
          expect([...list.from(address)]).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });
});
