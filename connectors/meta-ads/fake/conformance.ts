// The conformance harness (`touchpoint connector test meta-ads`): the fake's token and ad account
// and two weeks of its fixtures; failures as the Graph API would send them.
import type { ConformanceHarnessFactory } from '../../../core/sdk/index.ts';
import { FAKE_ACCESS_TOKEN, startFake } from './index.ts';

const harness: ConformanceHarnessFactory = async () => {
  const fake = await startFake({ asyncPolls: 0 });
  return {
    config: { ...fake.config({ start_date: '2026-03-01', end_date: '2026-03-14' }) },
    secrets: [FAKE_ACCESS_TOKEN],
    fail: ({ status, headers, body, times }) =>
      fake.fail({ status, headers, body: body ?? { error: { message: 'injected failure', type: 'OAuthException', code: status === 401 ? 190 : 2, fbtrace_id: 'conformance' } } }, { times }),
    close: () => fake.close(),
  };
};
export default harness;
