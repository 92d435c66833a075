// `touchpoint explain <pipeline> <identifier> <identifier>`: why two identifiers are one person — the
// shortest chain of observations joining them, each hop with its source, stream, record and time —
// or why they are not: the guard or never_link rule that kept them apart (with the chain the guard
// cut), a blocklisted value, or that nothing ever linked them.
import { ConfigError } from '../../errors.ts';
import { storeUrlFor } from '../../engine/run.ts';
import { resolveIdentityConfig } from '../../identity/config.ts';
import { explainLink, idText, resolveOne } from '../../identity/explain.ts';
import type { Hop } from '../../identity/explain.ts';
import { openStore } from '../../store/index.ts';
import type { Command } from '../command.ts';
import type { Output } from '../render.ts';
import { loadAndCheck } from './validate.ts';

function printPath(output: Output, from: string, path: Hop[]): void {
  output.out(`  ${from}`);
  for (const hop of path) {
    const where = `${hop.source}/${hop.stream} record ${hop.record_pk}${hop.observed_at ? ` at ${hop.observed_at}` : ''}`;
    output.out(`    └─ ${where} ─▶ ${hop.to}${hop.refused ? `   (left out: ${hop.refused})` : ''}`);
  }
}

export const explain: Command = {
  name: 'explain',
  summary: 'show why two identifiers are one person, or what kept them apart',
  usage: 'explain <pipeline> <identifier> <identifier>',
  details: [
    'Identifiers are type:value, or bare values looked up under every type.',
    '',
    'Example:',
    '  touchpoint explain pipelines/demo.yaml email:anna@example.com ga_client_id:1234567.1700000000',
  ].join('\n'),
  options: {},
  async run({ positionals }, output) {
    const [file, first, second, extra] = positionals;
    if (!file || !first || !second || extra !== undefined) {
      throw new ConfigError('explain needs a pipeline file and two identifiers', { hint: 'touchpoint explain pipelines/demo.yaml email:anna@example.com hubspot_contact_id:42' });
    }
    const pipeline = await loadAndCheck(file);
    output.secrets.push(...pipeline.secrets);
    const config = resolveIdentityConfig(pipeline.config.identity);
    const store = await openStore({ url: storeUrlFor(pipeline), readOnly: true, baseDir: process.cwd() });
    try {
      const a = await resolveOne(store, first, config);
      const b = await resolveOne(store, second, config);
      const result = await explainLink(store, a, b, config);
      if (output.json) {
        output.data(result);
        return 0;
      }
      const name = (ref: typeof a) => `${idText(ref.type, ref.value)}${ref.person_id ? ` (${ref.person_id})` : ' (no person)'}`;
      if (result.verdict === 'same_person') {
        output.out(`${idText(a.type, a.value)} and ${idText(b.type, b.value)} are one person, ${a.person_id}, linked by:`);
        if (result.path) printPath(output, idText(a.type, a.value), result.path);
        else output.out('  (the person\'s observations are too many to search)');
        return 0;
      }
      output.out(`${name(a)} and ${name(b)} are ${result.verdict === 'kept_apart' ? 'kept apart' : 'not linked'}:`);
      for (const r of result.reasons) output.out(`  ${r.rule}${r.identifier ? ` ${r.identifier}` : ''}: ${r.detail}`);
      if (result.path) {
        output.out('the chain the guards cut:');
        printPath(output, idText(a.type, a.value), result.path);
      }
      return 0;
    } finally {
      await store.close();
    }
  },
};
