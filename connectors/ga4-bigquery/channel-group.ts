// GA4's default channel group for manual traffic, rule for rule as Google publishes it in
// "[GA4] Default channel group" (https://support.google.com/analytics/answer/9756891): the first rule
// that matches wins, in the order of that table, and matching is case-insensitive ("Analytics does
// not enforce case sensitivity"). Google's own SQL port (google-marketing-solutions/ga4_dataform,
// includes/helpers.js `groupChannels`) evaluates Referral before Email as the current table does.
// The channels for Google Ads / DV360 / SA360 traffic (decided by ad network and creative format, not
// by source and medium) are out of scope: auto-tagged Google Ads clicks arrive as google / cpc and
// land in Paid Search, or in Cross-network when the campaign name says so.
//
// The source categories are a SUBSET of Google's downloadable list (same page, "list of sources and
// categories", several hundred entries): the big search engines, social networks, video and shopping
// sites. A source missing here falls through to the medium-only rules, so pass `categories` to add
// your own (keys lower-case).

export type Ga4Channel =
  | 'Direct'
  | 'Cross-network'
  | 'Paid Shopping'
  | 'Paid Search'
  | 'Paid Social'
  | 'Paid Video'
  | 'Display'
  | 'Paid Other'
  | 'Organic Shopping'
  | 'Organic Social'
  | 'Organic Video'
  | 'Organic Search'
  | 'Referral'
  | 'Email'
  | 'Affiliates'
  | 'Audio'
  | 'SMS'
  | 'Mobile Push Notifications'
  | 'Unassigned';

/** Google's SOURCE_CATEGORY_SEARCH / _SOCIAL / _SHOPPING / _VIDEO. */
export type SourceCategory = 'search' | 'social' | 'shopping' | 'video';

export interface ChannelInput {
  source?: string | null;
  medium?: string | null;
  /** Campaign name (utm_campaign). */
  campaign?: string | null;
}

const SEARCH = [
  '360.cn', 'aol', 'ask', 'baidu', 'm.baidu.com', 'bing', 'cn.bing.com', 'centrum.cz', 'daum', 'daum.net',
  'duckduckgo', 'ecosia.org', 'go.mail.ru', 'google', 'google.com', 'google-play', 'googlemybusiness',
  'search.google.com', 'news.google.com', 'cse.google.com', 'msn', 'msn.com', 'naver', 'naver.com',
  'm.naver.com', 'm.search.naver.com', 'onet', 'onet.pl', 'qwant', 'qwant.com', 'rambler', 'rambler.ru',
  'search.aol.com', 'seznam', 'seznam.cz', 'so.com', 'sogou', 'sogou.com', 'yahoo', 'yahoo.com',
  'yahoo.co.jp', 'us.search.yahoo.com', 'uk.search.yahoo.com', 'de.search.yahoo.com', 'fr.search.yahoo.com',
  'yandex', 'yandex.com', 'yandex.ru', 'yandex.ua',
];
const SOCIAL = [
  'facebook', 'facebook.com', 'm.facebook.com', 'l.facebook.com', 'lm.facebook.com', 'web.facebook.com',
  'business.facebook.com', 'fb', 'fb.me', 'instagram', 'instagram.com', 'l.instagram.com', 'ig', 'linkedin',
  'linkedin.com', 'lnkd.in', 'twitter', 'twitter.com', 't.co', 'reddit', 'reddit.com', 'old.reddit.com',
  'out.reddit.com', 'amp.reddit.com', 'pinterest', 'pinterest.com', 'pinterest.co.uk', 'pinterest.de',
  'pinterest.fr', 'tiktok', 'tiktok.com', 'snapchat', 'snapchat.com', 'quora', 'quora.com', 'tumblr',
  'tumblr.com', 'medium.com', 'vk.com', 'm.vk.com', 'weibo', 'weibo.com', 'whatsapp', 'whatsapp.com',
  'wechat', 'line', 'line.me', 't.me', 'messenger', 'messenger.com', 'l.messenger.com', 'meetup',
  'meetup.com', 'xing', 'xing.com', 'yelp', 'yelp.com', 'stackoverflow', 'stackoverflow.com',
  'news.ycombinator.com', 'flickr', 'flickr.com', 'blogger', 'blogger.com', 'wordpress', 'wordpress.com',
  'bit.ly', 'tinyurl', 'tinyurl.com', 'kakao', 'qzone.qq.com', 'tripadvisor', 'tripadvisor.com',
];
const VIDEO = [
  'youtube', 'youtube.com', 'm.youtube.com', 'music.youtube.com', 'vimeo', 'vimeo.com', 'player.vimeo.com',
  'twitch', 'twitch.tv', 'm.twitch.tv', 'dailymotion', 'dailymotion.com', 'netflix', 'netflix.com', 'hulu',
  'hulu.com', 'disneyplus', 'disneyplus.com', 'wistia', 'wistia.com', 'ted', 'ted.com', 'youku', 'youku.com',
  'iqiyi', 'iqiyi.com',
];
const SHOPPING = [
  'amazon', 'amazon.com', 'amazon.co.uk', 'ebay', 'ebay.com', 'ebay.co.uk', 'ebay.de', 'etsy', 'etsy.com',
  'alibaba', 'alibaba.com', 'walmart', 'walmart.com', 'shopify', 'shopify.com', 'shop.app',
  'checkout.shopify.com', 'stripe', 'stripe.com', 'checkout.stripe.com', 'google shopping', 'igshopping',
  'mercadolibre', 'mercadolibre.com', 'shopping.naver.com', 'shopping.yahoo.com', 'shopzilla',
];

function categoryMap(): Map<string, SourceCategory> {
  const map = new Map<string, SourceCategory>();
  for (const [list, category] of [[SEARCH, 'search'], [SOCIAL, 'social'], [VIDEO, 'video'], [SHOPPING, 'shopping']] as const) {
    for (const source of list) map.set(source, category);
  }
  return map;
}

/** Source (lower-case, exact match as in Google's list) → category. A subset: see the file comment. */
export const SOURCE_CATEGORIES: ReadonlyMap<string, SourceCategory> = categoryMap();

// The regexes and value lists below are quoted from the table on support.google.com/analytics/answer/9756891.
const PAID_MEDIUM = /^(.*cp.*|ppc|retargeting|paid.*)$/;
const SHOPPING_CAMPAIGN = /^(.*(([^a-df-z]|^)shop|shopping).*)$/;
const VIDEO_MEDIUM = /^(.*video.*)$/;
const DISPLAY_MEDIUMS = new Set(['display', 'banner', 'expandable', 'interstitial', 'cpm']);
const SOCIAL_MEDIUMS = new Set(['social', 'social-network', 'social-media', 'sm', 'social network', 'social media']);
const REFERRAL_MEDIUMS = new Set(['referral', 'app', 'link']);
const EMAIL_VALUES = new Set(['email', 'e-mail', 'e_mail', 'e mail']);

function norm(value: string | null | undefined): string {
  return typeof value === 'string' ? value.trim().toLowerCase() : '';
}

/**
 * The GA4 default channel group of a source / medium / campaign. Missing values are what GA4 records
 * for them: no source and no medium is (direct) / (none); one of them missing is (not set).
 */
export function defaultChannelGroup(input: ChannelInput, categories: ReadonlyMap<string, SourceCategory> = SOURCE_CATEGORIES): Ga4Channel {
  let source = norm(input.source);
  let medium = norm(input.medium);
  const campaign = norm(input.campaign);
  if (source === '' && medium === '') {
    source = '(direct)';
    medium = '(none)';
  } else {
    if (source === '') source = '(not set)';
    if (medium === '') medium = '(not set)';
  }
  const category = categories.get(source);
  const paid = PAID_MEDIUM.test(medium);
  const shoppingCampaign = SHOPPING_CAMPAIGN.test(campaign);

  if (source === '(direct)' && (medium === '(not set)' || medium === '(none)')) return 'Direct';
  if (campaign.includes('cross-network')) return 'Cross-network';
  if ((category === 'shopping' || shoppingCampaign) && paid) return 'Paid Shopping';
  if (category === 'search' && paid) return 'Paid Search';
  if (category === 'social' && paid) return 'Paid Social';
  if (category === 'video' && paid) return 'Paid Video';
  if (DISPLAY_MEDIUMS.has(medium)) return 'Display';
  if (paid) return 'Paid Other';
  if (category === 'shopping' || shoppingCampaign) return 'Organic Shopping';
  if (category === 'social' || SOCIAL_MEDIUMS.has(medium)) return 'Organic Social';
  if (category === 'video' || VIDEO_MEDIUM.test(medium)) return 'Organic Video';
  if (category === 'search' || medium === 'organic') return 'Organic Search';
  if (REFERRAL_MEDIUMS.has(medium)) return 'Referral';
  if (EMAIL_VALUES.has(source) || EMAIL_VALUES.has(medium)) return 'Email';
  if (medium === 'affiliate') return 'Affiliates';
  if (medium === 'audio') return 'Audio';
  if (source === 'sms' || medium === 'sms') return 'SMS';
  if (medium.endsWith('push') || medium.includes('mobile') || medium.includes('notification') || source === 'firebase') {
    return 'Mobile Push Notifications';
  }
  return 'Unassigned';
}
