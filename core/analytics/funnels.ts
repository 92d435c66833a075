// PLACEHOLDER: filled in by the funnels work (see core/analytics/types.ts for the contract).
import type { AnalyticsContext, ResultRow } from './types.ts';

export async function computeFunnels(_ctx: AnalyticsContext): Promise<ResultRow[]> {
  return [];
}
