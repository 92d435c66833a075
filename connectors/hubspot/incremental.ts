// Incremental reads of CRM objects through the search API, which answers at most 10,000 results per
// query: paging a query past 10,000 is a 400 (search guide, "Limitations",
// developers.hubspot.com/docs/api-reference/search/guide#limitations). Instead of paging one query with
// `after` offsets, every page is a fresh query starting at the last modified date seen (keyset
// paging), so no query ever goes deep, and a record modified while we read cannot shift the rest of the
// results under an offset. Records that share the boundary instant are read again and dropped by id;
// when a whole page shares one instant, that instant is walked by hs_object_id before moving past it.
import type { JsonObject } from '../../core/sdk/index.ts';
import type { SearchPage } from './client.ts';
import type { CrmRecord } from './streams.ts';

export interface SearchSpec {
  /** The last-modified property: lastmodifieddate on contacts, hs_lastmodifieddate elsewhere. */
  lastmod: string;
  /** Read records modified at or after this instant (epoch ms). */
  from: number;
  properties: string[];
  limit: number;
}

export type Search = (request: JsonObject) => Promise<SearchPage>;

/** When a record was last modified (epoch ms): its last-modified property, else updatedAt, else `fallback`. */
export function modifiedAt(record: CrmRecord, lastmod: string, fallback: number): number {
  const t = Date.parse(record.properties?.[lastmod] ?? record.updatedAt ?? '');
  return Number.isNaN(t) ? fallback : t;
}

/** Pages of records modified since `spec.from`, in ascending order of modification. */
export async function* modifiedSince(search: Search, spec: SearchSpec): AsyncGenerator<CrmRecord[]> {
  let at = spec.from;
  let inclusive = true;
  // Ids already yielded whose modification instant is `at`: the next query reads them again.
  let seen = new Set<string>();
  const sorts = [{ propertyName: spec.lastmod, direction: 'ASCENDING' }];
  for (;;) {
    const filters = [{ propertyName: spec.lastmod, operator: inclusive ? 'GTE' : 'GT', value: String(at) }];
    const page = await search({ filterGroups: [{ filters }], sorts, properties: spec.properties, limit: spec.limit });
    const fresh = page.results.filter((r) => !(seen.has(r.id) && modifiedAt(r, spec.lastmod, at) === at));
    if (fresh.length > 0) yield fresh;
    if (page.results.length === 0 || page.total <= page.results.length) return;
    const last = modifiedAt(page.results.at(-1)!, spec.lastmod, at);
    if (last > at) {
      at = last;
      inclusive = true;
      seen = new Set(page.results.filter((r) => modifiedAt(r, spec.lastmod, at) === last).map((r) => r.id));
      continue;
    }
    // A full page modified in the same millisecond (a bulk import or workflow): page by id within it.
    yield* sameInstant(search, spec, at, seen);
    inclusive = false;
    seen = new Set();
  }
}

async function* sameInstant(search: Search, spec: SearchSpec, at: number, seen: Set<string>): AsyncGenerator<CrmRecord[]> {
  const sorts = [{ propertyName: 'hs_object_id', direction: 'ASCENDING' }];
  let afterId: string | undefined;
  for (;;) {
    const filters: JsonObject[] = [
      { propertyName: spec.lastmod, operator: 'GTE', value: String(at) },
      { propertyName: spec.lastmod, operator: 'LTE', value: String(at) },
    ];
    if (afterId !== undefined) filters.push({ propertyName: 'hs_object_id', operator: 'GT', value: afterId });
    const page = await search({ filterGroups: [{ filters }], sorts, properties: spec.properties, limit: spec.limit });
    const fresh = page.results.filter((r) => !seen.has(r.id));
    if (fresh.length > 0) yield fresh;
    if (page.results.length === 0 || page.total <= page.results.length) return;
    afterId = page.results.at(-1)!.id;
  }
}
