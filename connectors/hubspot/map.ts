// Pure mapping of HubSpot records to canonical rows. Contacts give identifier links; deals give one
// event per associated contact (deal_won conversions for won stages); calls, emails and meetings give
// one touch per associated contact; form submissions give form_submit touches carrying the email and
// any click ids in the page URL. Archived (deleted) records map to nothing, which removes the rows an
// earlier run made from them. One event per contact, not one event naming every contact: identifiers
// on one event are taken to belong to one person, and a call with three contacts is not one person.
import type { CanonicalEvent, CanonicalRows, EventKind, Identifier, JsonObject, MapContext } from '../../core/sdk/index.ts';
import type { CrmRecord, FormSubmissionRecord, HubSpotConfig } from './streams.ts';

type Ctx = MapContext<HubSpotConfig>;

function text(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const t = value.trim();
  return t === '' ? null : t;
}

function ids(...pairs: [string, unknown][]): Identifier[] {
  const out: Identifier[] = [];
  for (const [type, value] of pairs) {
    const v = text(value);
    if (v !== null) out.push({ type, value: v });
  }
  return out;
}

function amount(value: unknown): number | null {
  const t = text(value);
  if (t === null) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

function contactsOf(record: CrmRecord): string[] {
  return record.associations?.contacts ?? [];
}

/** The same event once per associated contact (`${id}:${contactId}`), or once without identifiers. */
function perContact(record: CrmRecord, event: Omit<CanonicalEvent, 'id' | 'identifiers'>): CanonicalEvent[] {
  const contacts = contactsOf(record);
  if (contacts.length === 0) return [{ ...event, id: record.id, identifiers: [] }];
  return contacts.map((c) => ({ ...event, id: `${record.id}:${c}`, identifiers: [{ type: 'hubspot_contact_id', value: c }] }));
}

export function mapContact(record: CrmRecord, ctx: Ctx): CanonicalRows {
  if (record.archived) return {};
  const p = record.properties;
  const ga = ctx.config.ga_client_id_property;
  const identifiers = ids(
    ['hubspot_contact_id', record.id],
    ['email', p.email],
    ['phone', p.phone],
    ['phone', p.mobilephone],
    ['ga_client_id', ga ? p[ga] : null],
  );
  return { links: [{ identifiers, observed_at: record.updatedAt }] };
}

export function mapDeal(record: CrmRecord, ctx: Ctx): CanonicalRows {
  if (record.archived) return {};
  const p = record.properties;
  const stage = text(p.dealstage);
  const won = stage !== null && (ctx.config.won_stages ?? ['closedwon']).includes(stage);
  const lost = stage !== null && (ctx.config.lost_stages ?? ['closedlost']).includes(stage);
  const closed = text(p.closedate) ?? record.updatedAt!;
  const properties: JsonObject = {
    deal_id: record.id,
    deal_name: text(p.dealname),
    pipeline: text(p.pipeline),
    stage,
    amount: amount(p.amount),
    // Each contact's event carries the whole amount: divide by this to count revenue once per deal.
    contacts_on_deal: contactsOf(record).length,
  };
  const kind: EventKind = won ? 'conversion' : 'other';
  return {
    events: perContact(record, {
      kind,
      name: won ? 'deal_won' : lost ? 'deal_lost' : 'deal_open',
      occurred_at: won || lost ? closed : (text(p.createdate) ?? record.createdAt!),
      value: won ? amount(p.amount) : null,
      currency: won ? (text(p.deal_currency_code) ?? ctx.config.currency ?? null) : null,
      properties,
    }),
  };
}

const ENGAGEMENTS = {
  calls: { name: 'call', channel: 'Sales Call', keep: { title: 'hs_call_title', direction: 'hs_call_direction', status: 'hs_call_status', disposition: 'hs_call_disposition', duration_ms: 'hs_call_duration' } },
  emails: { name: 'email', channel: 'Sales Email', keep: { subject: 'hs_email_subject', direction: 'hs_email_direction', status: 'hs_email_status' } },
  meetings: { name: 'meeting', channel: 'Meeting', keep: { title: 'hs_meeting_title', outcome: 'hs_meeting_outcome', start_time: 'hs_meeting_start_time', end_time: 'hs_meeting_end_time' } },
} as const;

export function mapEngagement(object: keyof typeof ENGAGEMENTS): (record: CrmRecord, ctx: Ctx) => CanonicalRows {
  const spec = ENGAGEMENTS[object];
  return (record) => {
    if (record.archived) return {};
    const p = record.properties;
    const properties: JsonObject = { [`${spec.name}_id`]: record.id };
    for (const [key, prop] of Object.entries(spec.keep)) properties[key] = text(p[prop]);
    // hs_timestamp is when the activity happened (it places it on the timeline); createdAt is when it was logged.
    const occurred = text(p.hs_timestamp) ?? (object === 'meetings' ? text(p.hs_meeting_start_time) : null) ?? record.createdAt!;
    return { events: perContact(record, { kind: 'touch', name: spec.name, channel: spec.channel, occurred_at: occurred, properties }) };
  };
}

export function mapFormSubmission(record: FormSubmissionRecord): CanonicalRows {
  const values = new Map(record.values.map((v) => [v.name, v.value]));
  let params = new URLSearchParams();
  try {
    if (record.pageUrl) params = new URL(record.pageUrl).searchParams;
  } catch {
    // A page URL that is not a URL: no campaign parameters to read.
  }
  const source = text(params.get('utm_source'));
  const medium = text(params.get('utm_medium'));
  return {
    events: [
      {
        id: record.conversionId,
        occurred_at: new Date(record.submittedAt).toISOString(),
        kind: 'touch',
        name: 'form_submit',
        source_medium: source || medium ? `${source ?? '(not set)'} / ${medium ?? '(not set)'}` : null,
        campaign: text(params.get('utm_campaign')),
        campaign_id: text(params.get('utm_id')),
        identifiers: ids(['email', values.get('email')], ['gclid', params.get('gclid')], ['fbclid', params.get('fbclid')]),
        properties: { form_id: record.formId, form_name: record.formName, page_url: record.pageUrl },
      },
    ],
  };
}
