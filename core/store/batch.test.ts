// prepareBatch and its helpers: pure, no database.
import { describe, expect, it } from 'vitest';
import { StoreError } from '../errors.ts';
import { canonicalJson, prepareBatch, recordHash, utcTimestamp } from './batch.ts';
import type { BatchWrite } from './types.ts';

const batch = (over: Partial<BatchWrite> = {}): BatchWrite => ({
  runId: 'r1',
  pipeline: 'p',
  source: 'crm',
  stream: 'contacts',
  raw: [],
  events: [],
  links: [],
  spend: [],
  quarantine: [],
  ...over,
});

describe('utcTimestamp', () => {
  it('turns offsets into UTC, keeping every fractional digit', () => {
    expect(utcTimestamp('2024-05-01T10:00:00+02:00')).toBe('2024-05-01T08:00:00Z');
    expect(utcTimestamp('2024-05-01T00:30:00.123456-0130')).toBe('2024-05-01T02:00:00.123456Z');
    expect(utcTimestamp('2024-03-01 00:15+01')).toBe('2024-02-29T23:15:00Z');
  });
  it('leaves UTC and zone-less text alone', () => {
    for (const s of ['2024-05-01T10:00:00Z', '2024-05-01 10:00:00', '2024-05-01', 'garbage']) expect(utcTimestamp(s)).toBe(s);
  });
});

describe('canonicalJson / recordHash', () => {
  it('ignores key order at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
    expect(recordHash({ a: 1, b: 2 })).toBe(recordHash({ b: 2, a: 1 }));
    expect(recordHash('line 3: x')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('prepareBatch', () => {
  it('keeps the last of duplicated records and rows, and builds observation and spend ids', () => {
    const prepared = prepareBatch(
      batch({
        raw: [
          { pk: 'a', record: { v: 1 } },
          { pk: 'a', record: { v: 2 } },
        ],
        events: [
          { event_id: 'crm:contacts:e1', record_pk: 'a', id: 'e1', occurred_at: '2024-05-01T10:00:00Z', kind: 'touch', name: 'x', identifiers: [{ type: 'email', value: 'a@b' }, { type: 'phone', value: '' }] },
          { event_id: 'crm:contacts:e1', record_pk: 'a', id: 'e1', occurred_at: '2024-05-02T10:00:00Z', kind: 'touch', name: 'y' },
        ],
        links: [{ id: 'a', record_pk: 'a', identifiers: [{ type: 'email', value: 'a@b' }, { type: 'user_id', value: '7' }] }],
        spend: [{ record_pk: 'b', date: '2024-05-01', channel: 'paid', campaign_id: 'c1', cost: 1, currency: 'EUR', clicks: 2 }],
        quarantine: [
          { reason: 'r', record: { x: 1, y: 2 } },
          { reason: 'r again', record: { y: 2, x: 1 } },
        ],
      }),
      new Date('2024-06-01T00:00:00Z'),
    );
    expect(prepared.raw).toEqual([['a', null, '{"v":2}', 'r1', '2024-06-01T00:00:00.000Z']]);
    expect(prepared.events).toHaveLength(1);
    expect(prepared.events[0][6]).toBe('y');
    expect(prepared.observationIds).toEqual(['crm:contacts:e1', 'crm:contacts:link:a']);
    // The surviving duplicate of e1 has no identifiers: the first one's edge is gone too.
    expect(prepared.observations.map((o) => o.slice(0, 3))).toEqual([
      ['crm:contacts:link:a', 'email', 'a@b'],
      ['crm:contacts:link:a', 'user_id', '7'],
    ]);
    expect(prepared.spendIds).toEqual(['crm:contacts:2024-05-01:c1']);
    expect(prepared.recordPks.toSorted()).toEqual(['a', 'b']);
    expect(prepared.quarantine).toHaveLength(1);
  });

  it('refuses values that would silently differ between engines', () => {
    const spend = (clicks: unknown) => batch({ spend: [{ record_pk: 'a', date: '2024-05-01', channel: 'c', campaign_id: 'c', cost: 1, currency: 'EUR', clicks: clicks as number }] });
    expect(() => prepareBatch(spend(1.5))).toThrow(/clicks must be a whole number/);
    expect(() => prepareBatch(spend('many'))).toThrow(StoreError);
    expect(prepareBatch(spend('12')).spend[0][10]).toBe(12);
    expect(() => prepareBatch(batch({ events: [{ event_id: 'e', record_pk: 'a', id: 'e', occurred_at: '', kind: 'touch', name: 'x' }] }))).toThrow(/occurred_at/);
  });
});
