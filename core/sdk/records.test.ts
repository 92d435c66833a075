import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { PK_SEPARATOR, createRecordValidator, cursorValue, recordPk } from './records.ts';

const schema = {
  type: 'object',
  required: ['id', 'email'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    email: { type: 'string', format: 'email' },
    stage: { enum: ['lead', 'customer'] },
    amount: { type: ['number', 'string', 'null'] },
    token: { type: 'string', 'x-secret': true },
    props: { type: 'object', properties: { updated: { type: 'string', format: 'date-time' } } },
  },
};

describe('createRecordValidator', () => {
  const validate = createRecordValidator(schema);

  it('accepts a valid record', () => {
    expect(validate({ id: '1', email: 'a@b.co', stage: 'lead', amount: '3.5', props: { updated: '2026-11-23T10:00:00Z' } })).toBeUndefined();
  });

  it('gives a one-line reason naming the record field', () => {
    expect(validate({ id: '1', email: 42 })).toBe('/email: must be string (got integer)');
    expect(validate({ id: '1' })).toBe('/email: is required but missing');
    expect(validate({ id: '1', email: 'a@b.co', extra: 1 })).toBe('/extra: is not allowed by the schema');
    expect(validate({ id: '1', email: 'a@b.co', stage: 'won' })).toBe('/stage: must be one of "lead", "customer" (got "won")');
    expect(validate({ id: '1', email: 'not-an-email' })).toBe('/email: must be a valid email');
    expect(validate({ id: '1', email: 'a@b.co', props: { updated: 'yesterday' } })).toBe('/props/updated: must be a valid date-time');
    expect(validate('a string')).toBe('(record): must be object (got string)');
  });

  it('compiles a schema once', () => {
    // Same schema object: served from the cache (a second compile of an $id'd schema would throw).
    const withId = { $id: 'urn:touchpoint:test', type: 'object' };
    createRecordValidator(withId);
    expect(() => createRecordValidator(withId)).not.toThrow();
  });

  it('rejects a schema ajv strict mode refuses, naming where', () => {
    let error: unknown;
    try {
      createRecordValidator({ type: 'object', properties: { a: { type: 'string', minLenght: 3 } } }, 'connectors/x (contacts)');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).where).toBe('connectors/x (contacts)');
    expect((error as ConfigError).message).toContain('minLenght');
  });
});

describe('recordPk', () => {
  it('joins key values with U+001F', () => {
    expect(recordPk({ id: 7 }, ['id'])).toBe('7');
    expect(recordPk({ date: '2026-11-23', campaign: { id: 'c1' } }, ['date', 'campaign.id'])).toBe(`2026-11-23${PK_SEPARATOR}c1`);
  });

  it('returns an error for a missing, empty or non-scalar key field', () => {
    expect(recordPk({ other: 1 }, ['id'])).toEqual({ error: 'primary key field id is missing' });
    expect(recordPk({ id: '' }, ['id'])).toEqual({ error: 'primary key field id is missing' });
    expect(recordPk({ id: null }, ['id'])).toEqual({ error: 'primary key field id is missing' });
    expect(recordPk({ id: { a: 1 } }, ['id'])).toEqual({ error: 'primary key field id must be a string or a number (got object)' });
  });
});

describe('cursorValue', () => {
  it('reads flat, dotted and literal-dotted fields', () => {
    expect(cursorValue({ updated_at: '2026-11-23' }, 'updated_at')).toBe('2026-11-23');
    expect(cursorValue({ properties: { hs_lastmodifieddate: '2026-11-23T10:00:00Z' } }, 'properties.hs_lastmodifieddate')).toBe('2026-11-23T10:00:00Z');
    expect(cursorValue({ 'a.b': 5, a: { b: 6 } }, 'a.b')).toBe(5);
    expect(cursorValue({ a: { b: { c: 1 } } }, 'a.b')).toBeUndefined();
    expect(cursorValue({}, 'missing.path')).toBeUndefined();
  });
});
