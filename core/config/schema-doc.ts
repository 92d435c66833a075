// Renders a JSON Schema as a Markdown reference: one section per key (nested keys by their full path,
// `sources[].name`), with its type, whether it is required, its default, allowed values and limits,
// then its description. The schema is the single source, so docs cannot drift from the validator;
// connector READMEs can render their config.schema.json the same way.
import { stringify } from 'yaml';
import type { JsonSchema } from '../sdk/types.ts';

export interface SchemaDocOptions {
  /** Heading level of the title (default 1); keys go one and two levels deeper. */
  level?: number;
  /** Title; default the schema's `title`. */
  title?: string;
  /** Text placed before the title (e.g. a generated-file notice). */
  header?: string;
}

interface Entry {
  path: string;
  schema: JsonSchema;
  required: boolean;
  depth: number;
}

/** The Markdown reference of a schema: title, description, example, summary table, one section per key. */
export function renderSchemaMarkdown(root: JsonSchema, options: SchemaDocOptions = {}): string {
  const level = options.level ?? 1;
  const entries = collect(root, root, '', 0);
  const out: string[] = options.header ? [options.header, ''] : [];
  out.push(`${'#'.repeat(level)} ${options.title ?? str(root.title) ?? 'Reference'}`, '');
  if (root.description) out.push(str(root.description)!, '');

  const examples = Array.isArray(root.examples) ? root.examples : [];
  if (examples.length > 0) {
    out.push(`${'#'.repeat(level + 1)} Example`, '');
    for (const example of examples) out.push('```yaml', stringify(example, { lineWidth: 0 }).trimEnd(), '```', '');
  }

  out.push(`${'#'.repeat(level + 1)} Keys`, '', '| key | type | required | default |', '| --- | --- | --- | --- |');
  for (const e of entries) {
    const def = e.schema.default === undefined ? '' : code(e.schema.default);
    out.push(`| \`${e.path}\` | ${typeOf(e.schema, root)} | ${e.required ? 'yes' : ''} | ${def} |`);
  }
  out.push('');

  for (const e of entries) {
    out.push(`${'#'.repeat(Math.min(level + 1 + Math.min(e.depth, 2), 6))} \`${e.path}\``, '');
    out.push(facts(e, root), '');
    if (e.schema.description) out.push(str(e.schema.description)!, '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** Every key, depth first in schema order; list items continue the path as `key[]`. */
function collect(node: JsonSchema, root: JsonSchema, prefix: string, depth: number): Entry[] {
  const schema = deref(node, root);
  const entries: Entry[] = [];
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  for (const [key, child] of Object.entries(properties)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const resolved = deref(child, root);
    entries.push({ path, schema: resolved, required: required.has(key), depth });
    entries.push(...collect(resolved, root, path, depth + 1));
    const items = resolved.items as JsonSchema | undefined;
    if (items && typeof items === 'object') entries.push(...collect(items, root, `${path}[]`, depth + 1));
  }
  return entries;
}

/** Follows local `$ref`s (`#/$defs/source`); the referring schema's own keywords win. */
function deref(schema: JsonSchema, root: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema;
  let target: unknown = root;
  for (const part of ref.slice(2).split('/')) target = (target as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  if (!target || typeof target !== 'object') return schema;
  const { $ref: _ref, ...rest } = schema;
  return { ...deref(target as JsonSchema, root), ...rest };
}

function typeOf(schema: JsonSchema, root: JsonSchema): string {
  if (schema.const !== undefined) return code(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map(code).join(' \\| ');
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : [];
  const alternatives = (schema.oneOf ?? schema.anyOf) as JsonSchema[] | undefined;
  if (types.length === 0 && Array.isArray(alternatives)) return alternatives.map((a) => typeOf(deref(a, root), root)).join(' or ');
  return (
    types
      .map((t) => {
        if (t !== 'array' || !schema.items) return t;
        const items = deref(schema.items as JsonSchema, root);
        const of = items.properties ? 'object' : typeOf(items, root);
        return `array of ${/^[a-z]+$/.test(of) ? `${of}s` : of}`;
      })
      .join(' or ') || 'any'
  );
}

/** The line under a key's heading: type, required, default, allowed values, limits, secret. */
function facts(e: Entry, root: JsonSchema): string {
  const s = e.schema;
  const parts = [`Type: ${typeOf(s, root)}`, e.required ? 'required' : 'optional'];
  if (s.default !== undefined) parts.push(`default ${code(s.default)}`);
  const range = (min: unknown, max: unknown, unit = '') => {
    const of = (n: unknown) => (unit ? ` ${unit}${n === 1 ? '' : 's'}` : '');
    if (min !== undefined && max !== undefined) parts.push(`${String(min)} to ${String(max)}${of(max)}`);
    else if (min !== undefined) parts.push(`at least ${String(min)}${of(min)}`);
    else if (max !== undefined) parts.push(`at most ${String(max)}${of(max)}`);
  };
  range(s.minimum, s.maximum);
  range(s.minLength, s.maxLength, 'character');
  range(s.minItems, s.maxItems, 'item');
  if (s.exclusiveMinimum !== undefined) parts.push(`greater than ${String(s.exclusiveMinimum)}`);
  if (s.exclusiveMaximum !== undefined) parts.push(`less than ${String(s.exclusiveMaximum)}`);
  if (s.uniqueItems === true) parts.push('no duplicates');
  if (typeof s.format === 'string') parts.push(`format ${s.format === 'date' ? 'date (`YYYY-MM-DD`)' : `\`${s.format}\``}`);
  if (typeof s.pattern === 'string') parts.push(`pattern \`${s.pattern}\``);
  if (s.type === 'object' && !s.properties && s.additionalProperties === undefined) parts.push('any keys');
  if (s['x-secret'] === true) parts.push('**secret**: give it as `${env:NAME}`');
  const line = `*${parts.join(' · ')}*`;
  const examples = Array.isArray(s.examples) ? s.examples : [];
  return examples.length > 0 ? `${line}\n\nExamples: ${examples.map(code).join(', ')}` : line;
}

function code(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `\`${text.replace(/\|/g, '\\|')}\``;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
