// The identity stage: identifier_observations in, persons and identity_map out, in one transaction.
// A run is incremental when it can be: only the components touched by observations loaded (or
// removed) since the last identity run are recomputed — they are whole components, so the result is
// exactly a full recompute's. A first run, `--full-refresh`, or a change of the stitching settings
// recomputes everything (person ids still stay stable: they are matched to the previous persons).
import type { Stage, StageContext } from '../engine/stages.ts';
import { CancelledError } from '../errors.ts';
import type { Logger } from '../sdk/types.ts';
import type { Store } from '../store/types.ts';
import { checkIdentityConfig, identityConfigHash, parseTypedIdentifier, resolveIdentityConfig } from './config.ts';
import type { IdentityConfig } from './config.ts';
import { buildNodes, stitch } from './graph.ts';
import type { Blocked } from './graph.ts';
import { normalizeOne, sha256Hex } from './normalize.ts';
import { assignIds, writeOutputs } from './persons.ts';
import { drop, exec, regexSearch, rows, scalar, temp } from './sql.ts';
import type { Sql } from './sql.ts';

export interface IdentityRunOptions {
  config: IdentityConfig;
  runId: string;
  /** Recompute every person (`run --full-refresh`). */
  full?: boolean;
  log?: Logger;
  now?: Date;
  /** Checked between phases: a cancelled run rolls the whole stage back. */
  signal?: AbortSignal;
  /** Called after each SQL statement with its first words and duration (benchmarks, debugging). */
  onStep?: (name: string, ms: number) => void;
}

export interface IdentitySummary {
  mode: 'full' | 'incremental';
  /** Identifiers recomputed (all of them in a full run). */
  identifiers: number;
  persons: number;
  created: number;
  updated: number;
  merged: number;
  split: number;
  removed: number;
  /** Refused links by rule (blocklist, never_alone, max_per_person, max_component_size, never_link), in the recomputed part. */
  rejected: Record<string, number>;
  /** Identifiers recomputed that belong to no person (blocked bridges, lone click ids). */
  unassigned: number;
  rounds: number;
  /** Milliseconds per phase: finding the scope, stitching, person ids, writing the tables. */
  ms: { scope: number; stitch: number; ids: number; write: number };
}

const STATE_KEY = 'identity';

export const identityStage: Stage = {
  name: 'identity',
  description: 'stitch identifiers into persons (identity_map, persons, person_merges)',
  async run(ctx: StageContext) {
    const config = resolveIdentityConfig(ctx.pipeline.config.identity);
    checkIdentityConfig(config, (path) => ctx.pipeline.locate(path));
    const summary = await runIdentity(ctx.store, { config, runId: ctx.runId, full: ctx.fullRefresh === true, log: ctx.log, signal: ctx.signal });
    return { ...summary };
  },
};

/** Runs stitching on a store (the stage's work, callable from tests and benchmarks). */
export async function runIdentity(store: Store, options: IdentityRunOptions): Promise<IdentitySummary> {
  const { config, runId } = options;
  const now = options.now ?? new Date();
  const hash = identityConfigHash(config);
  return store.knex.transaction(async (trx) => {
    // Work tables of an earlier run in this session were dropped with it or rolled back with it.
    const sql: Sql = { db: trx, dialect: store.dialect, tables: new Set(), onStep: options.onStep, log: options.log };
    const [state] = await rows<{ run_id: string; run_started_at: Date; config_hash: string }>(
      sql,
      'select run_id, run_started_at, config_hash from identity_state where stage = ?',
      [STATE_KEY],
    );
    const full = options.full === true || state === undefined || state.config_hash !== hash;
    const ms = { scope: 0, stitch: 0, ids: 0, write: 0 };
    let clock = performance.now();
    const lap = (phase: keyof typeof ms) => {
      if (options.signal?.aborted) throw new CancelledError();
      const t = performance.now();
      ms[phase] = Math.round(t - clock);
      clock = t;
    };
    const blocked = await prepareRules(sql, config, options.log);
    if (!full) await scope(sql, state, blocked);
    lap('scope');
    // A scope's identifiers were checked against the blocklist when it was found.
    await buildNodes(sql, config, full ? 'identifier_observations' : 'tpi_mem0', full ? blocked : undefined);
    const stats = await stitch(sql, config);
    lap('stitch');
    const summary: IdentitySummary = {
      mode: full ? 'full' : 'incremental',
      identifiers: await scalar(sql, 'select count(*) as n from tpi_node'),
      persons: 0, created: 0, updated: 0, merged: 0, split: 0, removed: 0, rejected: {}, unassigned: 0, rounds: stats.rounds, ms,
    };
    const write = { runId, full, now };
    Object.assign(summary, await assignIds(sql, write));
    lap('ids');
    await writeOutputs(sql, write);
    await writeBlocked(sql, blocked, { runId, full });
    lap('write');
    summary.persons = await scalar(sql, 'select count(*) as n from persons');
    // tpi_person holds each identifier of tpi_node at most once.
    summary.unassigned = summary.identifiers - (await scalar(sql, 'select count(*) as n from tpi_person'));
    const rejected = await rows<{ rule: string; n: number }>(
      sql,
      `select rule, count(*) as n from identity_rejections where run_id = ? group by rule order by rule`,
      [runId],
    );
    summary.rejected = Object.fromEntries(rejected.map((r) => [r.rule, Number(r.n)]));
    const [run] = await rows<{ started_at: Date }>(sql, 'select started_at from runs where run_id = ?', [runId]);
    await exec(sql, 'delete from identity_state where stage = ?', [STATE_KEY]);
    await exec(
      sql,
      'insert into identity_state (stage, run_id, run_started_at, config_hash, mode, built_at) values (?, ?, ?, ?, ?, ?)',
      [STATE_KEY, runId, run?.started_at ?? now, hash, summary.mode, now],
    );
    await drop(sql, ...sql.tables!);
    return summary;
  });
}

/** SQL true when row `o` (with identifier_type, identifier_value) holds a blocked value. */
type Predicate = Blocked;

/** Loads the blocklist (tpi_block) and never_link pairs (tpi_pairs); returns the blocked-value predicate. */
async function prepareRules(sql: Sql, config: IdentityConfig, log?: Logger): Promise<Predicate> {
  const normalize = (type: string, value: string) => normalizeOne(type, value, { defaultRegion: config.default_region, types: config.types })[0];
  await temp(sql, 'tpi_block', "select cast('' as text) as t, cast('' as text) as v, cast('' as text) as rule, cast('' as text) as reason where false");
  const entries: [string | null, string, string, string | null][] = [];
  const patterns: { type?: string; pattern: string }[] = [];
  for (const entry of config.blocklist) {
    if (entry.pattern !== undefined) {
      patterns.push({ type: entry.type, pattern: entry.pattern });
      continue;
    }
    const value = entry.type ? (normalize(entry.type, entry.value ?? '')?.value ?? String(entry.value ?? '').trim()) : String(entry.value ?? '').trim();
    entries.push([entry.type ?? null, value.toLowerCase(), 'blocklist', entry.reason ?? null]);
    // Sources that send hashes hash the normalised value: block the hash of a junk value too.
    if (value !== '') entries.push([null, sha256Hex(value), 'blocklist', entry.reason ?? null]);
  }
  for (const rule of config.never_link_values) {
    const id = parseTypedIdentifier(rule.identifier)!;
    const normalized = normalize(id.type, id.value);
    if (!normalized) {
      log?.warn(`never_link identifier ${rule.identifier} is not a valid ${id.type}: the rule matches nothing`);
      continue;
    }
    entries.push([normalized.type, normalized.value.toLowerCase(), 'never_link', rule.reason ?? null]);
  }
  for (let i = 0; i < entries.length; i += 200) {
    const chunk = entries.slice(i, i + 200);
    await exec(sql, `insert into tpi_block (t, v, rule, reason) values ${chunk.map(() => '(?, ?, ?, ?)').join(', ')}`, chunk.flat());
  }
  await temp(sql, 'tpi_pairs', "select cast(0 as integer) as j, cast('' as text) as identifier_type, cast('' as text) as identifier_value where false");
  for (const pair of config.never_link_pairs) {
    const ids = [pair.a, pair.b].map((text) => {
      const id = parseTypedIdentifier(text)!;
      return normalize(id.type, id.value);
    });
    if (!ids[0] || !ids[1]) {
      log?.warn(`never_link rule ${pair.index + 1} names an invalid identifier: it matches nothing`);
      continue;
    }
    for (const id of ids) await exec(sql, 'insert into tpi_pairs (j, identifier_type, identifier_value) values (?, ?, ?)', [pair.index, id!.type, id!.value]);
  }
  // Uncorrelated IN lists and one alternation per type: both engines hash the lists and run each
  // regular expression once per value (a correlated EXISTS with OR was 5 s on PostgreSQL at 330k ids).
  const parts = [
    'lower(o.identifier_value) in (select v from tpi_block where t is null)',
    "o.identifier_type || chr(31) || lower(o.identifier_value) in (select t || chr(31) || v from tpi_block where t is not null)",
  ];
  const bindings: unknown[] = [];
  const byType = new Map<string | undefined, string[]>();
  for (const p of patterns) byType.set(p.type, [...(byType.get(p.type) ?? []), p.pattern]);
  for (const [type, list] of byType) {
    const search = regexSearch(sql.dialect, 'lower(o.identifier_value)');
    parts.push(type === undefined ? search : `(o.identifier_type = ? and ${search})`);
    if (type !== undefined) bindings.push(type);
    bindings.push(list.map((pattern) => `(${pattern})`).join('|'));
  }
  return { text: parts.join(' or '), bindings };
}

/**
 * The incremental scope. An identifier changed when a run newer than the last identity run loaded
 * an observation of it (a re-loaded record's rows all carry the new run), or when its number of
 * observations differs from the count stored at the last run (an observation added or removed).
 * The scope is every identifier of the stored components of changed identifiers, plus the changed
 * ones: whole components, so recomputing them alone gives what a full recompute would
 * (docs/identity.md, "Incremental runs"). Fills tpi_chg (changed identifiers), tpi_scope_ids and
 * tpi_mem0 (the scope's observations).
 */
async function scope(sql: Sql, state: { run_id: string; run_started_at: Date }, blocked: Predicate): Promise<void> {
  await temp(sql, 'tpi_newruns', 'select run_id from runs where started_at > ? or (started_at = ? and run_id <> ?)', [
    state.run_started_at, state.run_started_at, state.run_id,
  ]);
  await temp(
    sql,
    'tpi_chg0',
    `select o.identifier_type, o.identifier_value from identifier_observations o where o.run_id in (select run_id from tpi_newruns)
     union
     select coalesce(c.identifier_type, n.identifier_type), coalesce(c.identifier_value, n.identifier_value)
     from (select identifier_type, identifier_value, count(*) as n from identifier_observations group by identifier_type, identifier_value) c
     full join identity_nodes n on n.identifier_type = c.identifier_type and n.identifier_value = c.identifier_value
     where c.n is null or n.observations is null or c.n <> n.observations`,
  );
  // Blocked values are never nodes: their counts always "differ", and they link nothing.
  await temp(sql, 'tpi_chg', `select o.identifier_type, o.identifier_value from tpi_chg0 o where not (${blocked.text})`, blocked.bindings);
  await temp(
    sql,
    'tpi_scope_ids',
    `select identifier_type, identifier_value from identity_nodes
     where component_key in (
       select n.component_key from tpi_chg c join identity_nodes n on n.identifier_type = c.identifier_type and n.identifier_value = c.identifier_value)
     union
     select identifier_type, identifier_value from tpi_chg`,
  );
  await temp(
    sql,
    'tpi_mem0',
    `select o.observation_id, o.identifier_type, o.identifier_value, o.observed_at from identifier_observations o
     join tpi_scope_ids s on s.identifier_type = o.identifier_type and s.identifier_value = o.identifier_value`,
  );
}

/** identity_rejections rows of blocked values (no component), kept in step with the observations. */
async function writeBlocked(sql: Sql, blocked: Predicate, options: { runId: string; full: boolean }): Promise<void> {
  await exec(
    sql,
    options.full
      ? 'delete from identity_rejections where component_key is null'
      : `delete from identity_rejections r where r.component_key is null and not exists (
           select 1 from identifier_observations o where o.identifier_type = r.identifier_type and o.identifier_value = r.identifier_value)`,
  );
  // Full: every blocked identifier buildNodes found; incremental: the changed ones that are blocked.
  const found = options.full ? 'select identifier_type, identifier_value from tpi_blocked' : `select o.identifier_type, o.identifier_value from tpi_chg0 o where ${blocked.text}`;
  await exec(
    sql,
    `insert into identity_rejections (run_id, rule, identifier_type, identifier_value, detail)
     select cast(? as text), case when nl.v is null then 'blocklist' else 'never_link' end, d.identifier_type, d.identifier_value,
       case when nl.v is null then 'the value is on the blocklist: it links nothing'
            else 'never_link: this value is never used to link' || coalesce(' (' || nl.reason || ')', '') end
     from (${found}) d
     left join (select t, v, min(reason) as reason from tpi_block where rule = 'never_link' group by t, v) nl
       on nl.t = d.identifier_type and nl.v = lower(d.identifier_value)
     where not exists (select 1 from identity_rejections r where r.component_key is null and r.identifier_type = d.identifier_type and r.identifier_value = d.identifier_value)`,
    [options.runId, ...(options.full ? [] : blocked.bindings)],
  );
}
