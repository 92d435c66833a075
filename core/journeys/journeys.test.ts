// Journey assembly on both engines, from hand-built persons whose journeys are known: touches
// before a conversion, conversions splitting touches, the lookback, open journeys, stages, sessions,
// the person of an event whose identifiers belong to two persons, configured conversions.
import { afterEach, expect, it } from 'vitest';
import { openStore } from '../store/index.ts';
import { describeEachEngine } from '../store/test-support.ts';
import type { Store } from '../store/types.ts';
import { addEvents, addRun, build, outline, setIdentity } from './test-support.ts';
import type { EventSpec } from './test-support.ts';

const email = (person: string): [string, string] => ['email', `${person}@example.com`];

describeEachEngine('journeys', (engine) => {
  const open: Store[] = [];
  afterEach(async () => {
    while (open.length > 0) await open.pop()!.close();
  });

  /** A store with one run `r1`, persons p1… (each with an email), and these events. */
  async function world(persons: string[], events: EventSpec[]): Promise<Store> {
    const store = await openStore({ url: await engine.freshUrl() });
    open.push(store);
    await store.migrate();
    await addRun(store, 'r1');
    await setIdentity(store, 'r1', Object.fromEntries(persons.map((p) => [p, [email(p)]])));
    await addEvents(store, 'r1', events);
    return store;
  }
  const touch = (id: string, at: string, person: string, extra: Partial<EventSpec> = {}): EventSpec => ({ id, at, ids: [email(person)], ...extra });
  const buy = (id: string, at: string, person: string, extra: Partial<EventSpec> = {}): EventSpec => ({ id, at, kind: 'conversion', name: 'purchase', ids: [email(person)], ...extra });

  it('a conversion closes the journey of the touches before it', async () => {
    const store = await world(['p1'], [
      touch('t1', '2025-01-01T10:00:00Z', 'p1', { channel: 'Paid Search', campaign: 'brand', source_medium: 'google / cpc', device: 'mobile' }),
      touch('t2', '2025-01-03T10:00:00Z', 'p1', { channel: 'Email', campaign: 'newsletter' }),
      buy('c1', '2025-01-05T10:00:00Z', 'p1', { value: 120, currency: 'EUR' }),
    ]);
    const summary = await build(store, 'r1');
    expect(summary).toMatchObject({ mode: 'full', persons_rebuilt: 1, journeys: 1, open_journeys: 0, touchpoints: 3, events_without_person: 0 });
    expect(await outline(store, 'p1')).toEqual(['converted:purchase [t1 t2 c1]']);
    const [journey] = await store.knex('journeys').select('*');
    expect(journey).toMatchObject({
      journey_id: 'p1:1', person_id: 'p1', status: 'converted', journey_number: 1, conversion_event_id: 'c1', conversion_name: 'purchase',
      conversion_value: 120, conversion_currency: 'EUR', touch_count: 2, first_touch_channel: 'Paid Search', first_touch_campaign: 'brand',
      first_touch_source_medium: 'google / cpc', first_touch_device: 'mobile', last_touch_channel: 'Email', last_touch_campaign: 'newsletter', run_id: 'r1',
    });
    expect(new Date(journey.conversion_at).toISOString()).toBe('2025-01-05T10:00:00.000Z');
    expect(new Date(journey.started_at).toISOString()).toBe('2025-01-01T10:00:00.000Z');
    const positions = await store.knex('journey_touchpoints').orderBy('position').select('position', 'event_id', 'is_conversion', 'channel');
    expect(positions).toEqual([
      { position: 1, event_id: 't1', is_conversion: false, channel: 'Paid Search' },
      { position: 2, event_id: 't2', is_conversion: false, channel: 'Email' },
      // No channel on the event: Unassigned.
      { position: 3, event_id: 'c1', is_conversion: true, channel: 'Unassigned' },
    ]);
  });

  it('two conversions split the touches, and touches after the last one form the open journey', async () => {
    const store = await world(['p1'], [
      touch('t1', '2025-01-01T10:00:00Z', 'p1'),
      buy('c1', '2025-01-02T10:00:00Z', 'p1'),
      touch('t2', '2025-01-03T10:00:00Z', 'p1'),
      touch('t3', '2025-01-04T10:00:00Z', 'p1'),
      buy('c2', '2025-01-05T10:00:00Z', 'p1'),
      touch('t4', '2025-01-06T10:00:00Z', 'p1'),
    ]);
    expect(await build(store, 'r1')).toMatchObject({ journeys: 2, open_journeys: 1, touchpoints: 6 });
    expect(await outline(store, 'p1')).toEqual(['converted:purchase [t1 c1]', 'converted:purchase [t2 t3 c2]', 'open [t4]']);
    const journeys = await store.knex('journeys').orderBy('journey_number').select('journey_id', 'status', 'touch_count', 'conversion_event_id');
    expect(journeys).toEqual([
      { journey_id: 'p1:1', status: 'converted', touch_count: 1, conversion_event_id: 'c1' },
      { journey_id: 'p1:2', status: 'converted', touch_count: 2, conversion_event_id: 'c2' },
      { journey_id: 'p1:3', status: 'open', touch_count: 1, conversion_event_id: null },
    ]);
  });

  it('a touch at the instant of the conversion comes before it; a conversion with no touch is a journey of one', async () => {
    const store = await world(['p1', 'p2'], [
      buy('c1', '2025-01-02T10:00:00Z', 'p1'),
      touch('z-same-time', '2025-01-02T10:00:00Z', 'p1'),
      buy('c2', '2025-01-02T10:00:00Z', 'p2'),
    ]);
    await build(store, 'r1');
    expect(await outline(store, 'p1')).toEqual(['converted:purchase [z-same-time c1]']);
    expect(await outline(store, 'p2')).toEqual(['converted:purchase [c2]']);
    const [lone] = await store.knex('journeys').where({ person_id: 'p2' }).select('touch_count', 'first_touch_channel', 'last_touch_channel');
    expect(lone).toEqual({ touch_count: 0, first_touch_channel: null, last_touch_channel: null });
  });

  it('leaves out touches older than the lookback before their conversion', async () => {
    const events = [
      touch('old', '2025-01-01T10:00:00Z', 'p1'),
      touch('recent', '2025-04-20T10:00:00Z', 'p1'),
      buy('c1', '2025-05-01T10:00:00Z', 'p1'),
    ];
    const store = await world(['p1'], events);
    expect(await build(store, 'r1')).toMatchObject({ touchpoints: 2 });
    expect(await outline(store, 'p1')).toEqual(['converted:purchase [recent c1]']);
    const [{ touch_count, started_at }] = await store.knex('journeys').select('touch_count', 'started_at');
    expect([touch_count, new Date(started_at).toISOString()]).toEqual([1, '2025-04-20T10:00:00.000Z']);
    // 150 days back reach it.
    await addRun(store, 'r2');
    expect(await build(store, 'r2', { lookback_days: 150 })).toMatchObject({ mode: 'full', touchpoints: 3 });
    expect(await outline(store, 'p1')).toEqual(['converted:purchase [old recent c1]']);
  });

  it('touches with no conversion after them form one open journey per person', async () => {
    const store = await world(['p1'], [touch('t1', '2025-01-01T10:00:00Z', 'p1'), touch('t2', '2025-03-01T10:00:00Z', 'p1')]);
    expect(await build(store, 'r1')).toMatchObject({ journeys: 0, open_journeys: 1 });
    const [journey] = await store.knex('journeys').select('journey_id', 'status', 'conversion_event_id', 'conversion_at', 'touch_count', 'journey_number');
    expect(journey).toEqual({ journey_id: 'p1:1', status: 'open', conversion_event_id: null, conversion_at: null, touch_count: 2, journey_number: 1 });
  });

  it('maps stages with the default rules', async () => {
    const store = await world(['p1'], [
      touch('ad', '2025-01-01T10:00:00Z', 'p1', { channel: 'Paid Social' }),
      touch('home', '2025-01-01T12:00:00Z', 'p1', { channel: 'Direct', properties: { page_path: '/' } }),
      touch('product', '2025-01-02T10:00:00Z', 'p1', { channel: 'Organic Search', properties: { page_path: '/products/thermostat' } }),
      touch('newsletter', '2025-01-03T10:00:00Z', 'p1', { channel: 'Email' }),
      touch('pricing', '2025-01-04T10:00:00Z', 'p1', { channel: 'Direct', properties: { page_location: 'https://shop.example/pricing?x=1' } }),
      touch('cart', '2025-01-04T10:05:00Z', 'p1', { name: 'add_to_cart', channel: 'Paid Search' }),
      buy('c1', '2025-01-04T10:10:00Z', 'p1'),
      touch('after', '2025-02-01T10:00:00Z', 'p1', { channel: 'Paid Search' }),
    ]);
    await build(store, 'r1');
    const stages = await store.knex('journey_touchpoints').orderBy('occurred_at').select('event_id', 'stage');
    expect(Object.fromEntries(stages.map((s: { event_id: string; stage: string }) => [s.event_id, s.stage]))).toEqual({
      ad: 'awareness', home: 'awareness', product: 'consideration', newsletter: 'consideration', pricing: 'decision', cart: 'decision', c1: 'purchase', after: 'retention',
    });
  });

  it('maps stages with configured rules, in order, and a default stage', async () => {
    const store = await world(['p1'], [
      touch('webinar', '2025-01-01T10:00:00Z', 'p1', { channel: 'Paid Social', properties: { form_id: 'webinar' } }),
      touch('call', '2025-01-02T10:00:00Z', 'p1', { name: 'call', channel: 'Sales Call' }),
      touch('visit', '2025-01-03T10:00:00Z', 'p1', { channel: 'Direct' }),
    ]);
    await build(store, 'r1', {
      stages: [
        { stage: 'consideration', property: { name: 'form_id', values: ['webinar'] } },
        { stage: 'decision', events: ['call'], channels: ['Sales Call'] },
        { stage: 'decision', channels: ['Paid Social'] },
      ],
      default_stage: 'awareness',
    });
    const stages = await store.knex('journey_touchpoints').orderBy('occurred_at').pluck('stage');
    expect(stages).toEqual(['consideration', 'decision', 'awareness']);
  });

  it('takes session_id as the session, and sessionises the others by 30 minutes of inactivity', async () => {
    const events = [
      touch('a', '2025-01-01T10:00:00Z', 'p1', { session: 'web-1' }),
      touch('b', '2025-01-01T10:10:00Z', 'p1'),
      touch('c', '2025-01-01T10:30:00Z', 'p1', { session: 'web-1' }),
      touch('d', '2025-01-01T10:35:00Z', 'p1'),
      touch('e', '2025-01-01T11:06:00Z', 'p1'),
      touch('f', '2025-01-01T11:20:00Z', 'p1'),
    ];
    const store = await world(['p1'], events);
    await build(store, 'r1');
    const keys = async () => Object.fromEntries((await store.knex('journey_touchpoints').select('event_id', 'session_key')).map((r: { event_id: string; session_key: string }) => [r.event_id, r.session_key]));
    // b→d is 25 minutes: one session; d→e is 31: a new one.
    expect(await keys()).toEqual({ a: 'web-1', b: 's:p1:1', c: 'web-1', d: 's:p1:1', e: 's:p1:2', f: 's:p1:2' });
    expect(await store.knex('journeys').first('session_count')).toEqual({ session_count: 3 });
    await addRun(store, 'r2');
    await build(store, 'r2', { session_timeout_minutes: 20 });
    expect(await keys()).toEqual({ a: 'web-1', b: 's:p1:1', c: 'web-1', d: 's:p1:2', e: 's:p1:3', f: 's:p1:3' });
  });

  it('gives an event whose identifiers belong to two persons to the higher-priority identifier, then the smaller person id', async () => {
    const store = await openStore({ url: await engine.freshUrl() });
    open.push(store);
    await store.migrate();
    await addRun(store, 'r1');
    await setIdentity(store, 'r1', {
      pB: [['email', 'b@example.com'], ['ga_client_id', 'gB']],
      pA: [['ga_client_id', 'gA'], ['phone', '+4930123']],
      pC: [['ga_client_id', 'gC']],
    });
    await addEvents(store, 'r1', [
      { id: 'email-beats-client', at: '2025-01-01T10:00:00Z', ids: [['ga_client_id', 'gA'], ['email', 'b@example.com']] },
      { id: 'two-clients', at: '2025-01-01T11:00:00Z', ids: [['ga_client_id', 'gC'], ['ga_client_id', 'gA']] },
      { id: 'unknown-type-last', at: '2025-01-01T12:00:00Z', ids: [['fbclid', 'x'], ['phone', '+4930123']] },
      { id: 'nobody', at: '2025-01-01T13:00:00Z', ids: [['ga_client_id', 'unknown']] },
      { id: 'no-identifiers', at: '2025-01-01T14:00:00Z' },
    ]);
    await store.knex('identity_map').insert({ identifier_type: 'fbclid', identifier_value: 'x', person_id: 'pC' });
    const owners = async () => Object.fromEntries((await store.knex('journey_touchpoints').select('event_id', 'person_id')).map((r: { event_id: string; person_id: string }) => [r.event_id, r.person_id]));
    expect(await build(store, 'r1')).toMatchObject({ events_without_person: 2 });
    expect(await owners()).toEqual({ 'email-beats-client': 'pB', 'two-clients': 'pA', 'unknown-type-last': 'pA' });
    await addRun(store, 'r2');
    await build(store, 'r2', { identifier_priority: ['ga_client_id', 'fbclid'] });
    expect(await owners()).toEqual({ 'email-beats-client': 'pA', 'two-clients': 'pA', 'unknown-type-last': 'pC' });
  });

  it('uses configured conversions: event names, CRM deal stages, fixed value and currency', async () => {
    const store = await world(['p1', 'p2'], [
      touch('lead', '2025-01-01T10:00:00Z', 'p1', { kind: 'conversion', name: 'form_submit' }),
      touch('deal-created', '2025-01-02T10:00:00Z', 'p1', { kind: 'other', name: 'deal_open', properties: { dealstage: 'qualifiedtobuy' } }),
      touch('deal-won', '2025-01-20T10:00:00Z', 'p1', { kind: 'other', name: 'deal_updated', value: 5000, currency: 'EUR', properties: { dealstage: 'closedwon' } }),
      touch('visit', '2025-01-01T10:00:00Z', 'p2'),
      buy('order', '2025-01-02T10:00:00Z', 'p2', { value: 80, currency: 'USD' }),
      touch('signup', '2025-01-03T10:00:00Z', 'p2', { name: 'sign_up' }),
    ]);
    const summary = await build(store, 'r1', {
      conversions: ['purchase', { name: 'deal', deal_stages: ['closedwon'], stage_property: 'dealstage' }, { name: 'signup', events: ['sign_up'], value: 10, currency: 'EUR' }],
      touch_events: ['deal_open'],
    });
    expect(summary).toMatchObject({ journeys: 3, open_journeys: 0 });
    // form_submit (kind conversion, not configured) is a touch; deal_open is one by name.
    expect(await outline(store, 'p1')).toEqual(['converted:deal [lead deal-created deal-won]']);
    expect(await outline(store, 'p2')).toEqual(['converted:purchase [visit order]', 'converted:signup [signup]']);
    const values = await store.knex('journeys').orderBy('journey_id').select('journey_id', 'conversion_value', 'conversion_currency');
    expect(values).toEqual([
      { journey_id: 'p1:1', conversion_value: 5000, conversion_currency: 'EUR' },
      { journey_id: 'p2:1', conversion_value: 80, conversion_currency: 'USD' },
      { journey_id: 'p2:2', conversion_value: 10, conversion_currency: 'EUR' },
    ]);
  });

  it('keeps only the configured kinds and events as touches', async () => {
    const store = await world(['p1'], [
      touch('touch', '2025-01-01T10:00:00Z', 'p1'),
      touch('other', '2025-01-01T11:00:00Z', 'p1', { kind: 'other', name: 'scroll' }),
      touch('excluded', '2025-01-01T12:00:00Z', 'p1', { name: 'user_engagement' }),
    ]);
    await build(store, 'r1', { exclude_events: ['user_engagement'] });
    expect(await outline(store, 'p1')).toEqual(['open [touch]']);
    await addRun(store, 'r2');
    await build(store, 'r2', { touch_kinds: ['touch', 'other'] });
    expect(await outline(store, 'p1')).toEqual(['open [touch other excluded]']);
  });
});
