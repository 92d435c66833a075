// The fixed world of the demo data: a smart-home shop that sells online and, for larger orders,
// through a sales team. Its ad campaigns, traffic sources (UTMs that GA4's default channel grouping
// sorts into Paid Search, Organic Search, Paid Social, Organic Social, Email, Referral, Direct and
// Display), pages, products and the names people have.

export type Channel = 'Paid Search' | 'Organic Search' | 'Paid Social' | 'Organic Social' | 'Email' | 'Referral' | 'Direct' | 'Display';

export interface Campaign {
  id: string;
  name: string;
  platform: 'google' | 'meta';
  /** Google Ads advertising channel type; Meta campaigns are all SOCIAL. */
  type: 'SEARCH' | 'DISPLAY' | 'SOCIAL';
  channel: Channel;
  utm_campaign: string;
  /** Average cost per click (EUR; solar and smart-home search terms are expensive) and click-through rate, for plausible spend rows. */
  cpc: number;
  ctr: number;
  landing: string;
}

export const CAMPAIGNS: readonly Campaign[] = [
  { id: '20481001', name: 'Brand | Search | DACH', platform: 'google', type: 'SEARCH', channel: 'Paid Search', utm_campaign: 'brand_search', cpc: 1.9, ctr: 0.14, landing: '/' },
  { id: '20481002', name: 'Generic | Smart Home Kits | Search', platform: 'google', type: 'SEARCH', channel: 'Paid Search', utm_campaign: 'generic_kits', cpc: 7.4, ctr: 0.045, landing: '/products/starter-kit' },
  { id: '20481003', name: 'Competitor | Search', platform: 'google', type: 'SEARCH', channel: 'Paid Search', utm_campaign: 'competitor', cpc: 9.8, ctr: 0.028, landing: '/compare' },
  { id: '20481004', name: 'Remarketing | Display | 30d', platform: 'google', type: 'DISPLAY', channel: 'Display', utm_campaign: 'remarketing_display', cpc: 1.1, ctr: 0.006, landing: '/offers/spring' },
  { id: '120210000456001', name: 'Prospecting | Lookalike 1% | Video', platform: 'meta', type: 'SOCIAL', channel: 'Paid Social', utm_campaign: 'prospecting_lal', cpc: 1.6, ctr: 0.011, landing: '/offers/spring' },
  { id: '120210000456002', name: 'Retargeting | Site Visitors 30d', platform: 'meta', type: 'SOCIAL', channel: 'Paid Social', utm_campaign: 'retargeting_30d', cpc: 1.3, ctr: 0.019, landing: '/products/starter-kit' },
  { id: '120210000456003', name: 'Lead Gen | Installer Webinar', platform: 'meta', type: 'SOCIAL', channel: 'Paid Social', utm_campaign: 'webinar_leads', cpc: 4.2, ctr: 0.009, landing: '/webinar' },
];

export const byChannel = (channel: Channel, stage: 'first' | 'later'): readonly Campaign[] => {
  const list = CAMPAIGNS.filter((c) => c.channel === channel);
  // Brand search and retargeting catch people who already know the shop.
  const cold = list.filter((c) => c.utm_campaign !== 'brand_search' && c.utm_campaign !== 'retargeting_30d' && c.utm_campaign !== 'remarketing_display');
  return stage === 'first' && cold.length > 0 ? cold : list;
};

/** Channel mix of a person's first visit and of later ones (Email only once they gave an email). */
export const FIRST_VISIT: Readonly<Record<Channel, number>> = {
  'Paid Search': 22,
  'Organic Search': 26,
  'Paid Social': 15,
  'Organic Social': 7,
  Referral: 6,
  Display: 2,
  Direct: 22,
  Email: 0,
};
export const LATER_VISIT: Readonly<Record<Channel, number>> = {
  'Paid Search': 14,
  'Organic Search': 18,
  'Paid Social': 8,
  'Organic Social': 4,
  Referral: 4,
  Display: 6,
  Direct: 30,
  Email: 16,
};

/** Unpaid sources per channel: [utm_source, utm_medium]. */
export const SOURCES: Readonly<Record<'Organic Search' | 'Organic Social' | 'Referral' | 'Email', readonly [string, string][]>> = {
  'Organic Search': [
    ['google', 'organic'],
    ['google', 'organic'],
    ['google', 'organic'],
    ['bing', 'organic'],
    ['duckduckgo', 'organic'],
  ],
  'Organic Social': [
    ['linkedin', 'social'],
    ['facebook', 'social'],
    ['instagram', 'social'],
    ['youtube', 'social'],
  ],
  Referral: [
    ['homeautomation-forum.de', 'referral'],
    ['trustedreviews.example', 'referral'],
    ['partner-installer.example', 'referral'],
  ],
  Email: [['newsletter', 'email']],
};

export const PAGES = ['/', '/products/starter-kit', '/products/thermostat', '/products/door-sensor', '/products/camera-pro', '/pricing', '/compare', '/blog/heating-costs', '/blog/matter-explained', '/reviews', '/about', '/support', '/installers'];
export const ORGANIC_LANDINGS = ['/', '/blog/heating-costs', '/blog/matter-explained', '/products/thermostat', '/reviews'];

export const PRODUCTS = [
  { sku: 'SK-100', price: 199 },
  { sku: 'TH-20', price: 89 },
  { sku: 'DS-3', price: 29 },
  { sku: 'CAM-PRO', price: 149 },
  { sku: 'HUB-2', price: 119 },
];

export const COUNTRIES = { DE: 55, AT: 10, CH: 6, US: 18, GB: 11 } as const;
export type Country = keyof typeof COUNTRIES;

export const FIRST_NAMES = ['Anna', 'Lukas', 'Marie', 'Jonas', 'Sophie', 'Felix', 'Emma', 'Paul', 'Lena', 'Noah', 'Mia', 'Elias', 'Hannah', 'Ben', 'Laura', 'Finn', 'Olivia', 'James', 'Emily', 'Jack', 'Grace', 'Liam', 'Ava', 'Oliver', 'Chloe', 'Mehmet', 'Aylin', 'Luca', 'Giulia', 'Piotr'];
export const LAST_NAMES = ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Hoffmann', 'Koch', 'Smith', 'Johnson', 'Brown', 'Taylor', 'Wilson', 'Davies', 'Evans', 'Yilmaz', 'Rossi', 'Nowak', 'Keller', 'Huber', 'Baumann', 'Lehmann'];
export const MAIL_DOMAINS = ['gmail.com', 'gmx.de', 'web.de', 'outlook.com', 'yahoo.com', 't-online.de', 'icloud.com', 'proton.me'];
export const COMPANY_DOMAINS = ['elektro-wagner', 'haustechnik-koch', 'smart-living', 'installpro', 'brightwire', 'hausverwaltung-nord', 'sonnenhof', 'techniq', 'wohnbau-sued', 'alpen-elektrik'];
export const COMPANY_SUFFIXES = ['gmbh', 'ag', 'kg', 'group', 'partner', 'service', 'berlin', 'muenchen', 'wien', 'zuerich'];

/** Values that identity stitching must refuse to merge people on. */
export const JUNK_EMAILS = ['test@test.com', 'asdf@asdf.de', 'no-reply@example.com'];
export const JUNK_PHONES = ['0000000000', '123456'];

export const SALES_REPS = ['jana.roth@smartnest.example', 'tom.berger@smartnest.example', 'sara.klein@smartnest.example'];
export const CALL_SUBJECTS = ['Intro call', 'Needs analysis, 3 floors', 'Quote walkthrough: "Starter Kit" x 12', 'Follow-up on installer pricing', 'Technical questions, Matter support'];
export const EMAIL_SUBJECTS = ['Your quote, as discussed', 'Re: "Thermostat" compatibility', 'Installer programme – next steps', 'Case study: 40 flats, one hub', 'Checking in'];
