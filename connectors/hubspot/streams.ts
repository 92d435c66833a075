// The HubSpot streams: six CRM objects read the same way, and form submissions. A CRM stream's first
// run (or a full refresh) lists every record with the list API, then the archived ones; later runs ask
// the search API for records modified since the cursor (minus `lookback`) and list the archived ones
// again to learn about deletions. Every page is one batch whose state says how to resume after it.
import { HttpError, advance, defineStream, parseDuration, startFrom, subtractDuration } from '../../core/sdk/index.ts';
import type { JsonObject, JsonSchema, ReadContext, RecordBatch, StreamDefinition } from '../../core/sdk/index.ts';
import { MAX_LIST_LIMIT, MAX_SEARCH_LIMIT, MAX_SUBMISSIONS_LIMIT, createHubSpotClient } from './client.ts';
import type { HubSpotClient } from './client.ts';
import { modifiedAt, modifiedSince } from './incremental.ts';
import { mapContact, mapDeal, mapEngagement, mapFormSubmission } from './map.ts';

export type CrmObject = 'contacts' | 'companies' | 'deals' | 'calls' | 'emails' | 'meetings';

export interface HubSpotConfig {
  access_token?: string;
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
  token_url?: string;
  base_url?: string;
  properties?: Partial<Record<CrmObject, string[]>>;
  ga_client_id_property?: string;
  won_stages?: string[];
  lost_stages?: string[];
  currency?: string;
  page_size?: number;
  lookback?: string;
  read_archived?: boolean;
  account_time_zone?: string;
}

/** A CRM record as stored: the API's object with dates as ISO strings and associations as id lists. */
export interface CrmRecord {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string | null;
  updatedAt: string | null;
  archived: boolean;
  archivedAt?: string | null;
  /** Associated record ids by object type (`contacts`), for deals and engagements. */
  associations?: Record<string, string[]>;
}

export interface FormSubmissionRecord {
  conversionId: string;
  formId: string;
  formName: string | null;
  /** Epoch milliseconds, as the submissions API sends it. */
  submittedAt: number;
  pageUrl: string | null;
  values: { name: string; value: string | null; objectTypeId?: string }[];
}

export const DEFAULT_LOOKBACK = 'PT10M';

interface ObjectSpec {
  object: CrmObject;
  description: string;
  /** The property search filters and sorts on (search guide: contacts use lastmodifieddate). */
  lastmod: string;
  associations: string[];
  /** Properties the mapping reads: always requested, whatever the config lists. */
  needs: string[];
  map?: StreamDefinition<HubSpotConfig, CrmRecord>['map'];
}

const ENGAGEMENT_NEEDS = ['hs_timestamp', 'hs_lastmodifieddate'];
export const OBJECTS: ObjectSpec[] = [
  { object: 'contacts', description: 'Contacts: identifier links (email, phone, HubSpot id, GA client id).', lastmod: 'lastmodifieddate', associations: [], needs: ['email', 'phone', 'mobilephone', 'lastmodifieddate'], map: mapContact },
  { object: 'companies', description: 'Companies (kept raw).', lastmod: 'hs_lastmodifieddate', associations: [], needs: ['name', 'domain', 'hs_lastmodifieddate'] },
  { object: 'deals', description: 'Deals with their contacts: deal_won conversions per contact, other stages as deal_open/deal_lost.', lastmod: 'hs_lastmodifieddate', associations: ['contacts'], needs: ['dealname', 'dealstage', 'pipeline', 'amount', 'closedate', 'createdate', 'deal_currency_code', 'hs_lastmodifieddate'], map: mapDeal },
  { object: 'calls', description: 'Logged calls: touches on the Sales Call channel.', lastmod: 'hs_lastmodifieddate', associations: ['contacts'], needs: [...ENGAGEMENT_NEEDS, 'hs_call_title', 'hs_call_direction', 'hs_call_status', 'hs_call_disposition', 'hs_call_duration'], map: mapEngagement('calls') },
  { object: 'emails', description: 'Logged and tracked emails: touches on the Sales Email channel.', lastmod: 'hs_lastmodifieddate', associations: ['contacts'], needs: [...ENGAGEMENT_NEEDS, 'hs_email_subject', 'hs_email_direction', 'hs_email_status'], map: mapEngagement('emails') },
  { object: 'meetings', description: 'Meetings: touches on the Meeting channel.', lastmod: 'hs_lastmodifieddate', associations: ['contacts'], needs: [...ENGAGEMENT_NEEDS, 'hs_meeting_title', 'hs_meeting_start_time', 'hs_meeting_end_time', 'hs_meeting_outcome'], map: mapEngagement('meetings') },
];

const DATE_TIME = { type: 'string', format: 'date-time' };
export const crmRecordSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'properties', 'createdAt', 'updatedAt', 'archived'],
  properties: {
    id: { type: 'string', pattern: '^[0-9]+$', description: 'HubSpot record id (hs_object_id).' },
    properties: { type: 'object', additionalProperties: { type: ['string', 'null'] }, description: 'Property values as HubSpot sends them: strings (numbers and dates too) or null.' },
    createdAt: DATE_TIME,
    updatedAt: DATE_TIME,
    archived: { type: 'boolean' },
    archivedAt: { anyOf: [DATE_TIME, { type: 'null' }] },
    associations: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string', pattern: '^[0-9]+$' } } },
  },
};

export const formSubmissionSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['conversionId', 'formId', 'submittedAt', 'values'],
  properties: {
    conversionId: { type: 'string', minLength: 1 },
    formId: { type: 'string', minLength: 1 },
    formName: { type: ['string', 'null'] },
    submittedAt: { type: 'integer', minimum: 0, description: 'Epoch milliseconds.' },
    pageUrl: { type: ['string', 'null'] },
    values: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'value'],
        additionalProperties: false,
        properties: { name: { type: 'string' }, value: { type: ['string', 'null'] }, objectTypeId: { type: 'string' } },
      },
    },
  },
};

export const streams: StreamDefinition<HubSpotConfig, any>[] = [
  ...OBJECTS.map((spec) =>
    defineStream<HubSpotConfig, CrmRecord>({
      name: spec.object,
      description: spec.description,
      primaryKey: ['id'],
      cursor: { field: 'updatedAt', lookback: DEFAULT_LOOKBACK },
      schema: crmRecordSchema,
      read: (ctx) => readObject(spec, ctx),
      map: spec.map,
    }),
  ),
  defineStream<HubSpotConfig, FormSubmissionRecord>({
    name: 'form_submissions',
    description: 'Form submissions of every HubSpot form (form-integrations v1): form_submit touches.',
    primaryKey: ['conversionId'],
    cursor: { field: 'submittedAt' },
    schema: formSubmissionSchema,
    read: readSubmissions,
    map: mapFormSubmission,
  }),
];

/** Committed state of a CRM stream. */
interface ObjectState {
  /** Records modified at or after this instant (minus lookback) are still to be read. */
  cursor?: string;
  /** Archived records archived at or after this instant (minus lookback) are still to be read. */
  archived_cursor?: string;
  /** An unfinished list of active records (first run) or archived records, and where it stopped. */
  pass?: { kind: 'list' | 'archived'; started_at: string; after?: string; all?: boolean };
}

async function propertiesFor(spec: ObjectSpec, client: HubSpotClient, config: HubSpotConfig): Promise<string[]> {
  const configured = config.properties?.[spec.object];
  const base = configured ?? (await client.propertyNames(spec.object));
  const needs = spec.object === 'contacts' && config.ga_client_id_property ? [...spec.needs, config.ga_client_id_property] : spec.needs;
  return [...new Set([...base, ...needs])];
}

async function* readObject(spec: ObjectSpec, ctx: ReadContext<HubSpotConfig>): AsyncGenerator<RecordBatch<CrmRecord>> {
  const config = ctx.config;
  const client = createHubSpotClient(ctx);
  const properties = await propertiesFor(spec, client, config);
  const lookback = config.lookback ?? DEFAULT_LOOKBACK;
  const listLimit = Math.min(config.page_size ?? MAX_LIST_LIMIT, MAX_LIST_LIMIT);
  const readArchived = config.read_archived ?? true;
  let s: ObjectState = ctx.fullRefresh ? {} : { ...(ctx.state as ObjectState) };

  if (s.cursor === undefined || s.pass?.kind === 'list') {
    // Changes made while we list are caught by the next run's search from the time the list began.
    const started = s.pass?.started_at ?? new Date().toISOString();
    let after = s.pass?.after;
    ctx.log.info(`${spec.object}: listing all records${after ? ' (resuming)' : ''}`);
    do {
      const page = await client.list(spec.object, { after, limit: listLimit, properties, associations: spec.associations, archived: false });
      after = page.next;
      if (after !== undefined) s = { pass: { kind: 'list', started_at: started, after } };
      else s = readArchived ? { cursor: started, pass: { kind: 'archived', started_at: started, all: true } } : { cursor: started };
      yield { records: page.results, state: s as JsonObject };
    } while (after !== undefined);
  } else {
    const from = startFrom({ state: { cursor: s.cursor }, cursor: { field: 'updatedAt', lookback }, options: ctx.options, fullRefresh: false });
    const search = (request: JsonObject) => client.search(spec.object, request);
    const limit = Math.min(config.page_size ?? MAX_SEARCH_LIMIT, MAX_SEARCH_LIMIT);
    for await (const records of modifiedSince(search, { lastmod: spec.lastmod, from: Date.parse(String(from)), properties, limit })) {
      for (const to of spec.associations) {
        const found = await client.associated(spec.object, to, records.map((r) => r.id));
        for (const r of records) r.associations = { ...r.associations, [to]: found.get(r.id) ?? [] };
      }
      // Pages come oldest first: resuming at the newest instant of this batch leaves nothing behind
      // (the search is inclusive, so records sharing that instant are read again).
      const newest = Math.max(...records.map((r) => modifiedAt(r, spec.lastmod, Number.NEGATIVE_INFINITY)));
      if (Number.isFinite(newest)) s = { ...s, ...advance({ cursor: s.cursor ?? null }, new Date(newest).toISOString()) } as ObjectState;
      yield { records, state: s as JsonObject };
    }
    if (readArchived && s.pass?.kind !== 'archived') s = { ...s, pass: { kind: 'archived', started_at: new Date().toISOString() } };
  }

  if (s.pass?.kind === 'archived') {
    const pass = s.pass;
    const since = pass.all || !s.archived_cursor ? undefined : Date.parse(subtractDuration(s.archived_cursor, parseDuration(lookback)));
    let after = pass.after;
    do {
      const page = await client.list(spec.object, { after, limit: listLimit, properties, archived: true });
      after = page.next;
      // The archived list has no date filter: keep what was archived since the last pass (or can't tell).
      const records = page.results.filter((r) => since === undefined || !(Date.parse(r.archivedAt ?? '') < since));
      s = after !== undefined ? { ...s, pass: { ...pass, after } } : { cursor: s.cursor, archived_cursor: pass.started_at };
      yield { records, state: s as JsonObject };
    } while (after !== undefined);
  }
}

/** Committed state of form_submissions: per form, the newest submission read. */
interface FormsState {
  forms?: Record<string, number>;
  /** A form read part-way: its next page and the newest submission seen so far. */
  current?: { form_id: string; after: string; max: number | null };
}

async function* readSubmissions(ctx: ReadContext<HubSpotConfig>): AsyncGenerator<RecordBatch<FormSubmissionRecord>> {
  const client = createHubSpotClient(ctx);
  const state = (ctx.fullRefresh ? {} : ctx.state) as FormsState;
  const lookback = parseDuration(ctx.config.lookback ?? DEFAULT_LOOKBACK);
  const limit = Math.min(ctx.config.page_size ?? MAX_SUBMISSIONS_LIMIT, MAX_SUBMISSIONS_LIMIT);
  const firstRunFrom = ctx.options.startDate ? Date.parse(ctx.options.startDate) : undefined;

  const forms: { id: string; name: string | null }[] = [];
  let after: string | undefined;
  do {
    const page = await client.forms(after);
    forms.push(...page.results);
    after = page.next;
  } while (after !== undefined);
  forms.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  // Forms deleted since are dropped, so the state does not grow forever.
  let done: Record<string, number> = {};
  for (const f of forms) if (state.forms?.[f.id] !== undefined) done[f.id] = state.forms[f.id];
  for (const form of forms) {
    const known = done[form.id];
    const since = known !== undefined ? Date.parse(subtractDuration(new Date(known).toISOString(), lookback)) : firstRunFrom;
    const resuming = state.current?.form_id === form.id ? state.current : undefined;
    let next = resuming?.after;
    let max: number | null = resuming?.max ?? known ?? null;
    // Newest first (the endpoint's order): stop at the first submission older than `since`.
    for (;;) {
      let page: Awaited<ReturnType<HubSpotClient['submissions']>>;
      try {
        page = await client.submissions(form, next, limit);
      } catch (error) {
        // Deleted between listing the forms and reading it: nothing left to read, not a failure.
        if (!(error instanceof HttpError && error.status === 404)) throw error;
        ctx.log.warn(`form ${form.id} (${form.name ?? 'unnamed'}) is gone; skipping its submissions`);
        break;
      }
      const older = (s: FormSubmissionRecord) => since !== undefined && typeof s.submittedAt === 'number' && s.submittedAt < since;
      const records = page.results.filter((s) => !older(s));
      for (const r of records) if (typeof r.submittedAt === 'number' && (max === null || r.submittedAt > max)) max = r.submittedAt;
      next = page.next;
      if (next === undefined || page.results.length === 0 || page.results.some(older)) {
        if (max !== null) done = { ...done, [form.id]: max };
        yield { records, state: { forms: done } };
        break;
      }
      yield { records, state: { forms: done, current: { form_id: form.id, after: next, max } } };
    }
  }
  if (forms.length === 0) yield { records: [], state: { forms: done } };
}
