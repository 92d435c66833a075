// The conformance harness (`touchpoint connector test google-ads`): the fake's OAuth refresh-token
// credentials and its fixtures moved so the last day is yesterday (click_view only reaches 90 days
// back from today); failures hit the API, never the token endpoint.
import type { ConformanceHarnessFactory } from '../../../core/sdk/index.ts';
import { FAKE_CREDENTIALS, adsError, fixtures, startFake } from './index.ts';
import type { GoogleAdsRow } from '../client.ts';

const LAST_FIXTURE_DAY = Date.UTC(2026, 2, 14);
const DAY = 86_400_000;

function shifted(rows: GoogleAdsRow[], days: number): GoogleAdsRow[] {
  return structuredClone(rows).map((r) => {
    const segments = r.segments as { date: string };
    segments.date = new Date(Date.parse(segments.date) + days * DAY).toISOString().slice(0, 10);
    return r;
  });
}

const harness: ConformanceHarnessFactory = async () => {
  const yesterday = Math.floor(Date.now() / DAY) * DAY - DAY;
  const days = Math.round((yesterday - LAST_FIXTURE_DAY) / DAY);
  const fake = await startFake({ campaignRows: shifted(fixtures.campaignDaily, days), clickRows: shifted(fixtures.clickView, days) });
  return {
    config: { ...fake.config({ start_date: new Date(yesterday - 13 * DAY).toISOString().slice(0, 10) }) },
    secrets: [FAKE_CREDENTIALS.developer_token, FAKE_CREDENTIALS.client_secret, FAKE_CREDENTIALS.refresh_token],
    fail: ({ status, headers, body, times }) =>
      fake.fail({ ...(body === undefined ? adsError(status, 'internalError', 'INTERNAL_ERROR', 'injected failure') : { status, body }), headers }, { times, on: 'search' }),
    close: () => fake.close(),
  };
};
export default harness;
