// `touchpoint person <pipeline> <identifier>`: one person as the identity stage sees them — their
// identifiers (first and last seen, from which sources) and their events in time order, split into
// journeys when the journeys stage has built them. The identifier is `type:value` or a bare value
// (looked up under every type), normalised as loading does, so `Anna@Example.com` finds the email.
import { ConfigError } from '../../errors.ts';
import { storeUrlFor } from '../../engine/run.ts';
import { resolveIdentityConfig } from '../../identity/config.ts';
import { idText, personReport, rejectionsOf, resolveOne } from '../../identity/explain.ts';
import { openStore } from '../../store/index.ts';
import type { Command } from '../command.ts';
import { table } from '../render.ts';
import { loadAndCheck } from './validate.ts';

export const person: Command = {
  name: 'person',
  summary: 'show the person an identifier belongs to: identifiers, events and journeys',
  usage: 'person <pipeline> <identifier> [--limit N]',
  details: [
    'The identifier is type:value, or a bare value looked up under every identifier type.',
    'The pipeline names the store and how identifiers are normalised (identity.default_region).',
    '',
    'Examples:',
    '  touchpoint person pipelines/demo.yaml email:anna@example.com',
    '  touchpoint person pipelines/demo.yaml "+48 601 234 567" --json',
  ].join('\n'),
  options: {
    limit: { type: 'string', value: 'N', description: 'most events to show (default 200)' },
  },
  async run({ values, positionals }, output) {
    const [file, text, extra] = positionals;
    if (!file || !text || extra !== undefined) throw new ConfigError('person needs a pipeline file and one identifier', { hint: 'touchpoint person pipelines/demo.yaml email:anna@example.com' });
    const limit = values.limit === undefined ? 200 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new ConfigError(`--limit must be a positive whole number (got ${JSON.stringify(values.limit)})`);
    const pipeline = await loadAndCheck(file);
    output.secrets.push(...pipeline.secrets);
    const config = resolveIdentityConfig(pipeline.config.identity);
    const store = await openStore({ url: storeUrlFor(pipeline), readOnly: true, baseDir: process.cwd() });
    try {
      const ref = await resolveOne(store, text, config);
      const id = idText(ref.type, ref.value);
      if (ref.person_id === null) {
        const reasons = (await rejectionsOf(store, ref.type, ref.value)).map((r) => ({ rule: r.rule, detail: r.detail }));
        if (output.json) output.data({ identifier: id, person: null, reasons });
        else {
          output.out(`${id} belongs to no person`);
          for (const r of reasons) output.out(`  ${r.rule}: ${r.detail}`);
          if (reasons.length === 0) output.out('  (not stitched yet: run the pipeline, or `run --only identity`)');
        }
        return 0;
      }
      const report = (await personReport(store, ref.person_id, limit))!;
      if (output.json) {
        output.data({ identifier: id, ...report });
        return 0;
      }
      const p = report.person;
      output.out(`person ${p.person_id}: ${p.identifier_count} identifier(s), first seen ${p.first_seen_at ?? '?'}, last seen ${p.last_seen_at ?? '?'}`);
      output.out('');
      output.out(table(report.identifiers.map((i) => ({ identifier: idText(i.type, i.value), first_seen: i.first_seen_at, last_seen: i.last_seen_at, observations: i.observations, sources: i.sources.join(', ') }))));
      output.out('');
      output.out(`timeline (${report.events.length}${report.events.length === limit ? `, the first ${limit}: --limit for more` : ''} event(s))`);
      // The journey column marks journey boundaries; events that are no touchpoint (page views of
      // kind other) have none.
      const withJourneys = report.events.some((e) => e.journey_id !== null);
      output.out(
        table(
          report.events.map((e) => ({
            time: e.occurred_at,
            kind: e.kind,
            name: e.name,
            channel: e.channel,
            campaign: e.campaign,
            source: `${e.source}/${e.stream}`,
            ...(withJourneys
              ? { journey: e.journey_id === null ? '' : `#${e.journey_number} ${e.journey_status === 'converted' ? `→ ${e.conversion_name}` : 'open'}` }
              : {}),
          })),
        ),
      );
      if (report.merges.length > 0) {
        output.out('');
        output.out(table(report.merges.map((m) => ({ changed_at: m.changed_at, action: m.action, person: m.person_id, other: m.other_person_id, explanation: m.explanation }))));
      }
      return 0;
    } finally {
      await store.close();
    }
  },
};
