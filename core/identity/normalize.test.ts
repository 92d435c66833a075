// Identifier normalisation (pure), the identity settings' defaults and checks, and the loader's use
// of the normaliser: what reaches identifier_observations is already canonical.
import { describe, expect, it } from 'vitest';
import { toStoredRows } from '../engine/extract.ts';
import { ConfigError } from '../errors.ts';
import { checkIdentityConfig, countsTowardSize, identityConfigHash, rankOf, resolveIdentityConfig, weakRank } from './config.ts';
import { createNormalizer, normalizeValue, normalizerFor, sha256Hex } from './normalize.ts';

describe('normalizeValue', () => {
  it('trims and lower-cases emails, strips mailto:, and drops what is no email', () => {
    expect(normalizeValue('email', '  Anna.Nowak@Example.PL ')).toEqual({ value: 'anna.nowak@example.pl' });
    expect(normalizeValue('email', 'mailto:JAN@x.com')).toEqual({ value: 'jan@x.com' });
    expect(normalizeValue('email', 'n/a')).toEqual({ dropped: 'invalid_email' });
    expect(normalizeValue('email', '   ')).toEqual({ dropped: 'empty' });
    expect(normalizeValue('email', null)).toEqual({ dropped: 'empty' });
  });

  it('brings phones to E.164 with the default region, and drops invalid ones', () => {
    expect(normalizeValue('phone', '601 234 567', 'PL')).toEqual({ value: '+48601234567' });
    expect(normalizeValue('phone', '+48 601-234-567')).toEqual({ value: '+48601234567' });
    expect(normalizeValue('phone', '0048 601 234 567')).toEqual({ value: '+48601234567' });
    expect(normalizeValue('phone', '(415) 555-2671', 'US')).toEqual({ value: '+14155552671' });
    expect(normalizeValue('phone', 'tel:+1-415-555-2671')).toEqual({ value: '+14155552671' });
    // Without a region a local number cannot be placed; too short is never valid.
    expect(normalizeValue('phone', '601 234 567')).toEqual({ dropped: 'invalid_phone' });
    expect(normalizeValue('phone', '123', 'PL')).toEqual({ dropped: 'invalid_phone' });
    expect(normalizeValue('phone', 'unknown', 'PL')).toEqual({ dropped: 'invalid_phone' });
  });

  it('strips the _ga cookie prefix from GA client ids, keeps click ids case-sensitive', () => {
    expect(normalizeValue('ga_client_id', 'GA1.2.1234567890.1700000000')).toEqual({ value: '1234567890.1700000000' });
    expect(normalizeValue('ga_client_id', ' 1234567890.1700000000 ')).toEqual({ value: '1234567890.1700000000' });
    expect(normalizeValue('trim', ' Cj0KCQiA-AbC ')).toEqual({ value: 'Cj0KCQiA-AbC' });
  });

  it('checks hashes, keeps digits, and refuses values no identifier has', () => {
    const hash = sha256Hex('anna@example.pl');
    expect(normalizeValue('sha256', hash.toUpperCase())).toEqual({ value: hash });
    expect(normalizeValue('sha256', 'abc')).toEqual({ dropped: 'invalid_hash' });
    expect(normalizeValue('digits', 'LOY-12 34')).toEqual({ value: '1234' });
    expect(normalizeValue('lowercase', ' ABC ')).toEqual({ value: 'abc' });
    expect(normalizeValue('trim', 'x'.repeat(513))).toEqual({ dropped: 'too_long' });
  });
});

describe('createNormalizer', () => {
  it('normalises a record\'s identifiers by type, de-duplicates, and reports what it drops', () => {
    const normalize = createNormalizer({ defaultRegion: 'PL', types: [{ name: 'loyalty_id', normalize: 'digits' }] });
    expect(
      normalize([
        { type: 'Email', value: 'A@X.com' },
        { type: 'email', value: ' a@x.com' },
        { type: 'phone', value: '601234567' },
        { type: 'phone', value: '12' },
        { type: 'loyalty_id', value: 'L-0042' },
        { type: 'custom_thing', value: ' Keep Case ' },
        { type: 'gclid', value: '' },
      ]),
    ).toEqual({
      identifiers: [
        { type: 'email', value: 'a@x.com' },
        { type: 'phone', value: '+48601234567' },
        { type: 'loyalty_id', value: '0042' },
        { type: 'custom_thing', value: 'Keep Case' },
      ],
      dropped: [
        { type: 'phone', reason: 'invalid_phone' },
        { type: 'gclid', reason: 'empty' },
      ],
    });
  });

  it('adds SHA-256 forms for hashed types, and takes a hashed email for what it is', () => {
    const normalize = createNormalizer({ hash: ['email'] });
    const hash = sha256Hex('a@x.com');
    expect(normalize([{ type: 'email', value: ' A@x.com ' }]).identifiers).toEqual([
      { type: 'email', value: 'a@x.com' },
      { type: 'email_sha256', value: hash },
    ]);
    // A PII-free source sending the hash (as email, or as email_sha256) joins the same identifier.
    expect(createNormalizer()([{ type: 'email', value: hash.toUpperCase() }]).identifiers).toEqual([{ type: 'email_sha256', value: hash }]);
    expect(createNormalizer()([{ type: 'email_sha256', value: ` ${hash} ` }]).identifiers).toEqual([{ type: 'email_sha256', value: hash }]);
  });
});

describe('loading normalises identifiers (toStoredRows)', () => {
  it('stores canonical values and counts what the normaliser dropped', () => {
    const dropped = new Map<string, number>();
    const normalize = normalizerFor({ default_region: 'PL' });
    const rows = toStoredRows(
      {
        events: [{ id: 'e1', occurred_at: '2025-01-01T00:00:00Z', kind: 'touch', name: 'form_submit', identifiers: [{ type: 'email', value: ' Anna@X.com ' }, { type: 'phone', value: 'brak' }] }],
        links: [{ identifiers: [{ type: 'phone', value: '601 234 567' }, { type: 'email', value: '' }] }],
      },
      'web',
      'events',
      'pk1',
      normalize,
      dropped,
    );
    if (typeof rows === 'string') throw new Error(rows);
    expect(rows.events[0].identifiers).toEqual([{ type: 'email', value: 'anna@x.com' }]);
    expect(rows.links[0].identifiers).toEqual([{ type: 'phone', value: '+48601234567' }]);
    expect(Object.fromEntries(dropped)).toEqual({ 'phone: invalid_phone': 1 });
  });
});

describe('identity settings', () => {
  it('fills the defaults: guards, strength order, blocklist', () => {
    const config = resolveIdentityConfig(undefined);
    expect(config.never_alone).toEqual(['gclid', 'fbclid']);
    expect(config.max_per_person).toEqual({ hubspot_contact_id: 1, user_id: 1 });
    expect(config.max_component_size).toBe(50);
    expect(config.strength).toEqual(['user_id', 'hubspot_contact_id', 'email', 'phone', 'ga_client_id']);
    expect(config.blocklist.some((b) => b.value === 'test@test.com')).toBe(true);
    expect(rankOf(config, 'user_id')).toBe(1);
    expect(rankOf(config, 'email_sha256')).toBe(rankOf(config, 'email'));
    expect(rankOf(config, 'loyalty_id')).toBe(6);
    expect(rankOf(config, 'gclid')).toBe(weakRank(config));
    expect(countsTowardSize(config, 'gclid')).toBe(false);
    expect(countsTowardSize(config, 'ga_client_id')).toBe(true);
  });

  it('merges limits (null removes one), places declared types before devices, and drops the default blocklist on request', () => {
    const config = resolveIdentityConfig({ types: ['loyalty_id'], max_per_person: { email: 3, user_id: null }, default_blocklist: false, blocklist: ['info@acme.example'] });
    expect(config.max_per_person).toEqual({ hubspot_contact_id: 1, email: 3 });
    expect(config.strength).toEqual(['user_id', 'hubspot_contact_id', 'email', 'phone', 'loyalty_id', 'ga_client_id']);
    expect(config.blocklist).toEqual([{ value: 'info@acme.example', index: 0 }]);
    expect(identityConfigHash(config)).not.toBe(identityConfigHash(resolveIdentityConfig({})));
    // Normalisation settings apply at load time: they do not force a recompute.
    expect(identityConfigHash(resolveIdentityConfig({ default_region: 'PL' }))).toBe(identityConfigHash(resolveIdentityConfig({})));
  });

  it('rejects a broken regular expression or a never_link identifier without a type, at its place in the file', () => {
    const where = (path: (string | number)[]) => `p.yaml:${path.join('.')}`;
    expect(() => checkIdentityConfig(resolveIdentityConfig({ blocklist: [{ pattern: '(' }] }), where)).toThrow(ConfigError);
    try {
      checkIdentityConfig(resolveIdentityConfig({ never_link: [{ identifier: 'anna' }] }), where);
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).format()).toBe('p.yaml:identity.never_link.0: never_link identifier "anna" must be written type:value\n  hint: e.g. email:anna@example.com or ga_client_id:1234567.1700000000');
    }
  });
});
