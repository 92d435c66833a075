// Paging for declarative streams, one pure step per style: given the request just sent, the
// response and the records it held, the next request or undefined when this was the last page.
// Cursor (a token or a next URL in the body), offset/limit, page number, and RFC 8288 Link headers.
import { RunError } from '../../errors.ts';
import { valueAt } from '../records.ts';
import type { HttpRequest, HttpResponse } from '../types.ts';

export type PaginationSpec =
  | { type: 'cursor'; cursor_path?: string; cursor_param?: string; next_url_path?: string; has_more_path?: string }
  | { type: 'offset'; offset_param: string; limit_param: string; limit: number; total_path?: string }
  | { type: 'page'; page_param: string; start_page?: number; size_param?: string; size?: number }
  | { type: 'link_header' }
  | { type: 'none' };

/** The query parameters the first page carries (offset 0, page 1 …). */
export function firstPage(spec: PaginationSpec | undefined, req: HttpRequest): HttpRequest {
  if (spec?.type === 'offset') return { ...req, query: { ...req.query, [spec.offset_param]: 0, [spec.limit_param]: spec.limit } };
  if (spec?.type === 'page') {
    const query = { ...req.query, [spec.page_param]: spec.start_page ?? 1 };
    return { ...req, query: spec.size_param && spec.size ? { ...query, [spec.size_param]: spec.size } : query };
  }
  return req;
}

export function nextPage(spec: PaginationSpec | undefined, req: HttpRequest, res: HttpResponse, count: number): HttpRequest | undefined {
  if (!spec || spec.type === 'none') return undefined;
  const body = res.body;
  switch (spec.type) {
    case 'cursor': {
      if (spec.has_more_path && !valueAt(body, spec.has_more_path)) return undefined;
      if (spec.next_url_path) {
        const url = valueAt(body, spec.next_url_path);
        if (typeof url !== 'string' || url === '') return undefined;
        if (url === req.url) throw loop(`next URL ${spec.next_url_path}`);
        return { method: req.method, url, headers: req.headers };
      }
      const cursor = valueAt(body, spec.cursor_path!);
      if (cursor === undefined || cursor === null || cursor === '') return undefined;
      if (req.query?.[spec.cursor_param!] === cursor) throw loop(`cursor ${spec.cursor_path}`);
      return { ...req, query: { ...req.query, [spec.cursor_param!]: String(cursor) } };
    }
    case 'offset': {
      const offset = Number(req.query?.[spec.offset_param] ?? 0) + spec.limit;
      const total = spec.total_path ? Number(valueAt(body, spec.total_path)) : Number.NaN;
      if (count < spec.limit || (Number.isFinite(total) && offset >= total)) return undefined;
      return { ...req, query: { ...req.query, [spec.offset_param]: offset } };
    }
    case 'page': {
      if (count === 0 || (spec.size !== undefined && count < spec.size)) return undefined;
      return { ...req, query: { ...req.query, [spec.page_param]: Number(req.query?.[spec.page_param] ?? spec.start_page ?? 1) + 1 } };
    }
    case 'link_header': {
      const url = nextLink(res.headers.get('link'));
      return url ? { method: req.method, url, headers: req.headers } : undefined;
    }
  }
}

/** The rel="next" target of an RFC 8288 Link header (`<https://…?page=2>; rel="next", <…>; rel="last"`). */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m && /;\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(m[2])) return m[1];
  }
  return undefined;
}

function loop(what: string): RunError {
  return new RunError(`the API returned the same ${what} twice: paging would never end`, {
    hint: 'check the pagination paths in connector.yaml against a real response',
  });
}
