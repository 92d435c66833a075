// Identifier normalisation: the same person must produce the same identifier whichever system saw
// them, so values are brought to one canonical form before they are stored (the loader calls this for
// every event and link). Pure: typed identifiers in, canonical identifiers out, plus the ones dropped
// and why (an invalid phone is reported, never a crash). Emails are trimmed and lower-cased, phones
// become E.164 (libphonenumber-js, "max" metadata so validity means a real number plan, not just a
// plausible length), GA cookie values lose their `GA1.2.` prefix, and `hash: [email]` adds an
// `email_sha256` identifier so sources that only send hashes still join.
import { createHash } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { CountryCode } from 'libphonenumber-js/max';
import type { Identifier, JsonObject } from '../sdk/types.ts';
import { normalizeRuleOf, resolveIdentityConfig } from './config.ts';
import type { CustomType, NormalizeRule } from './config.ts';

export type DropReason = 'empty' | 'too_long' | 'invalid_email' | 'invalid_phone' | 'invalid_hash';

export interface NormalizeOptions {
  /** ISO 3166 region for phone numbers written without a country code (`PL`, `US`). */
  defaultRegion?: string;
  /** Types that also yield `<type>_sha256`. */
  hash?: readonly string[];
  types?: readonly CustomType[];
}

export interface Normalized {
  identifiers: Identifier[];
  dropped: { type: string; reason: DropReason }[];
}

export type IdentifierNormalizer = (ids: readonly { type: string; value: unknown }[] | undefined) => Normalized;

/**
 * Longest value kept. PostgreSQL's btree rejects index entries over ~2700 bytes, and no real
 * identifier is this long: a longer value is a mapping mistake (a whole JSON blob, a URL).
 */
export const MAX_VALUE_LENGTH = 512;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const SHA256 = /^[0-9a-f]{64}$/;
// The _ga cookie holds `GA1.<domain depth>.<client id>`; GA4 exports and gtag report the client id alone.
const GA_COOKIE = /^GA\d+\.\d+\.(\d+\.\d+)$/i;

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** One value's canonical form under a rule, or why it was dropped. */
export function normalizeValue(rule: NormalizeRule, input: unknown, defaultRegion?: string): { value: string } | { dropped: DropReason } {
  if (input === undefined || input === null) return { dropped: 'empty' };
  let value = String(input).normalize('NFC').trim();
  switch (rule) {
    case 'email':
      value = value.replace(/^mailto:/i, '').trim().toLowerCase();
      if (value !== '' && !SHA256.test(value) && !EMAIL.test(value)) return { dropped: 'invalid_email' };
      break;
    case 'phone':
      value = normalizePhone(value, defaultRegion) ?? '';
      if (value === '' && String(input).trim() !== '') return { dropped: 'invalid_phone' };
      break;
    case 'ga_client_id':
      value = GA_COOKIE.exec(value)?.[1] ?? value;
      break;
    case 'sha256':
      value = value.toLowerCase();
      if (value !== '' && !SHA256.test(value)) return { dropped: 'invalid_hash' };
      break;
    case 'lowercase':
      value = value.toLowerCase();
      break;
    case 'digits':
      value = value.replace(/\D/g, '');
      break;
    case 'trim':
      break;
  }
  if (value === '') return { dropped: 'empty' };
  if (value.length > MAX_VALUE_LENGTH) return { dropped: 'too_long' };
  return { value };
}

function normalizePhone(text: string, defaultRegion?: string): string | undefined {
  if (SHA256.test(text.toLowerCase())) return text.toLowerCase();
  let value = text.replace(/^tel:/i, '').trim();
  // Without a default region only international numbers parse; `00` is the international prefix in
  // most of the world (not in North America, where numbers need the region or a `+` anyway).
  if (!defaultRegion && value.startsWith('00')) value = `+${value.slice(2)}`;
  const parsed = parsePhoneNumberFromString(value, defaultRegion as CountryCode | undefined);
  return parsed?.isValid() ? parsed.number : undefined;
}

/**
 * A normaliser for a pipeline's `identity:` section. Phone parsing is the costly part, so recent
 * results are remembered (one contact's number recurs on every activity row).
 */
export function createNormalizer(options: NormalizeOptions = {}): IdentifierNormalizer {
  const hash = new Set(options.hash ?? []);
  const types = options.types ?? [];
  const cache = new Map<string, { value: string } | { dropped: DropReason }>();
  const normalizeCached = (rule: NormalizeRule, raw: unknown) => {
    if (rule !== 'phone') return normalizeValue(rule, raw, options.defaultRegion);
    const key = String(raw);
    let hit = cache.get(key);
    if (!hit) {
      if (cache.size >= 10_000) cache.clear();
      hit = normalizeValue(rule, raw, options.defaultRegion);
      cache.set(key, hit);
    }
    return hit;
  };
  return (ids) => {
    const out = new Map<string, Identifier>();
    const dropped: Normalized['dropped'] = [];
    for (const id of ids ?? []) {
      if (id === null || id === undefined || id.type === undefined || id.type === null) continue;
      let type = String(id.type).trim().toLowerCase();
      if (type === '') continue;
      const result = normalizeCached(normalizeRuleOf(type, types), id.value);
      if ('dropped' in result) {
        dropped.push({ type, reason: result.dropped });
        continue;
      }
      // A source that already hashed its emails (a 64-hex "email") joins the hashed form.
      if ((type === 'email' || type === 'phone') && SHA256.test(result.value)) type = `${type}_sha256`;
      out.set(`${type}\u0000${result.value}`, { type, value: result.value });
      if (hash.has(type)) {
        const hashed = { type: `${type}_sha256`, value: sha256Hex(result.value) };
        out.set(`${hashed.type}\u0000${hashed.value}`, hashed);
      }
    }
    return { identifiers: [...out.values()], dropped };
  };
}

/** The normaliser for a pipeline's `identity:` section (defaults when there is none). */
export function normalizerFor(section: JsonObject | undefined): IdentifierNormalizer {
  const config = resolveIdentityConfig(section);
  return createNormalizer({ defaultRegion: config.default_region, hash: config.hash, types: config.types });
}

/** Normalises one identifier a user typed (`type:value` in the CLI or a never_link rule). */
export function normalizeOne(type: string, value: string, options: NormalizeOptions = {}): Identifier[] {
  return createNormalizer({ ...options, hash: [] })([{ type, value }]).identifiers;
}
