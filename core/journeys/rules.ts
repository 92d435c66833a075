// SQL expressions compiled from the `journeys:` configuration: identifier priority, conversion
// rules, which events are touchpoints, stage rules. Pure; every configured value is a bound
// parameter, only our own column names and numbers are SQL text. The expressions name the columns
// of the row they are evaluated on (kind, name, channel, properties, is_conv, grp, page).
import type { ConversionRule, JourneysConfig, StageRule } from './config.ts';
import { inList, join, raw, sql } from '../store/sql.ts';
import type { Fragment } from '../store/sql.ts';

/** The page a touchpoint was on: connectors keep it as page_path (file), page_location (GA4) or page_url (HubSpot forms). */
export const PAGE = raw("coalesce(properties->>'page_path', properties->>'page_location', properties->>'page_url')");

/** Rank of the identifier type in column `type`: its place in the priority list, others after. */
export function priorityRank(priority: readonly string[], column = 'o.identifier_type'): Fragment {
  if (priority.length === 0) return raw('0');
  const whens = priority.map((type, i) => sql` when ${type} then ${raw(String(i))}`);
  return sql`case ${raw(column)}${join(whens, '')} else ${raw(String(priority.length))} end`;
}

function conversionCondition(rule: ConversionRule): Fragment {
  const parts: Fragment[] = [];
  if (rule.events.length > 0) parts.push(inList(raw('name'), rule.events));
  if (rule.deal_stages.length > 0) {
    parts.push(inList(raw('name'), rule.deal_stages));
    parts.push(inList(sql`(properties->>cast(${rule.stage_property} as text))`, rule.deal_stages));
  }
  return parts.length === 0 ? raw('false') : sql`(${join(parts, ' or ')})`;
}

/** 0 for an event that is no conversion, else the 1-based number of the first conversion rule it matches. */
export function conversionRule(rules: readonly ConversionRule[] | null): Fragment {
  if (rules === null) return raw("case when kind = 'conversion' then 1 else 0 end");
  if (rules.length === 0) return raw('0');
  return sql`case${join(rules.map((r, i) => sql` when ${conversionCondition(r)} then ${raw(String(i + 1))}`), '')} else 0 end`;
}

/** The conversion's name, value and currency (columns conversion_name, conversion_value, conversion_currency), given conv_rule. */
export function conversionDetails(rules: readonly ConversionRule[] | null): Fragment {
  if (rules === null || rules.length === 0) return raw('name as conversion_name, value as conversion_value, currency as conversion_currency');
  const pick = (of: (r: ConversionRule) => Fragment) => join(rules.map((r, i) => sql` when ${raw(String(i + 1))} then ${of(r)}`), '');
  const name = pick((r) => (r.name === undefined ? raw('name') : sql`cast(${r.name} as text)`));
  const value = pick((r) => (r.value === undefined ? raw('value') : sql`cast(${r.value} as double precision)`));
  const currency = pick((r) => (r.currency === undefined ? raw('currency') : sql`cast(${r.currency} as text)`));
  return sql`case conv_rule${name} end as conversion_name, case conv_rule${value} end as conversion_value, case conv_rule${currency} end as conversion_currency`;
}

/** Whether an event that is no conversion is a touchpoint. */
export function touchFilter(config: JourneysConfig): Fragment {
  const included = join([inList(raw('kind'), config.touch_kinds), inList(raw('name'), config.touch_events)], ' or ');
  if (config.exclude_events.length === 0) return sql`(${included})`;
  return sql`(${included}) and not ${inList(raw('name'), config.exclude_events)}`;
}

export function usesPages(rules: readonly StageRule[]): boolean {
  return rules.some((r) => r.pages !== undefined);
}

function stageCondition(rule: StageRule): Fragment {
  const parts: Fragment[] = [];
  if (rule.conversion !== undefined) parts.push(raw(rule.conversion ? 'is_conv = 1' : 'is_conv = 0'));
  if (rule.after_conversion !== undefined) parts.push(raw(rule.after_conversion ? 'grp > 1' : 'grp = 1'));
  if (rule.kinds) parts.push(inList(raw('kind'), rule.kinds));
  if (rule.events) parts.push(inList(raw('name'), rule.events));
  if (rule.channels) parts.push(inList(raw('channel'), rule.channels));
  if (rule.pages) parts.push(rule.pages.length === 0 ? raw('false') : sql`(${join(rule.pages.map((p) => sql`strpos(page, ${p}) > 0`), ' or ')})`);
  if (rule.property) parts.push(inList(sql`(properties->>cast(${rule.property.name} as text))`, rule.property.values));
  return parts.length === 0 ? raw('true') : join(parts, ' and ');
}

/** The stage of a touchpoint: the first matching rule's, else the default. `channel` is already defaulted. */
export function stageExpression(rules: readonly StageRule[], fallback: string): Fragment {
  if (rules.length === 0) return sql`cast(${fallback} as text)`;
  const whens = rules.map((r) => sql` when ${stageCondition(r)} then cast(${r.stage} as text)`);
  return sql`case${join(whens, '')} else cast(${fallback} as text) end`;
}
