// Validates a parsed value against a JSON Schema (draft 2020-12) with ajv and says what is wrong in
// the user's terms: their key path (`sources[1].config.token`), the expectation, what they wrote, and a
// hint. ajv's raw output is never shown: alternatives (oneOf/anyOf) are collapsed to the branch the
// user was evidently writing (alternatives.ts), and a typo'd key is reported once, with a suggestion,
// instead of as an unknown key plus a missing one.
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { AnySchemaObject, ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { ConfigError } from '../errors.ts';
import { collapseAlternatives, type AjvError } from './alternatives.ts';
import type { JsonSchema } from '../sdk/types.ts';
import { closest, formatPath, sortDiagnostics, type JsonPath } from './diagnostics.ts';
import { redact } from './secrets.ts';
import type { Diagnostic } from './types.ts';
import type { Locate, NodePart } from './yaml.ts';

export { formatDiagnostic } from './diagnostics.ts';

export interface ValidateOptions {
  /** The file as the user gave it. */
  file: string;
  /** Positions of document paths (basePath included). */
  locate: Locate;
  /** Where `value` sits in the document, e.g. `['sources', 1, 'config']`. */
  basePath?: JsonPath;
  /**
   * Whether the scalar at a document path was written as `${env:…}`. When given, a field whose schema
   * says `"x-secret": true` but holds a literal string is an error.
   */
  fromEnv?: (path: JsonPath) => boolean;
  /** Prefix of suggested variable names in secret hints, e.g. `hubspot` → `HUBSPOT_TOKEN`. */
  envPrefix?: string;
  /** Values never to print (resolved secrets). */
  secrets?: readonly string[];
}

/** `this` inside keyword functions (ajv passContext): collects where secret fields hold strings. */
interface ValidationContext {
  secretPointers: Set<string>;
}

interface Problem {
  /** Shown to the user (relative to basePath). */
  path: JsonPath;
  /** Pointed at: the node itself, or a key under path (unknown keys). */
  at: JsonPath;
  part: NodePart;
  message: string;
  hint?: string;
  missingKey?: string;
  suggestedKey?: string;
}

const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true, passContext: true });
// ajv-formats is CommonJS with `exports.default`; under nodenext TypeScript types the default import as
// the module object, and at run time `.default` is the same function.
formats.default(ajv);
ajv.addKeyword({
  keyword: 'x-secret',
  schemaType: 'boolean',
  validate: function collectSecret(this: ValidationContext | undefined, isSecret: boolean, data: unknown, _parent?: AnySchemaObject, cxt?: { instancePath: string }) {
    if (isSecret && typeof data === 'string') this?.secretPointers.add(cxt?.instancePath ?? '');
    return true;
  },
});
// Per-schema hints shown with an error: a string, or an object keyed by ajv keyword (`required`, `const`…).
ajv.addKeyword({ keyword: 'x-hint', schemaType: ['string', 'object'] });

const compiled = new WeakMap<object, ValidateFunction>();

function compile(schema: JsonSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (validate) return validate;
  // Another object with the same $id (a reloaded plugin) replaces the earlier one.
  if (typeof schema.$id === 'string' && ajv.getSchema(schema.$id)) ajv.removeSchema(schema.$id);
  try {
    validate = ajv.compile(schema);
  } catch (error) {
    throw new ConfigError(`invalid JSON Schema${typeof schema.$id === 'string' ? ` ${schema.$id}` : ''}: ${(error as Error).message}`, {
      hint: 'the schema is wrong, not the YAML: fix the schema (it must be JSON Schema 2020-12 and pass ajv strict mode)',
      cause: error,
    });
  }
  compiled.set(schema, validate);
  return validate;
}

/** Every problem of `value` against `schema`, as positioned diagnostics (sorted, no duplicates). */
export function validateWithSchema(schema: JsonSchema, value: unknown, options: ValidateOptions): Diagnostic[] {
  const validate = compile(schema);
  const context: ValidationContext = { secretPointers: new Set() };
  const ok = validate.call(context, value) as boolean;
  const errors = ok ? [] : collapseAlternatives(((validate.errors ?? []) as AjvError[]).filter((e) => e.keyword !== 'if'), schema);

  const problems = errors.map((e) => describe(e, value)).filter((p) => p !== undefined);
  if (options.fromEnv) problems.push(...literalSecrets(context.secretPointers, value, options));

  // `conector: x` is one typo, not an unknown key and a missing one.
  const typos = new Set(problems.filter((p) => p.suggestedKey).map((p) => `${formatPath(p.path)}\0${p.suggestedKey}`));
  const kept = problems.filter((p) => !p.missingKey || !typos.has(`${formatPath(p.path)}\0${p.missingKey}`));

  const base = options.basePath ?? [];
  return sortDiagnostics(
    kept.map((p) => {
      const { line, col } = options.locate([...base, ...p.at], p.part);
      return {
        file: options.file,
        line,
        col,
        path: formatPath([...base, ...p.path]),
        message: redact(p.message, options.secrets ?? []),
        hint: p.hint === undefined ? undefined : redact(p.hint, options.secrets ?? []),
      };
    }),
  );
}

function literalSecrets(pointers: Set<string>, value: unknown, options: ValidateOptions): Problem[] {
  const base = options.basePath ?? [];
  const problems: Problem[] = [];
  for (const pointer of pointers) {
    const path = toPath(pointer, value);
    if (options.fromEnv?.([...base, ...path])) continue;
    const key = [...base, ...path].filter((s) => typeof s === 'string').pop() ?? 'secret';
    const variable = [options.envPrefix, key].filter(Boolean).map((s) => envName(String(s))).join('_');
    problems.push({
      path,
      at: path,
      part: 'value',
      message: 'secrets must come from the environment',
      hint: `write ${key}: \${env:${variable}} and set ${variable} in the environment or in .env`,
    });
  }
  return problems;
}

/** `hubspot` → `HUBSPOT`, `apiKey` → `API_KEY`, `meta-ads` → `META_ADS`. */
function envName(text: string): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}

function describe(e: AjvError, root: unknown): Problem | undefined {
  const path = toPath(e.instancePath, root);
  // Errors under propertyNames are about a key, not a value.
  const propertyName = (e as { propertyName?: string }).propertyName;
  if (propertyName !== undefined) {
    const inner = describe({ ...e, propertyName: undefined } as AjvError, root);
    return inner && { ...inner, at: [...path, propertyName], part: 'key', message: `key "${propertyName}" ${inner.message.replace(/ \(got .*\)$/, '')}` };
  }
  const parent = e.parentSchema ?? {};
  const secret = parent['x-secret'] === true;
  // Secret fields never echo their value, only its type.
  const got = (v: unknown) => (secret ? typeName(v) : display(v));
  const at = (message: string, hint = hintOf(parent, e.keyword)): Problem => ({ path, at: path, part: 'value', message, hint });
  const p = e.params as Record<string, unknown>;
  const limit = p.limit as number;
  switch (e.keyword) {
    case 'type': {
      if (path.length === 0 && (e.data === null || e.data === undefined)) return at('the file is empty');
      const types = String(p.type).split(',');
      const fraction = typeof e.data === 'number' && types.includes('integer');
      return at(`must be ${types.join(' or ')} (got ${fraction ? got(e.data) : typeName(e.data)})`, hintOf(parent, 'type') ?? typeHint(path, e.data, types));
    }
    case 'x-union': {
      const values = (p.values as unknown[]).map((v) => (typeof v === 'string' ? v : display(v)));
      const types = (p.types as string[]).join(' or ');
      if (values.length === 0) return at(`must be ${types} (got ${typeName(e.data)})`);
      const suggestion = typeof e.data === 'string' && !secret ? closest(e.data, values) : undefined;
      return at(
        `must be one of: ${values.join(', ')}${types ? `; or ${types}` : ''} (got ${got(e.data)})`,
        suggestion ? `did you mean "${suggestion}"?` : undefined,
      );
    }
    case 'required': {
      const key = String(p.missingProperty);
      const property = (parent.properties as Record<string, AnySchemaObject> | undefined)?.[key];
      return { ...at(`missing required key "${key}"`, property ? hintOf(property, 'required') : undefined), missingKey: key };
    }
    case 'dependentRequired':
      return { ...at(`missing key "${String(p.missingProperty)}" (needed when "${String(p.property)}" is set)`), missingKey: String(p.missingProperty) };
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const key = String(p.additionalProperty ?? p.unevaluatedProperty);
      const present = new Set(Object.keys((e.data as object | null) ?? {}));
      const allowed = Object.keys((parent.properties as object | undefined) ?? {}).filter((k) => !present.has(k));
      const suggestion = closest(key, allowed);
      return {
        path,
        at: [...path, key],
        part: 'key',
        message: `unknown key "${key}"`,
        hint: suggestion === undefined ? hintOf(parent, e.keyword) : `did you mean "${suggestion}"?`,
        suggestedKey: suggestion,
      };
    }
    case 'false schema':
      return { path, at: path, part: 'key', message: 'is not allowed here' };
    case 'enum': {
      const values = p.allowedValues as unknown[];
      const list = values.map((v) => (typeof v === 'string' ? v : display(v))).join(', ');
      const suggestion = typeof e.data === 'string' && !secret ? closest(e.data, values.filter((v) => typeof v === 'string')) : undefined;
      return at(`must be one of: ${list} (got ${got(e.data)})`, suggestion ? `did you mean "${suggestion}"?` : hintOf(parent, 'enum'));
    }
    case 'const':
      return at(`must be ${display(p.allowedValue)} (got ${got(e.data)})`);
    case 'minimum':
      return at(`must be at least ${limit} (got ${got(e.data)})`);
    case 'maximum':
      return at(`must be at most ${limit} (got ${got(e.data)})`);
    case 'exclusiveMinimum':
      return at(`must be greater than ${limit} (got ${got(e.data)})`);
    case 'exclusiveMaximum':
      return at(`must be less than ${limit} (got ${got(e.data)})`);
    case 'multipleOf':
      return at(`must be a multiple of ${String(p.multipleOf)} (got ${got(e.data)})`);
    case 'minLength':
      return at(limit === 1 ? 'must not be empty' : `must be at least ${plural(limit, 'character')} long (got ${String(e.data).length})`);
    case 'maxLength':
      return at(`must be at most ${plural(limit, 'character')} long (got ${String(e.data).length})`);
    case 'pattern':
      return at(`must match the pattern ${String(p.pattern)} (got ${got(e.data)})`);
    case 'format':
      return at(`must be ${FORMATS[String(p.format)] ?? `in ${String(p.format)} format`} (got ${got(e.data)})`);
    case 'minItems':
      return at(`must have at least ${plural(limit, 'item')} (got ${(e.data as unknown[]).length})`);
    case 'maxItems':
      return at(`must have at most ${plural(limit, 'item')} (got ${(e.data as unknown[]).length})`);
    case 'minProperties':
      return at(`must have at least ${plural(limit, 'key')}`);
    case 'maxProperties':
      return at(`must have at most ${plural(limit, 'key')}`);
    case 'uniqueItems': {
      const [first, later] = [p.i as number, p.j as number].toSorted((a, b) => a - b);
      const item = (e.data as unknown[])[later];
      const what = item !== null && typeof item === 'object' ? 'item' : got(item);
      return { ...at(`duplicate ${what} (also at index ${first})`), path: [...path, later], at: [...path, later] };
    }
    case 'contains':
      return at(`must contain at least ${plural((p.minContains as number | undefined) ?? 1, 'matching item')}`);
    case 'not':
      return at('has a value that is not allowed here');
    case 'oneOf':
      return at('matches more than one of the allowed forms: make it match exactly one');
    case 'propertyNames':
      return undefined; // the inner error (below) names the key
    case 'x-secret':
      return undefined;
    default:
      return at(e.message ?? `fails the ${e.keyword} rule`);
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

const FORMATS: Record<string, string> = {
  date: 'a date (YYYY-MM-DD)',
  'date-time': 'a date and time (ISO 8601, e.g. 2024-01-31T09:00:00Z)',
  time: 'a time (HH:MM:SS)',
  email: 'an email address',
  uri: 'an absolute URI (https://…)',
  url: 'a URL (https://…)',
  hostname: 'a host name',
  ipv4: 'an IPv4 address',
  uuid: 'a UUID',
  duration: 'an ISO 8601 duration (e.g. P1D)',
};

function hintOf(schema: AnySchemaObject, keyword: string): string | undefined {
  const hint = schema['x-hint'] as unknown;
  if (typeof hint === 'string') return hint;
  if (hint && typeof hint === 'object') {
    const byKeyword = hint as Record<string, unknown>;
    const chosen = byKeyword[keyword] ?? byKeyword.default;
    return typeof chosen === 'string' ? chosen : undefined;
  }
  return undefined;
}

/** Common near-misses: a number or boolean written in quotes, an `${env:…}` where text is not allowed. */
function typeHint(path: JsonPath, data: unknown, types: string[]): string | undefined {
  if (typeof data !== 'string') return undefined;
  const key = path.length > 0 ? `${String(path[path.length - 1])}: ` : '';
  if (data.includes('${env:')) return `values from \${env:…} are text; this key needs a ${types.join(' or ')} written in the file`;
  if ((types.includes('integer') || types.includes('number')) && data.trim() !== '' && Number.isFinite(Number(data))) {
    return `write the number without quotes: ${key}${Number(data)}`;
  }
  // YAML 1.2 reads yes/no/on/off as text, unlike YAML 1.1 tools.
  if (types.includes('boolean') && /^(true|false|yes|no|on|off)$/i.test(data)) return `write ${key}true or ${key}false, without quotes`;
  return undefined;
}

/** JSON Pointer (`/sources/1/config`) → path, with indices as numbers where the data is a list. */
export function toPath(pointer: string, root: unknown): JsonPath {
  if (pointer === '') return [];
  const path: (string | number)[] = [];
  let node = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const segment = Array.isArray(node) ? Number(key) : key;
    path.push(segment);
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  }
  return path;
}

function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Short, unambiguous rendering of a value for messages: strings quoted, long ones cut. */
function display(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}…` : value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeName(value);
}
