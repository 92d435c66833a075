// ajv reports a failed oneOf/anyOf as every error of every branch followed by "must match exactly one
// schema". A user wrote one of the forms and wants to hear about that one. This file finds which
// branch each error came from and keeps only the branch the value was evidently written for; when no
// branch takes that kind of value at all, it says which kinds would have been accepted.
//
// Branches are told apart by schema identity, not by ajv's schemaPath: schemaPath restarts inside
// every $ref, so errors from `oneOf: [{ $ref: … }, { $ref: … }]` cannot be attributed by it.
import type { AnySchemaObject, ErrorObject } from 'ajv/dist/2020.js';
import type { JsonSchema } from '../sdk/types.ts';
import { closest } from './diagnostics.ts';

/** An ajv error with `verbose: true` (data, schema and parentSchema filled in). */
export type AjvError = ErrorObject & { data?: unknown; parentSchema?: AnySchemaObject };

/** Schema object → the instance paths (relative to the alternative's value) it applies at. */
type Reach = Map<object, string[]>;

/** Replaces each failed alternative and its branches' errors with the errors that matter. */
export function collapseAlternatives(errors: AjvError[], root: JsonSchema): AjvError[] {
  const out: AjvError[] = [];
  for (const alt of errors) {
    const isAlternative = alt.keyword === 'oneOf' || alt.keyword === 'anyOf';
    // A oneOf that failed because several branches matched has no branch errors to collapse.
    if (!isAlternative || Array.isArray(alt.params.passingSchemas) || !Array.isArray(alt.schema)) {
      out.push(alt);
      continue;
    }
    const branches = (alt.schema as unknown[]).map((branch) => reachable(branch, root, alt.data));
    const branchesOf = (e: AjvError): number[] => {
      const rel = relativePath(e.instancePath, alt.instancePath);
      if (rel === undefined || !e.parentSchema) return [];
      return branches.flatMap((reach, k) => (reach.get(e.parentSchema!)?.includes(rel) ? [k] : []));
    };
    // ajv pushes the branches' errors right before the alternative's own error (inner ones already
    // collapsed, since they come first).
    let start = out.length;
    while (start > 0 && branchesOf(out[start - 1]).length > 0) start--;
    const run = out.splice(start);
    const byBranch = branches.map((_, k) => run.filter((e) => branchesOf(e).includes(k)));
    out.push(...choose(alt, run, byBranch));
  }
  return out;
}

function choose(alt: AjvError, run: AjvError[], byBranch: AjvError[][]): AjvError[] {
  const own = (e: AjvError) => e.instancePath === alt.instancePath;
  const child = (e: AjvError) => relativePath(e.instancePath, alt.instancePath)?.split('/').length === 1;
  // A branch rejects the value's kind when its type/enum/const fails on the value itself, or when a
  // discriminating constant (`kind: event`) fails one level down.
  const rejectsKind = (e: AjvError) => (own(e) && ['type', 'enum', 'const', 'x-union'].includes(e.keyword)) || (child(e) && e.keyword === 'const');
  const fitting = byBranch.filter((errs) => errs.length > 0 && !errs.some(rejectsKind));
  if (fitting.length > 0) return fitting.reduce((best, errs) => (score(errs) < score(best) ? errs : best));

  // Every branch is a different discriminator value: name them all at the discriminating key.
  const discriminators = byBranch.map((errs) => errs.find((e) => child(e) && e.keyword === 'const'));
  const first = discriminators[0];
  if (first && discriminators.every((d) => d?.instancePath === first.instancePath)) {
    return [union(first, [], discriminators.map((d) => d!.params.allowedValue))];
  }
  const ownErrors = run.filter(own);
  const types = ownErrors.flatMap((e) => (e.keyword === 'type' ? String(e.params.type).split(',') : e.keyword === 'x-union' ? (e.params.types as string[]) : []));
  const values = ownErrors.flatMap((e) =>
    e.keyword === 'enum' ? (e.params.allowedValues as unknown[]) : e.keyword === 'const' ? [e.params.allowedValue] : e.keyword === 'x-union' ? (e.params.values as unknown[]) : [],
  );
  if (types.length + values.length > 0) return [union(alt, types, values)];
  // Nothing to say about kinds: the branch with the fewest complaints is the best guess.
  return byBranch.filter((errs) => errs.length > 0).reduce((best, errs) => (score(errs) < score(best) ? errs : best), run);
}

/**
 * How far a value is from a branch: its error count, where a misspelt key counts once (an unknown
 * `colum` next to a missing `column` is one typo, and points at the branch that has `column`).
 */
function score(errs: AjvError[]): number {
  const unknown = errs.filter((e) => e.keyword === 'additionalProperties');
  const typos = errs.filter(
    (e) =>
      e.keyword === 'required' &&
      unknown.some((u) => u.instancePath === e.instancePath && closest(String(u.params.additionalProperty), [String(e.params.missingProperty)]) !== undefined),
  );
  return errs.length - typos.length;
}

/** A synthetic error: "must be one of …" built from several branches. */
function union(at: AjvError, types: string[], values: unknown[]): AjvError {
  return { ...at, keyword: 'x-union', params: { types: [...new Set(types)], values: [...new Set(values)] } };
}

/** `/a/b/c` under `/a` → `b/c`; the same path → ''; not under it → undefined. */
function relativePath(path: string, base: string): string | undefined {
  if (path === base) return '';
  return path.startsWith(`${base}/`) ? path.slice(base.length + 1) : undefined;
}

/**
 * Every schema object a branch applies to the value, with the instance paths (relative to the value)
 * it applies at. Walked along the actual data, so recursive schemas stay finite.
 */
function reachable(branch: unknown, root: JsonSchema, value: unknown): Reach {
  const reach: Reach = new Map();
  const walk = (node: unknown, data: unknown, rel: string): void => {
    if (!node || typeof node !== 'object') return;
    const paths = reach.get(node) ?? [];
    if (paths.includes(rel)) return;
    paths.push(rel);
    reach.set(node, paths);
    const s = node as Record<string, unknown>;
    const at = (key: string | number) => (rel === '' ? '' : `${rel}/`) + String(key).replace(/~/g, '~0').replace(/\//g, '~1');
    if (typeof s.$ref === 'string') walk(resolveRef(root, s.$ref), data, rel);
    for (const kw of ['allOf', 'anyOf', 'oneOf']) if (Array.isArray(s[kw])) for (const sub of s[kw] as unknown[]) walk(sub, data, rel);
    for (const kw of ['not', 'if', 'then', 'else', 'propertyNames']) walk(s[kw], data, rel);
    for (const sub of Object.values((s.dependentSchemas ?? {}) as object)) walk(sub, data, rel);
    if (Array.isArray(data)) {
      const prefix = Array.isArray(s.prefixItems) ? (s.prefixItems as unknown[]) : [];
      data.forEach((item, i) => {
        walk(prefix[i], item, at(i));
        for (const kw of ['items', 'contains', 'unevaluatedItems']) walk(s[kw], item, at(i));
      });
    } else if (data !== null && typeof data === 'object') {
      const properties = (s.properties ?? {}) as Record<string, unknown>;
      const patterns = Object.values((s.patternProperties ?? {}) as object);
      for (const [key, item] of Object.entries(data)) {
        walk(properties[key], item, at(key));
        // Over-approximate: a key named in properties is not checked by these, which does no harm.
        for (const sub of [...patterns, s.additionalProperties, s.unevaluatedProperties]) walk(sub, item, at(key));
      }
    }
  };
  walk(branch, value, '');
  return reach;
}

/** Local references only (`#`, `#/$defs/x`); others are not followed. */
function resolveRef(root: JsonSchema, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const part of ref.slice(1).split('/').slice(1)) {
    node = (node as Record<string, unknown> | undefined)?.[decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}
