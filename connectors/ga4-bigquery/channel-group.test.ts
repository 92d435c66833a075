// GA4's default channel group, one test per rule of the table on
// https://support.google.com/analytics/answer/9756891, with the edge cases each rule's wording implies
// (precedence over later rules, case-insensitivity, the regexes' boundaries).
import { describe, expect, it } from 'vitest';
import { defaultChannelGroup } from './channel-group.ts';
import type { ChannelInput, Ga4Channel, SourceCategory } from './channel-group.ts';

function expectChannel(cases: [string | null, string | null, string | null, Ga4Channel][]): void {
  for (const [source, medium, campaign, channel] of cases) {
    expect(defaultChannelGroup({ source, medium, campaign }), `${source} / ${medium} / ${campaign}`).toBe(channel);
  }
}

describe('defaultChannelGroup', () => {
  it('Direct: source (direct) and medium (none) or (not set); no source and no medium at all', () => {
    expectChannel([
      ['(direct)', '(none)', null, 'Direct'],
      ['(direct)', '(not set)', '(direct)', 'Direct'],
      [null, null, null, 'Direct'],
      ['', '  ', null, 'Direct'],
      ['(DIRECT)', '(NONE)', null, 'Direct'],
    ]);
  });

  it('Cross-network: the campaign name contains "cross-network", before any paid rule', () => {
    expectChannel([
      ['google', 'cpc', 'pmax_Cross-Network_q2', 'Cross-network'],
      ['(not set)', '(not set)', 'cross-network', 'Cross-network'],
    ]);
  });

  it('Paid Shopping: a shopping site or a shopping campaign name, with a paid medium', () => {
    expectChannel([
      ['amazon', 'cpc', null, 'Paid Shopping'],
      ['etsy.com', 'paid', null, 'Paid Shopping'],
      // The campaign regex ^(.*(([^a-df-z]|^)shop|shopping).*)$: "shop" at the start or after a non-letter or "e".
      ['google', 'cpc', 'summer_shopping', 'Paid Shopping'],
      ['google', 'cpc', 'shop_now', 'Paid Shopping'],
      ['newsletter', 'ppc', 'eshop-week', 'Paid Shopping'],
      ['newsletter', 'ppc', 'workshop', 'Paid Other'],
    ]);
  });

  it('Paid Search: a search site with a medium matching ^(.*cp.*|ppc|retargeting|paid.*)$ (any case)', () => {
    expectChannel([
      ['google', 'cpc', 'brand', 'Paid Search'],
      ['Google', 'CPC', null, 'Paid Search'],
      ['bing', 'ppc', null, 'Paid Search'],
      ['duckduckgo', 'paidsearch', null, 'Paid Search'],
      ['yahoo', 'retargeting', null, 'Paid Search'],
      // cpm matches .*cp.*, and Paid Search comes before Display.
      ['google', 'cpm', null, 'Paid Search'],
    ]);
  });

  it('Paid Social: a social site with a paid medium', () => {
    expectChannel([
      ['facebook', 'paid_social', 'retarget', 'Paid Social'],
      ['linkedin', 'cpc', null, 'Paid Social'],
      ['t.co', 'cpc', null, 'Paid Social'],
      ['tiktok', 'paid', null, 'Paid Social'],
    ]);
  });

  it('Paid Video: a video site with a paid medium', () => {
    expectChannel([
      ['youtube', 'cpv', null, 'Paid Video'],
      ['vimeo.com', 'paid_video', null, 'Paid Video'],
    ]);
  });

  it('Display: medium display, banner, expandable, interstitial or cpm', () => {
    expectChannel([
      ['criteo', 'display', null, 'Display'],
      ['adnetwork', 'banner', null, 'Display'],
      ['adnetwork', 'Expandable', null, 'Display'],
      ['adnetwork', 'interstitial', null, 'Display'],
      // cpm also matches the paid regex, but Display comes before Paid Other.
      ['adnetwork', 'cpm', null, 'Display'],
    ]);
  });

  it('Paid Other: a paid medium from a source in no category', () => {
    expectChannel([
      ['partner.example', 'cpc', null, 'Paid Other'],
      ['taboola', 'paid', null, 'Paid Other'],
      ['adnetwork', 'retargeting', null, 'Paid Other'],
    ]);
  });

  it('Organic Shopping: a shopping site or a shopping campaign name, any other medium', () => {
    expectChannel([
      ['amazon', 'referral', null, 'Organic Shopping'],
      ['ebay', null, null, 'Organic Shopping'],
      ['newsletter', 'newsletter', 'spring_shopping', 'Organic Shopping'],
    ]);
  });

  it('Organic Social: a social site, or a social medium', () => {
    expectChannel([
      ['facebook', 'referral', null, 'Organic Social'],
      ['m.facebook.com', 'referral', null, 'Organic Social'],
      ['anything', 'social', null, 'Organic Social'],
      ['anything', 'social-network', null, 'Organic Social'],
      ['anything', 'social media', null, 'Organic Social'],
      ['anything', 'sm', null, 'Organic Social'],
    ]);
  });

  it('Organic Video: a video site, or a medium containing "video"', () => {
    expectChannel([
      ['youtube', 'referral', null, 'Organic Video'],
      ['partner.example', 'video_promo', null, 'Organic Video'],
    ]);
  });

  it('Organic Search: a search site, or medium organic', () => {
    expectChannel([
      ['google', 'organic', null, 'Organic Search'],
      ['bing', 'referral', null, 'Organic Search'],
      ['startpage.example', 'organic', null, 'Organic Search'],
    ]);
  });

  it('Referral: medium referral, app or link', () => {
    expectChannel([
      ['partner.example', 'referral', null, 'Referral'],
      ['partner.example', 'app', null, 'Referral'],
      ['partner.example', 'link', null, 'Referral'],
      // Referral is evaluated before Email.
      ['email', 'referral', null, 'Referral'],
    ]);
  });

  it('Email: source or medium email, e-mail, e_mail or e mail', () => {
    expectChannel([
      ['newsletter', 'email', 'may_digest', 'Email'],
      ['newsletter', 'E-Mail', null, 'Email'],
      ['e_mail', 'blast', null, 'Email'],
      ['e mail', null, null, 'Email'],
      // Exact values, not "contains".
      ['newsletter', 'emails', null, 'Unassigned'],
    ]);
  });

  it('Affiliates: medium affiliate', () => {
    expectChannel([['awin', 'affiliate', null, 'Affiliates']]);
  });

  it('Audio: medium audio', () => {
    expectChannel([['podcast.example', 'audio', null, 'Audio']]);
  });

  it('SMS: source or medium sms', () => {
    expectChannel([
      ['sms', 'text', null, 'SMS'],
      ['twilio', 'sms', null, 'SMS'],
    ]);
  });

  it('Mobile Push Notifications: medium ends with push, contains mobile or notification, or source firebase', () => {
    expectChannel([
      ['app', 'web-push', null, 'Mobile Push Notifications'],
      ['app', 'mobile_alert', null, 'Mobile Push Notifications'],
      ['app', 'notification', null, 'Mobile Push Notifications'],
      ['firebase', 'inbox', null, 'Mobile Push Notifications'],
      ['app', 'push-later', null, 'Unassigned'],
    ]);
  });

  it('Unassigned: no rule matches', () => {
    expectChannel([
      ['newsletter', 'weekly', null, 'Unassigned'],
      ['(not set)', '(not set)', null, 'Unassigned'],
      ['partner.example', null, null, 'Unassigned'],
    ]);
  });

  it('takes extra source categories for sources missing from the built-in subset', () => {
    const input: ChannelInput = { source: 'x.com', medium: 'cpc' };
    expect(defaultChannelGroup(input)).toBe('Paid Other');
    const mine = new Map<string, SourceCategory>([['x.com', 'social']]);
    expect(defaultChannelGroup(input, mine)).toBe('Paid Social');
  });
});
