// Work that several modules of one period need — the funnel and path working tables, the stage
// funnel's counts, the transition matrix — done once per stage context: funnels, paths and CX all
// read them, and CX used to build them again. Keyed by the context object (one per period and
// transaction); dropWorkingTables (prepare.ts) drops the tables and forgets the context.
import type { AnalyticsContext } from './types.ts';

const done = new WeakMap<AnalyticsContext, Map<string, Promise<unknown>>>();

/** `build()` the first time `key` is asked for in this context; its promise afterwards. */
export function once<T>(ctx: AnalyticsContext, key: string, build: () => Promise<T>): Promise<T> {
  let byKey = done.get(ctx);
  if (!byKey) done.set(ctx, (byKey = new Map()));
  let p = byKey.get(key) as Promise<T> | undefined;
  if (!p) byKey.set(key, (p = build()));
  return p;
}

export function forget(ctx: object): void {
  done.delete(ctx as AnalyticsContext);
}
