import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { comparisonPeriod, resolvePeriod, startOfDay } from './period.ts';

describe('resolvePeriod', () => {
  const today = '2025-04-16'; // a Wednesday

  it.each([
    ['yesterday', '2025-04-15', '2025-04-15'],
    ['last_7_days', '2025-04-09', '2025-04-15'],
    ['last_30_days', '2025-03-17', '2025-04-15'],
    ['last_week', '2025-04-07', '2025-04-13'],
    ['week_to_date', '2025-04-14', '2025-04-15'],
    ['last_month', '2025-03-01', '2025-03-31'],
    ['month_to_date', '2025-04-01', '2025-04-15'],
    ['last_quarter', '2025-01-01', '2025-03-31'],
    ['quarter_to_date', '2025-04-01', '2025-04-15'],
    ['last_year', '2024-01-01', '2024-12-31'],
    ['year_to_date', '2025-01-01', '2025-04-15'],
    ['2024-02', '2024-02-01', '2024-02-29'],
    ['2025-03-05..2025-03-09', '2025-03-05', '2025-03-09'],
  ])('%s', (spec, start, end) => {
    const p = resolvePeriod(spec, today);
    expect([p.startDate, p.endDate]).toEqual([start, end]);
    expect(p.key).toBe(`${start}..${end}`);
  });

  it('to-date periods on the first day of a month/quarter/year cover the one just ended', () => {
    expect(resolvePeriod('month_to_date', '2025-04-01').key).toBe('2025-03-01..2025-03-31');
    expect(resolvePeriod('quarter_to_date', '2025-04-01').key).toBe('2025-01-01..2025-03-31');
    expect(resolvePeriod('year_to_date', '2025-01-01').key).toBe('2024-01-01..2024-12-31');
    expect(resolvePeriod('last_quarter', '2025-01-10').key).toBe('2024-10-01..2024-12-31');
  });

  it('all is unbounded', () => {
    const p = resolvePeriod('all', today);
    expect(p).toMatchObject({ key: 'all', start: null, end: null });
    expect(comparisonPeriod(p)).toBeNull();
  });

  it('bounds are midnights in the time zone, across a DST change', () => {
    const p = resolvePeriod('2025-03', today, 'Europe/Warsaw');
    expect(p.start?.toISOString()).toBe('2025-02-28T23:00:00.000Z'); // CET, UTC+1
    expect(p.end?.toISOString()).toBe('2025-03-31T22:00:00.000Z'); // CEST, UTC+2 from 30 March
    expect(startOfDay('2025-11-02', 'America/New_York').toISOString()).toBe('2025-11-02T04:00:00.000Z');
    expect(startOfDay('2025-11-03', 'America/New_York').toISOString()).toBe('2025-11-03T05:00:00.000Z');
  });

  it('rejects bad specs with a hint', () => {
    expect(() => resolvePeriod('last_week_ish', today)).toThrow(ConfigError);
    expect(() => resolvePeriod('2025-13', today)).toThrow(/not a month/);
    expect(() => resolvePeriod('2025-03-10..2025-03-01', today)).toThrow(/ends before/);
    expect(() => resolvePeriod('2025-02-30..2025-03-01', today)).toThrow(/not a date range/);
  });
});

describe('comparisonPeriod', () => {
  it('compares calendar units with the previous unit and ranges with the same number of days before', () => {
    expect(comparisonPeriod(resolvePeriod('2025-03', '2025-04-16'))?.key).toBe('2025-02-01..2025-02-28');
    expect(comparisonPeriod(resolvePeriod('last_quarter', '2025-04-16'))?.key).toBe('2024-10-01..2024-12-31');
    expect(comparisonPeriod(resolvePeriod('last_7_days', '2025-04-16'))?.key).toBe('2025-04-02..2025-04-08');
    expect(comparisonPeriod(resolvePeriod('2025-03-05..2025-03-09', '2025-04-16'))?.key).toBe('2025-02-28..2025-03-04');
  });

  it('previous_year keeps the dates (29 February → 28 February) and none gives null', () => {
    expect(comparisonPeriod(resolvePeriod('2024-02', '2025-04-16'), 'previous_year')?.key).toBe('2023-02-01..2023-02-28');
    expect(comparisonPeriod(resolvePeriod('last_month', '2025-04-16'), 'none')).toBeNull();
  });
});
