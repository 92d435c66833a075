import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../sdk/types.ts';
import { didYouMean, editDistance, formatPath } from './diagnostics.ts';
import { formatDiagnostic, validateWithSchema, type ValidateOptions } from './validate.ts';
import { parseYaml } from './yaml.ts';

const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'mode'],
  properties: {
    name: { type: 'string', description: 'n' },
    mode: { enum: ['full', 'incremental', 'append'], description: 'm' },
    size: { type: 'integer', minimum: 1, description: 's' },
    streams: { type: 'array', items: { type: 'string' }, uniqueItems: true, description: 'st' },
    target: {
      description: 'a table name or a {schema, table} object',
      oneOf: [
        { type: 'string' },
        { type: 'object', additionalProperties: false, required: ['table'], properties: { schema: { type: 'string' }, table: { type: 'string' } } },
      ],
    },
    token: { type: 'string', pattern: '^pat-', 'x-secret': true, description: 't' },
  },
};

function check(yaml: string, extra: Partial<ValidateOptions> = {}): string[] {
  const source = parseYaml(yaml, 'conf.yaml');
  return validateWithSchema(schema, source.value, { file: 'conf.yaml', locate: source.position, ...extra }).map(formatDiagnostic);
}

describe('validateWithSchema: ajv errors in the user\'s words', () => {
  it('wrong type: expectation and what was given, at the value', () => {
    expect(check('name: 12\nmode: full\n')).toEqual(['conf.yaml:1:7 name: must be string (got number)']);
  });

  it('a quoted number gets a hint', () => {
    expect(check('name: a\nmode: full\nsize: "5"\n')).toEqual(['conf.yaml:3:7 size: must be integer (got string)\n  hint: write the number without quotes: size: 5']);
  });

  it('enum: lists the allowed values and suggests the closest', () => {
    expect(check('name: a\nmode: incremental2\n')).toEqual([
      'conf.yaml:2:7 mode: must be one of: full, incremental, append (got "incremental2")\n  hint: did you mean "incremental"?',
    ]);
    expect(check('name: a\nmode: zzz\n')).toEqual(['conf.yaml:2:7 mode: must be one of: full, incremental, append (got "zzz")']);
  });

  it('missing required key: reported at the parent object', () => {
    expect(check('name: a\n')).toEqual(['conf.yaml:1:1 missing required key "mode"']);
  });

  it('unknown key: at the key, with did-you-mean when something is close and nothing otherwise', () => {
    expect(check('name: a\nmode: full\nstrems: [x]\nfoo: 1\n')).toEqual([
      'conf.yaml:3:1 unknown key "strems"\n  hint: did you mean "streams"?',
      'conf.yaml:4:1 unknown key "foo"',
    ]);
  });

  it('a misspelt required key is one problem, not an unknown key plus a missing one', () => {
    expect(check('name: a\nmdoe: full\n')).toEqual(['conf.yaml:2:1 unknown key "mdoe"\n  hint: did you mean "mode"?']);
  });

  it('oneOf: reports the branch the value was written for, without the cascade', () => {
    expect(check('name: a\nmode: full\ntarget: { schema: s, tabel: t }\n')).toEqual(['conf.yaml:3:22 target: unknown key "tabel"\n  hint: did you mean "table"?']);
    expect(check('name: a\nmode: full\ntarget: 5\n')).toEqual(['conf.yaml:3:9 target: must be string or object (got number)']);
  });

  it('duplicates in a unique list', () => {
    expect(check('name: a\nmode: full\nstreams: [a, b, a]\n')).toEqual(['conf.yaml:3:17 streams[2]: duplicate "a" (also at index 0)']);
  });

  it('never echoes the value of a secret field, and redacts known secrets', () => {
    expect(check('name: a\nmode: full\ntoken: hunter2-secret\n')).toEqual(['conf.yaml:3:8 token: must match the pattern ^pat- (got string)']);
    expect(check('name: s3cr3t-value\nmode: nope-s3cr3t-value\n', { secrets: ['s3cr3t-value'] })).toEqual([
      'conf.yaml:2:7 mode: must be one of: full, incremental, append (got "nope-***")',
    ]);
  });

  it('a literal secret is an error when the caller can tell literals from ${env:…}', () => {
    expect(check('name: a\nmode: full\ntoken: pat-123\n', { fromEnv: () => false, envPrefix: 'hubspot' })).toEqual([
      'conf.yaml:3:8 token: secrets must come from the environment\n  hint: write token: ${env:HUBSPOT_TOKEN} and set HUBSPOT_TOKEN in the environment or in .env',
    ]);
    expect(check('name: a\nmode: full\ntoken: pat-123\n', { fromEnv: () => true })).toEqual([]);
  });

  it('prefixes paths with basePath and locates through it', () => {
    const source = parseYaml('sources:\n  - config:\n      name: 1\n      mode: full\n', 'p.yaml');
    const value = (source.value as { sources: { config: unknown }[] }).sources[0].config;
    const out = validateWithSchema(schema, value, { file: 'p.yaml', locate: source.position, basePath: ['sources', 0, 'config'] });
    expect(out.map(formatDiagnostic)).toEqual(['p.yaml:3:13 sources[0].config.name: must be string (got number)']);
  });

  it('rejects a broken schema with a ConfigError that blames the schema', () => {
    expect(() => validateWithSchema({ type: 'strin' }, 1, { file: 'f', locate: () => ({ line: 1, col: 1 }) })).toThrow(/invalid JSON Schema/);
  });
});

describe('oneOf/anyOf through $refs (how connector schemas are written)', () => {
  const refSchema: JsonSchema = {
    type: 'object',
    additionalProperties: { $ref: '#/$defs/column' },
    properties: { when: { $ref: '#/$defs/condition' } },
    $defs: {
      columnType: { enum: ['string', 'integer', 'date'] },
      // A column is a type name, or an object with a type.
      column: { oneOf: [{ $ref: '#/$defs/columnType' }, { $ref: '#/$defs/columnObject' }] },
      columnObject: { type: 'object', additionalProperties: false, required: ['type'], properties: { type: { $ref: '#/$defs/columnType' }, from: { type: 'string' } } },
      // Recursive, and the branches differ only by their required key.
      condition: {
        oneOf: [
          { type: 'object', additionalProperties: false, required: ['column'], properties: { column: { type: 'string' }, in: { type: 'array', items: { $ref: '#/$defs/literal' } } } },
          { type: 'object', additionalProperties: false, required: ['all'], properties: { all: { type: 'array', items: { $ref: '#/$defs/condition' } } } },
          { type: 'object', additionalProperties: false, required: ['not'], properties: { not: { $ref: '#/$defs/condition' } } },
        ],
      },
      literal: { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'null' }] },
      kind: { oneOf: [{ type: 'object', required: ['kind'], properties: { kind: { const: 'event' } } }, { type: 'object', required: ['kind'], properties: { kind: { const: 'link' } } }] },
    },
  };
  const run = (value: unknown) =>
    validateWithSchema(refSchema, value, { file: 'f.yaml', locate: () => ({ line: 1, col: 1 }) }).map((d) => formatDiagnostic(d).replace('f.yaml:1:1 ', ''));

  it('keeps the branch the value was written for', () => {
    expect(run({ a: { type: 'strin' } })).toEqual(['a.type: must be one of: string, integer, date (got "strin")\n  hint: did you mean "string"?']);
    expect(run({ a: { type: 'date', form: 'x' } })).toEqual(['a: unknown key "form"\n  hint: did you mean "from"?']);
  });

  it('names every accepted kind when no branch takes the value', () => {
    expect(run({ a: 5 })).toEqual(['a: must be one of: string, integer, date; or object (got 5)']);
    expect(run({ a: 'strng' })).toEqual(['a: must be one of: string, integer, date; or object (got "strng")\n  hint: did you mean "string"?']);
  });

  it('picks the branch a misspelt key belongs to, also deep inside recursive schemas', () => {
    expect(run({ when: { colum: 'x' } })).toEqual(['when: unknown key "colum"\n  hint: did you mean "column"?']);
    expect(run({ when: { all: [{ column: 'x' }, { not: { column: 'y', in: [{}] } }] } })).toEqual(['when.all[1].not.in[0]: must be string or number or null (got object)']);
  });

  it('a failed discriminator lists the values that exist', () => {
    const kindSchema: JsonSchema = { $ref: '#/$defs/kind', $defs: refSchema.$defs };
    const out = validateWithSchema(kindSchema, { kind: 'evnt' }, { file: 'f.yaml', locate: () => ({ line: 1, col: 1 }) }).map(formatDiagnostic);
    expect(out).toEqual(['f.yaml:1:1 kind: must be one of: event, link (got "evnt")\n  hint: did you mean "event"?']);
  });
});

describe('diagnostic helpers', () => {
  it('formats paths in the user\'s syntax', () => {
    expect(formatPath(['sources', 1, 'config', 'token'])).toBe('sources[1].config.token');
    expect(formatPath(['headers', 'X Api Key'])).toBe('headers["X Api Key"]');
    expect(formatPath([])).toBe('');
  });

  it('measures typos with transpositions as one edit', () => {
    expect(editDistance('hubspt', 'hubspot')).toBe(1);
    expect(editDistance('mdoe', 'mode')).toBe(1);
    expect(editDistance('strem', 'streams')).toBe(2);
    expect(didYouMean('batchsize', ['concurrency', 'batchSize'])).toBe('did you mean "batchSize"?');
    expect(didYouMean('xyz', ['streams', 'config'])).toBeUndefined();
  });
});
