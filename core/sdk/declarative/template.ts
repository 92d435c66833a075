// `{{ config.x }}` in a declarative connector's strings: replaced by the source config's value (or
// the config schema's default). Pure. A string that is one placeholder keeps the value's type, so
// `per_page: "{{ config.page_size }}"` stays a number.
import { ConfigError } from '../../errors.ts';
import { valueAt } from '../records.ts';
import type { JsonObject, JsonSchema, JsonValue } from '../types.ts';

const PLACEHOLDER = /\{\{\s*config\.([A-Za-z0-9_.]+)\s*\}\}/g;
const WHOLE = /^\{\{\s*config\.([A-Za-z0-9_.]+)\s*\}\}$/;

export interface TemplateScope {
  config: JsonObject;
  /** The connector's config schema, for defaults of unset values. */
  schema: JsonSchema;
  /** Names the connector in errors. */
  connector: string;
  /** false: an unset value renders as '' (mapping specs compiled before a config exists). */
  strict: boolean;
}

function lookup(path: string, scope: TemplateScope): JsonValue | undefined {
  const v = valueAt(scope.config, path);
  if (v !== undefined && v !== null) return v as JsonValue;
  let node: unknown = scope.schema;
  for (const key of path.split('.')) node = (node as { properties?: Record<string, unknown> } | undefined)?.properties?.[key];
  const fallback = (node as { default?: JsonValue } | undefined)?.default;
  if (fallback !== undefined) return fallback;
  if (!scope.strict) return undefined;
  throw new ConfigError(`connector ${scope.connector} needs config.${path}, but the source config does not set it`, {
    hint: `add ${path}: … under the source's config:`,
  });
}

export function renderString(text: string, scope: TemplateScope): JsonValue {
  const whole = WHOLE.exec(text);
  if (whole) return lookup(whole[1], scope) ?? '';
  return text.replace(PLACEHOLDER, (_, path: string) => {
    const v = lookup(path, scope);
    return v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}

/** Renders every string inside `value` (objects and arrays walked). */
export function render<T>(value: T, scope: TemplateScope): T {
  if (typeof value === 'string') return renderString(value, scope) as T;
  if (Array.isArray(value)) return value.map((v) => render(v, scope)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, scope)])) as T;
  }
  return value;
}
