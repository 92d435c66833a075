// How `touchpoint query` shows numbers in its table format (CSV and JSON keep full precision).
import { expect, it } from 'vitest';
import { tableValue } from './query.ts';

it('rounds float noise away in the table format: money to cents, shares to 4 significant digits', () => {
  expect(tableValue('revenue', 73.99999999999999)).toBe(74);
  expect(tableValue('spend', 1234.5678)).toBe(1234.57);
  expect(tableValue('cpa', 0.123456)).toBe(0.12);
  expect(tableValue('share', 0.123456789)).toBe(0.1235);
  expect(tableValue('conversions', 12.3456)).toBe(12.35);
  expect(tableValue('value', 0.000123456)).toBe(0.0001235);
  expect(tableValue('entrants', 42)).toBe(42);
  expect(tableValue('path', 'a > b')).toBe('a > b');
  expect(tableValue('roas', null)).toBe(null);
});
