import { describe, expect, it } from 'vitest';
import { ConfigError, RunError } from '../errors.ts';
import { advance, compareCursor, parseDuration, startFrom, subtractDuration } from './cursor.ts';

describe('parseDuration', () => {
  it('parses ISO 8601 durations', () => {
    expect(parseDuration('P3D')).toMatchObject({ days: 3, hours: 0 });
    expect(parseDuration('PT6H')).toMatchObject({ hours: 6, days: 0 });
    expect(parseDuration('P1Y2M3W4DT5H6M7.5S')).toEqual({ years: 1, months: 2, weeks: 3, days: 4, hours: 5, minutes: 6, seconds: 7.5 });
  });

  it('rejects what is not one', () => {
    for (const bad of ['P', 'PT', 'P1DT', '3D', 'P-1D', 'P1.5M', '']) expect(() => parseDuration(bad), bad).toThrow(ConfigError);
  });
});

describe('startFrom', () => {
  const cursor = { field: 'updated_at', lookback: 'P3D' };

  it('goes back the lookback from the committed cursor', () => {
    expect(startFrom({ state: { cursor: '2026-11-23T10:00:00Z' }, cursor, options: {}, fullRefresh: false })).toBe('2026-11-20T10:00:00Z');
    expect(startFrom({ state: { cursor: '2026-11-23T10:00:00.250+02:00' }, cursor: { field: 'x', lookback: 'PT6H' }, options: {}, fullRefresh: false })).toBe(
      '2026-11-23T02:00:00.250Z',
    );
    expect(startFrom({ state: { cursor: '2026-11-23' }, cursor: { field: 'date', lookback: 'PT1H' }, options: {}, fullRefresh: false })).toBe('2026-11-22');
    expect(startFrom({ state: { cursor: '2026-03-31' }, cursor: { field: 'date', lookback: 'P1M' }, options: {}, fullRefresh: false })).toBe('2026-02-28');
    expect(startFrom({ state: { cursor: 1234 }, cursor: { field: 'id' }, options: {}, fullRefresh: false })).toBe(1234);
  });

  it('starts a first or full-refresh run from the later of cursor.initial and startDate', () => {
    const state = { cursor: '2026-11-23T10:00:00Z' };
    expect(startFrom({ state: {}, cursor: { field: 'd', initial: '2024-01-01' }, options: {}, fullRefresh: false })).toBe('2024-01-01');
    expect(startFrom({ state: {}, cursor: { field: 'd' }, options: { startDate: '2025-06-01' }, fullRefresh: false })).toBe('2025-06-01');
    expect(startFrom({ state, cursor: { field: 'd', initial: '2024-01-01' }, options: { startDate: '2025-06-01' }, fullRefresh: true })).toBe('2025-06-01');
    expect(startFrom({ state: {}, cursor: { field: 'd', initial: '2025-07-01' }, options: { startDate: '2025-06-01' }, fullRefresh: false })).toBe('2025-07-01');
    expect(startFrom({ state: {}, cursor: { field: 'd' }, options: {}, fullRefresh: false })).toBeUndefined();
  });

  it('refuses a lookback on a numeric cursor', () => {
    expect(() => startFrom({ state: { cursor: 99 }, cursor: { field: 'id', lookback: 'P1D' }, options: {}, fullRefresh: false })).toThrow(ConfigError);
  });
});

describe('advance', () => {
  it('keeps the maximum: the state never moves backward', () => {
    let state = advance({}, '2026-11-20T10:00:00Z');
    expect(state).toEqual({ cursor: '2026-11-20T10:00:00Z' });
    state = advance(state, '2026-11-19T23:00:00Z');
    expect(state.cursor).toBe('2026-11-20T10:00:00Z');
    // 11:30+02:00 is 09:30Z: earlier, though it sorts later as text.
    state = advance(state, '2026-11-20T11:30:00+02:00');
    expect(state.cursor).toBe('2026-11-20T10:00:00Z');
    state = advance(state, '2026-11-20T10:00:00.5Z');
    expect(state.cursor).toBe('2026-11-20T10:00:00.5Z');
    state = advance(state, undefined);
    expect(state.cursor).toBe('2026-11-20T10:00:00.5Z');
  });

  it('keeps other state keys and compares numbers numerically', () => {
    const state = advance(advance({ files: ['a.csv'] }, 9), 10);
    expect(state).toEqual({ files: ['a.csv'], cursor: 10 });
    expect(advance(state, 2).cursor).toBe(10);
    expect(advance({ cursor: '9' }, '10').cursor).toBe('10');
    expect(advance({ cursor: '18446744073709551615' }, '18446744073709551614').cursor).toBe('18446744073709551615');
  });
});

describe('compareCursor', () => {
  it('orders instants, sub-millisecond digits, dates against timestamps, and opaque strings', () => {
    expect(compareCursor('2026-11-20T10:00:00.123456Z', '2026-11-20T10:00:00.123455Z')).toBe(1);
    expect(compareCursor('2026-11-20', '2026-11-20T00:00:00Z')).toBe(0);
    expect(compareCursor('2026-11-20T10:00:00', '2026-11-20T10:00:00Z')).toBe(0);
    expect(compareCursor('01HZY', '01HZX')).toBe(1);
  });

  it('throws on values of different kinds', () => {
    expect(() => compareCursor('2026-11-20', 'abc')).toThrow(RunError);
    expect(() => compareCursor(5, '2026-11-20')).toThrow(RunError);
  });

  it('subtracts durations in UTC', () => {
    expect(subtractDuration('2026-01-01T00:00:00Z', parseDuration('PT0.5S'))).toBe('2025-12-31T23:59:59.500Z');
  });
});
