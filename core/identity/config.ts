// The identity stage's settings: the pipeline's `identity:` section (validated by the `identity` part
// of core/config/pipeline.schema.json) with every default filled in, plus what the stitching SQL
// derives from it (each type's strength rank, the guard limits, the blocklist). Pure: YAML in, a
// complete IdentityConfig out. docs/identity.md documents the defaults; keep the two in step.
import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.ts';
import type { JsonObject } from '../sdk/types.ts';

export type NormalizeRule = 'trim' | 'lowercase' | 'email' | 'phone' | 'digits' | 'ga_client_id' | 'sha256';

export interface CustomType {
  name: string;
  normalize: NormalizeRule;
}

export interface BlockEntry {
  /** Only identifiers of this type (default: any type). */
  type?: string;
  /** Exact value, compared case-insensitively with the normalised value. */
  value?: string;
  /** Regular expression searched in the lower-cased normalised value. */
  pattern?: string;
  reason?: string;
  /** Position in the user's `blocklist:` list (absent for the defaults), for error messages. */
  index?: number;
}

export interface NeverLinkPair {
  a: { type: string; value: string };
  b: { type: string; value: string };
  reason?: string;
}

export interface IdentityConfig {
  default_region?: string;
  /** Types whose normalised values also yield a `<type>_sha256` identifier. */
  hash: string[];
  types: CustomType[];
  /** Strongest first: weaker identifiers are the ones removed when a component breaks a guard. */
  strength: string[];
  never_alone: string[];
  blocklist: BlockEntry[];
  /** type → most distinct values one person may hold (absent: no limit). */
  max_per_person: Record<string, number>;
  max_component_size: number;
  /** `never_link: { identifiers: [a, b] }` rules, values as written (normalised by the stage). */
  never_link_pairs: { a: string; b: string; reason?: string; index: number }[];
  /** `never_link: { identifier }` rules, as written. */
  never_link_values: { identifier: string; reason?: string; index: number }[];
  /** Upper bound on label-propagation rounds per pass (a safety net, not a tuning knob). */
  max_rounds: number;
}

export const BUILTIN_TYPES = ['email', 'phone', 'user_id', 'ga_client_id', 'hubspot_contact_id', 'gclid', 'fbclid'] as const;

export const DEFAULT_STRENGTH = ['user_id', 'hubspot_contact_id', 'email', 'phone', 'ga_client_id'];
export const DEFAULT_NEVER_ALONE = ['gclid', 'fbclid'];
export const DEFAULT_MAX_PER_PERSON: Record<string, number> = { hubspot_contact_id: 1, user_id: 1 };
export const DEFAULT_MAX_COMPONENT_SIZE = 50;
export const DEFAULT_MAX_ROUNDS = 64;

/**
 * Values that identify nobody: placeholders forms and trackers write when they have nothing, and test
 * addresses. Compared case-insensitively after normalisation; their SHA-256 forms are blocked too.
 */
export const DEFAULT_BLOCKED_VALUES = [
  '', 'undefined', 'null', 'nil', 'none', 'n/a', 'na', 'nan', 'unknown', 'unset', 'not set', '(not set)', '(none)', '0', '-', '--', '.',
  'false', 'true', 'test', 'anonymous', '[object object]', '00000000-0000-0000-0000-000000000000',
  'test@test.com', 'test@example.com', 'example@example.com', 'user@example.com', 'email@example.com', 'email@email.com',
  'noemail@noemail.com', 'no@email.com', 'none@none.com', 'a@a.com', 'asdf@asdf.com',
];

/** Patterns (searched in the lower-cased value); the common subset of RE2 (DuckDB) and PostgreSQL. */
export const DEFAULT_BLOCKED_PATTERNS = [
  '^0+$',
  '@(example|test|invalid)\\.(com|org|net|de)$',
  '^(test|asdf|qwerty|noreply|no-reply|donotreply|do-not-reply|nobody)@',
];

type Raw = Record<string, any>;

/** The normalisation a type gets: built-ins by name, `*_sha256` as hex, declared custom types as declared. */
export function normalizeRuleOf(type: string, custom: readonly CustomType[]): NormalizeRule {
  const declared = custom.find((t) => t.name === type);
  if (declared) return declared.normalize;
  if (type === 'email' || type === 'phone' || type === 'ga_client_id') return type;
  if (type.endsWith('_sha256')) return 'sha256';
  return 'trim';
}

/** The `identity:` section (already validated against the schema) with defaults applied. */
export function resolveIdentityConfig(section: JsonObject | undefined): IdentityConfig {
  const raw: Raw = section ?? {};
  const types: CustomType[] = ((raw.types ?? []) as (string | Raw)[]).map((t) =>
    typeof t === 'string' ? { name: t, normalize: 'trim' } : { name: t.name, normalize: t.normalize ?? 'trim' },
  );
  const neverAlone: string[] = raw.never_alone ?? DEFAULT_NEVER_ALONE;
  const strength: string[] = raw.strength ?? [...DEFAULT_STRENGTH.slice(0, 4), ...types.map((t) => t.name), ...DEFAULT_STRENGTH.slice(4)];
  const maxPerPerson: Record<string, number> = { ...DEFAULT_MAX_PER_PERSON };
  for (const [type, max] of Object.entries((raw.max_per_person ?? {}) as Record<string, number | null>)) {
    if (max === null) delete maxPerPerson[type];
    else maxPerPerson[type] = max;
  }
  const blocklist: BlockEntry[] = [];
  if (raw.default_blocklist !== false) {
    blocklist.push(...DEFAULT_BLOCKED_VALUES.map((value) => ({ value })));
    blocklist.push(...DEFAULT_BLOCKED_PATTERNS.map((pattern) => ({ pattern })));
  }
  ((raw.blocklist ?? []) as (string | Raw)[]).forEach((entry, index) => {
    blocklist.push(typeof entry === 'string' ? { value: entry, index } : { ...(entry as BlockEntry), index });
  });
  const neverLink = (raw.never_link ?? []) as Raw[];
  return {
    ...(raw.default_region ? { default_region: String(raw.default_region).toUpperCase() } : {}),
    hash: raw.hash ?? [],
    types,
    strength: strength.filter((t) => !neverAlone.includes(t)),
    never_alone: neverAlone,
    blocklist,
    max_per_person: maxPerPerson,
    max_component_size: raw.max_component_size ?? DEFAULT_MAX_COMPONENT_SIZE,
    never_link_pairs: neverLink.flatMap((r, index) =>
      Array.isArray(r.identifiers) ? [{ a: r.identifiers[0], b: r.identifiers[1], index, ...(r.reason ? { reason: r.reason } : {}) }] : [],
    ),
    never_link_values: neverLink.flatMap((r, index) => (typeof r.identifier === 'string' ? [{ identifier: r.identifier, index, ...(r.reason ? { reason: r.reason } : {}) }] : [])),
    max_rounds: DEFAULT_MAX_ROUNDS,
  };
}

/** `type:value` → its parts (the value may itself contain colons). */
export function parseTypedIdentifier(text: string): { type: string; value: string } | undefined {
  const at = text.indexOf(':');
  if (at <= 0) return undefined;
  return { type: text.slice(0, at).trim(), value: text.slice(at + 1) };
}

/**
 * Strength rank of a type, 1 = strongest. Types in `strength` in order (a `<t>_sha256` type with its
 * base `t`), then every other type in one shared rank, then the never_alone types in the weakest.
 */
export function rankOf(config: IdentityConfig, type: string): number {
  if (config.never_alone.includes(type)) return weakRank(config);
  const base = type.endsWith('_sha256') ? type.slice(0, -'_sha256'.length) : type;
  const i = config.strength.indexOf(type);
  const j = i >= 0 ? i : config.strength.indexOf(base);
  return j >= 0 ? j + 1 : config.strength.length + 1;
}

/** The rank of never_alone types: always the weakest. */
export function weakRank(config: IdentityConfig): number {
  return config.strength.length + 2;
}

/** Whether identifiers of this type count toward max_component_size (click ids and derived hashes do not). */
export function countsTowardSize(config: IdentityConfig, type: string): boolean {
  if (config.never_alone.includes(type)) return false;
  return !(type.endsWith('_sha256') && config.hash.includes(type.slice(0, -'_sha256'.length)));
}

/** Identifies what stitching depends on: a different hash makes the next run recompute every person. */
export function identityConfigHash(config: IdentityConfig): string {
  const { default_region: _r, hash: _h, types: _t, max_rounds: _m, ...stitching } = config;
  return createHash('sha256').update(JSON.stringify({ v: STITCH_VERSION, stitching, hashed: config.hash })).digest('hex').slice(0, 16);
}

/** Bumped when the stitching SQL changes what it produces: stored persons are then recomputed. */
export const STITCH_VERSION = 1;

/** Checks what the schema cannot: regular expressions compile, never_link rules name `type:value`. */
export function checkIdentityConfig(config: IdentityConfig, where: (path: (string | number)[]) => string): void {
  for (const entry of config.blocklist) {
    if (entry.pattern === undefined) continue;
    try {
      RegExp(entry.pattern);
    } catch (error) {
      throw new ConfigError(`blocklist pattern ${JSON.stringify(entry.pattern)} is not a valid regular expression: ${(error as Error).message}`, {
        where: where(entry.index === undefined ? ['identity'] : ['identity', 'blocklist', entry.index]),
        hint: 'use the regular-expression subset both DuckDB (RE2) and PostgreSQL understand: classes, anchors, alternation; no look-around or back-references',
      });
    }
  }
  const rules = [...config.never_link_pairs.flatMap((p) => [{ text: p.a, index: p.index }, { text: p.b, index: p.index }]), ...config.never_link_values.map((v) => ({ text: v.identifier, index: v.index }))];
  for (const rule of rules) {
    if (!parseTypedIdentifier(rule.text)) {
      throw new ConfigError(`never_link identifier ${JSON.stringify(rule.text)} must be written type:value`, {
        where: where(['identity', 'never_link', rule.index]),
        hint: 'e.g. email:anna@example.com or ga_client_id:1234567.1700000000',
      });
    }
  }
}
