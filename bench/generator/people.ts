// One simulated person at a time: their devices, visits and what they did on the site (GA4-like
// events), and — when they became a lead or a customer — their CRM contact, deals and the sales
// team's calls and emails. Everything comes from the shared seeded Random, so output is repeatable.
import {
  byChannel, CALL_SUBJECTS, COMPANY_DOMAINS, COMPANY_SUFFIXES, COUNTRIES, EMAIL_SUBJECTS, FIRST_NAMES, FIRST_VISIT, JUNK_EMAILS, JUNK_PHONES,
  LAST_NAMES, LATER_VISIT, MAIL_DOMAINS, ORGANIC_LANDINGS, PAGES, PRODUCTS, SALES_REPS, SOURCES,
} from './catalog.ts';
import type { Campaign, Channel, Country } from './catalog.ts';
import type { Random } from './random.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

export type Row = Record<string, string | number | null | undefined>;

export interface PersonOutput {
  events: Row[];
  contact?: Row;
  deals: Row[];
  activities: Row[];
  /** Ad clicks that landed on the site, for spend rows that agree with the web data. */
  clicks: { campaign: Campaign; day: string }[];
}

export interface World {
  rng: Random;
  start: number;
  end: number;
  ids: { event: number; transaction: number; user: number; contact: number; deal: number; activity: number };
}

interface Device {
  clientId: string;
  category: string;
  loggedIn: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString();
const ascii = (s: string) => s.toLowerCase().replace(/ü/g, 'ue').replace(/ö/g, 'oe').replace(/ä/g, 'ae').replace(/ß/g, 'ss');

/** How CRMs really hold emails: typed by people, so case and stray spaces vary. */
function messyEmail(r: Random, email: string): string {
  const x = r.next();
  if (x < 0.12) return email.replace(/(^|[.@])([a-z])/g, (_, p: string, c: string) => p + c.toUpperCase());
  if (x < 0.18) return ` ${email} `;
  if (x < 0.21) return email.toUpperCase();
  return email;
}

/** Phone numbers in the local formats a sales team types them in. */
function phone(r: Random, country: Country): string {
  const d = (n: number) => r.digits(n);
  switch (country) {
    case 'DE':
      return r.pick([`030 ${d(8)}`, `+49 89 ${d(7)}`, `0221/${d(7)}`, `+49 (0)40 ${d(4)} ${d(4)}`, `0151 ${d(8)}`, `0049 170 ${d(7)}`]);
    case 'AT':
      return r.pick([`+43 1 ${d(7)}`, `0664 ${d(7)}`]);
    case 'CH':
      return r.pick([`+41 44 ${d(3)} ${d(2)} ${d(2)}`, `079 ${d(3)} ${d(2)} ${d(2)}`]);
    case 'US':
      return r.pick([`(415) 555-0${d(3)}`, `212.555.0${d(3)}`, `+1 312 555 0${d(3)}`]);
    case 'GB':
      return r.pick([`07700 900${d(3)}`, `+44 20 7946 0${d(3)}`, `020 7946 0${d(3)}`]);
  }
}

const TOKEN_CHARS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'];

function traffic(r: Random, channel: Channel, stage: 'first' | 'later', at: number): { fields: Row; clickIds: Row; campaign?: Campaign; landing: string } {
  const token = (prefix: string, n: number) => prefix + Array.from({ length: n }, () => r.pick(TOKEN_CHARS)).join('');
  if (channel === 'Paid Search' || channel === 'Display' || channel === 'Paid Social') {
    const campaign = r.pick(byChannel(channel, stage));
    const social = campaign.platform === 'meta';
    const fields: Row = {
      utm_source: social ? r.pick(['facebook', 'facebook', 'instagram']) : 'google',
      utm_medium: social ? 'paid_social' : channel === 'Display' ? 'display' : 'cpc',
      utm_campaign: campaign.utm_campaign,
      utm_id: campaign.id,
    };
    // Auto-tagging: Google Ads appends gclid, Meta appends fbclid to the landing URL.
    const clickIds = social ? { fbclid: token('IwAR', 40) } : { gclid: token('Cj0KCQiA', 40) };
    return { fields, clickIds, campaign, landing: campaign.landing };
  }
  if (channel === 'Direct') return { fields: {}, clickIds: {}, landing: r.chance(0.7) ? '/' : r.pick(PAGES) };
  const [utm_source, utm_medium] = r.pick(SOURCES[channel]);
  const fields: Row = { utm_source, utm_medium };
  if (channel === 'Email') fields.utm_campaign = `newsletter_${iso(at).slice(0, 7).replace('-', '_')}`;
  const landing = channel === 'Organic Search' ? r.pick(ORGANIC_LANDINGS) : channel === 'Referral' ? '/reviews' : r.pick(['/', '/blog/heating-costs', '/offers/spring']);
  return { fields, clickIds: {}, landing };
}

const CONVERSION_LIFT: Readonly<Record<Channel, number>> = {
  'Paid Search': 1.2,
  'Organic Search': 1,
  'Paid Social': 0.6,
  'Organic Social': 0.5,
  Referral: 1.3,
  Display: 0.5,
  Direct: 1.3,
  Email: 1.8,
};

export function simulatePerson(w: World): PersonOutput {
  const r = w.rng;
  const out: PersonOutput = { events: [], deals: [], activities: [], clicks: [] };
  const country = r.weighted(COUNTRIES);
  const first = r.pick(FIRST_NAMES);
  const last = r.pick(LAST_NAMES);
  // Installers and property managers buy through the sales team; consumers buy online.
  const business = r.chance(0.25);
  const company = business ? `${r.pick(COMPANY_DOMAINS)}-${r.pick(COMPANY_SUFFIXES)}.example` : undefined;
  const realEmail = `${ascii(first)}.${ascii(last)}${business ? '' : r.int(1, 99)}@${company ?? r.pick(MAIL_DOMAINS)}`;
  const email = r.chance(0.015) ? r.pick(JUNK_EMAILS) : realEmail;
  const firstSeen = w.start + r.next() * (w.end - w.start - 3 * DAY);

  // A few contacts come from trade fairs and never visit the site.
  if (business && r.chance(0.15)) {
    crm(w, out, { first, last, email, country, company, createdAt: firstSeen, clientId: undefined, source: 'OFFLINE' });
    return out;
  }

  const category = r.weighted({ mobile: 55, desktop: 38, tablet: 7 });
  // GA4 client ids are `<random>.<first visit, Unix seconds>`; the time is filled in on first use.
  const devices: Device[] = [{ clientId: String(r.int(100000000, 2147483647)), category, loggedIn: false }];
  if (r.chance(0.3)) devices.push({ clientId: String(r.int(100000000, 2147483647)), category: category === 'desktop' ? 'mobile' : 'desktop', loggedIn: false });
  let userId = r.chance(0.12) ? `u${(w.ids.user += r.int(1, 5))}` : undefined;
  let knownToEmail = r.chance(0.15); // an old newsletter subscriber
  let converted = false;
  const propensity = 0.4 + r.next();

  // Visits: 30-minute sessions; the next visit comes after at least 45 minutes, often days later.
  let t = firstSeen;
  // Visits start early enough to end inside the window (a visit lasts minutes, rarely an hour).
  for (let i = 0; i < 12 && t < w.end - 3 * 60 * MINUTE; i++) {
    const stage = i === 0 ? 'first' : 'later';
    const weights = { ...(i === 0 ? FIRST_VISIT : LATER_VISIT) };
    if (!knownToEmail) weights.Email = 0;
    const channel = r.weighted(weights);
    const device = devices.length > 1 && i > 0 && r.chance(0.35) ? devices[1] : devices[0];
    if (!device.clientId.includes('.')) device.clientId += `.${Math.floor(t / 1000)}`;
    const { fields, clickIds, campaign, landing } = traffic(r, channel, stage, t);
    if (campaign) out.clicks.push({ campaign, day: iso(t).slice(0, 10) });
    const gaSessionId = Math.floor(t / 1000);
    const lift = CONVERSION_LIFT[channel] * propensity * (1 + 0.35 * i);
    const buys = !business && !converted && r.chance(0.028 * lift);
    const fillsForm = business && !converted && r.chance(0.075 * lift);
    // An account holder logs in somewhere in a visit; from then on the device sends user_id.
    if (userId && !device.loggedIn && r.chance(0.5)) device.loggedIn = true;

    let at = t;
    let hit = 0;
    const emit = (event_name: string, page_path: string, extra: Row = {}) => {
      const id = (w.ids.event += 1);
      out.events.push({
        event_id: `evt_${id.toString(36).padStart(8, '0')}`,
        ts: iso(at),
        event_name,
        client_id: device.clientId,
        user_id: device.loggedIn ? userId : undefined,
        ga_session_id: gaSessionId,
        page_path,
        // The session's traffic source is on every event (as in GA4's session-scoped export
        // fields); click ids only on the landing hits (session_start and the first page_view).
        ...fields,
        ...(hit++ < 2 ? clickIds : {}),
        device_category: device.category,
        country,
        ...extra,
      });
    };
    const step = () => {
      at += 8 * SECOND + Math.floor(r.exp(50 * SECOND));
    };

    emit('session_start', landing);
    at += 200;
    emit('page_view', landing);
    for (let k = r.geometric(0.68, 10); k > 0; k--) {
      step();
      emit('page_view', r.pick(PAGES));
    }
    if (buys || (!business && r.chance(0.06))) {
      step();
      emit('page_view', '/products/starter-kit');
      step();
      emit('add_to_cart', '/products/starter-kit');
    }
    if (buys) {
      step();
      emit('page_view', '/cart');
      step();
      if (!userId) userId = `u${(w.ids.user += r.int(1, 5))}`;
      device.loggedIn = true; // checkout needs an account
      emit('page_view', '/checkout');
      step();
      const items = r.int(1, 3);
      let revenue = 0;
      for (let k = 0; k < items; k++) revenue += r.pick(PRODUCTS).price;
      emit('purchase', '/checkout/thank-you', {
        transaction_id: `T${(w.ids.transaction += 1)}`,
        revenue,
        currency: country === 'US' ? 'USD' : country === 'GB' ? 'GBP' : 'EUR',
      });
      converted = true;
      knownToEmail = knownToEmail || r.chance(0.6);
      // Shop orders are synced to the CRM for some customers (no web id on those contacts).
      if (r.chance(0.35)) crm(w, out, { first, last, email, country, createdAt: at, clientId: undefined, source: 'SHOP' });
    }
    if (fillsForm) {
      const page = r.pick(['/contact', '/installers', '/webinar']);
      step();
      emit('page_view', page);
      step();
      // People type their email into the form; some type a throwaway one ("test@test.com").
      const typed = r.chance(0.05) ? (r.chance(0.7) ? JUNK_EMAILS[0] : r.pick(JUNK_EMAILS)) : r.chance(0.9) ? email : messyEmail(r, email);
      emit('form_submit', page, { email: typed, form_id: page.slice(1) });
      converted = true;
      knownToEmail = true;
      // The CRM creates the contact from the form, with the email as typed.
      crm(w, out, { first, last, email: typed.trim().toLowerCase() === email ? email : typed, country, company, createdAt: at, clientId: r.chance(0.85) ? device.clientId : undefined, source: 'FORM' });
    }
    if (converted && r.chance(0.7)) break;
    if (!r.chance(0.7)) break;
    t = at + 45 * MINUTE + r.exp(2.5 * DAY);
  }
  return out;
}

interface Lead {
  first: string;
  last: string;
  email: string;
  country: Country;
  company?: string;
  createdAt: number;
  clientId: string | undefined;
  source: 'FORM' | 'SHOP' | 'OFFLINE';
}

/** The CRM side: a contact, maybe a deal, and the sales team's calls and emails around it. */
function crm(w: World, out: PersonOutput, lead: Lead): void {
  if (out.contact) return;
  const r = w.rng;
  const contactId = String((w.ids.contact += r.int(1, 9)));
  let updated = lead.createdAt;
  const activity = (at: number, dealId: string | null) => {
    if (at > w.end) return;
    const call = r.chance(0.55);
    const rep = r.pick(SALES_REPS);
    out.activities.push({
      activity_id: String((w.ids.activity += 1)),
      contact_id: contactId,
      deal_id: dealId,
      type: call ? 'CALL' : 'EMAIL',
      timestamp: iso(at),
      direction: r.chance(0.8) ? 'OUTBOUND' : 'INBOUND',
      duration_seconds: call ? r.int(45, 1800) : null,
      subject: r.pick(call ? CALL_SUBJECTS : EMAIL_SUBJECTS),
      body: call ? null : `Hi ${lead.first},\n\nthanks for your time, as promised: the "Starter Kit" quote, with installation.\n\nBest,\n${rep.split('.')[0]}`,
      owner: rep,
    });
    updated = Math.max(updated, at);
  };
  if (lead.source !== 'SHOP') {
    for (let k = r.int(1, 2); k > 0; k--) activity(lead.createdAt + r.exp(2 * DAY) + 10 * MINUTE, null);
  }
  let stage = lead.source === 'SHOP' ? 'customer' : 'lead';
  if (lead.source !== 'SHOP' && r.chance(lead.source === 'OFFLINE' ? 0.45 : 0.55)) {
    const dealId = String((w.ids.deal += r.int(1, 4)));
    const created = lead.createdAt + DAY + r.exp(4 * DAY);
    if (created < w.end) {
      const outcome = r.weighted({ won: 40, lost: 25, open: 35 });
      const close = created + 5 * DAY + r.exp(16 * DAY);
      const closed = outcome !== 'open' && close <= w.end;
      const units = r.int(3, 120);
      for (let k = r.int(1, 5); k > 0; k--) activity(created + r.next() * ((closed ? close : w.end) - created), dealId);
      out.deals.push({
        deal_id: dealId,
        contact_id: contactId,
        dealname: `${lead.company ?? `${lead.last} household`} – ${units} x Starter Kit`,
        amount: Math.round((units * 199 * (0.75 + 0.2 * r.next())) / 50) * 50,
        currency: lead.country === 'US' ? 'USD' : 'EUR',
        dealstage: closed ? (outcome === 'won' ? 'closedwon' : 'closedlost') : r.pick(['appointmentscheduled', 'qualifiedtobuy']),
        pipeline: 'default',
        created_at: iso(created),
        close_date: closed ? iso(close) : null,
      });
      updated = Math.max(updated, closed ? close : created);
      stage = closed && outcome === 'won' ? 'customer' : 'opportunity';
    }
  }
  out.contact = {
    contact_id: contactId,
    email: messyEmail(r, lead.email),
    firstname: lead.first,
    lastname: lead.last,
    phone: r.chance(0.02) ? r.pick(JUNK_PHONES) : r.chance(0.55) ? phone(r, lead.country) : null,
    company: lead.company ?? null,
    country: lead.country,
    ga_client_id: lead.clientId ?? null,
    lifecyclestage: stage,
    original_source: lead.source,
    created_at: iso(lead.createdAt),
    updated_at: iso(Math.min(updated, w.end)),
  };
}
