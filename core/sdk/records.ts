// What the engine checks on every record a stream yields, before anything is stored: the record
// matches the stream's JSON Schema, it has a primary key, and where its cursor value is. Everything a
// vendor sends is untrusted (DESIGN.md, "Trust boundaries"); a record that fails goes to quarantine
// with the one-line reason these functions return, never silently dropped.
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { ConfigError } from '../errors.ts';
import type { JsonSchema } from './types.ts';

/** undefined when the record is valid, else one line such as `/email: must be string (got number)`. */
export type RecordValidator = (record: unknown) => string | undefined;

/** Separates the values of a composite primary key; a unit separator cannot occur in sane ids. */
export const PK_SEPARATOR = '\u001f';

let shared: Ajv2020 | undefined;
const compiled = new WeakMap<object, ValidateFunction>();

// One instance for the process: ajv's compile is the expensive part and its cache is per instance.
// allErrors off: the first problem is enough to quarantine a record and stops work early; verbose
// keeps the offending value on the error, for "(got number)".
// strictRequired off: `anyOf: [{ required: [email] }, { required: [phone] }]` ("at least one
// identifier") is idiomatic and ajv's check rejects it; union types are how vendors' data looks.
function ajv(): Ajv2020 {
  if (!shared) {
    shared = new Ajv2020({ allErrors: false, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true });
    // ajv-formats is CommonJS; under nodenext its default import is the module object.
    addFormats.default(shared);
    shared.addKeyword({ keyword: 'x-secret', schemaType: 'boolean' });
  }
  return shared;
}

/** Compiles `schema` once (cached per schema object); `where` names the stream in a schema error. */
export function createRecordValidator(schema: JsonSchema, where?: string): RecordValidator {
  let validate = compiled.get(schema);
  if (!validate) {
    try {
      validate = ajv().compile(schema);
    } catch (error) {
      throw new ConfigError(`record schema is invalid: ${(error as Error).message}`, {
        where,
        hint: 'fix the stream schema in the connector (ajv strict mode: every keyword known, types explicit)',
        cause: error,
      });
    }
    compiled.set(schema, validate);
  }
  const check = validate;
  return (record) => (check(record) ? undefined : reason(check.errors?.[0]));
}

function reason(e: ErrorObject | undefined): string {
  if (!e) return 'does not match the schema';
  const at = e.instancePath || '(record)';
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type':
      return `${at}: must be ${[p.type].flat().join(' or ')} (got ${kindOf(e.data)})`;
    case 'required':
      return `${e.instancePath}/${String(p.missingProperty)}: is required but missing`;
    case 'additionalProperties':
      return `${e.instancePath}/${String(p.additionalProperty)}: is not allowed by the schema`;
    case 'enum':
      return `${at}: must be one of ${(p.allowedValues as unknown[]).map(short).join(', ')} (got ${short(e.data)})`;
    case 'const':
      return `${at}: must be ${short(p.allowedValue)} (got ${short(e.data)})`;
    // Values of format/pattern failures are left out: they are often emails and phone numbers.
    case 'format':
      return `${at}: must be a valid ${String(p.format)}`;
    default:
      return `${at}: ${e.message ?? 'does not match the schema'}`;
  }
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * The record's primary key as one string (values joined with U+001F), or `{ error }` when a key field
 * is missing, empty or not a scalar: such a record cannot be upserted and goes to quarantine.
 */
export function recordPk(record: unknown, primaryKey: readonly string[]): string | { error: string } {
  const parts: string[] = [];
  for (const field of primaryKey) {
    const value = valueAt(record, field);
    if (value === undefined || value === null || value === '') return { error: `primary key field ${field} is missing` };
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'bigint') {
      return { error: `primary key field ${field} must be a string or a number (got ${kindOf(value)})` };
    }
    const text = String(value);
    if (text.includes(PK_SEPARATOR)) return { error: `primary key field ${field} contains the separator U+001F` };
    parts.push(text);
  }
  return parts.join(PK_SEPARATOR);
}

/** The cursor value at `field` (dotted paths reach nested fields); undefined when absent or not a scalar. */
export function cursorValue(record: unknown, field: string): string | number | undefined {
  const value = valueAt(record, field);
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}

/**
 * `a.b.c` walks nested objects; a key that itself contains dots (`properties.hs_lastmodifieddate` as
 * one flat key) wins when the record has it, because that is what the author wrote.
 */
export function valueAt(record: unknown, path: string): unknown {
  if (!record || typeof record !== 'object') return undefined;
  const obj = record as Record<string, unknown>;
  if (Object.hasOwn(obj, path)) return obj[path];
  let at: unknown = record;
  for (const key of path.split('.')) {
    if (!at || typeof at !== 'object' || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}
