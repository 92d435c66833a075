// Stable person ids and the stage's output tables, as set-based SQL over the stitching's work tables
// (tpi_node, tpi_person, tpi_raw, tpi_rej) and the stored identity_map of the identifiers in scope.
// A person keeps its id while its identifiers stay together; merges and splits are decided by
// overlap with the previous persons (docs/identity.md, "Stable person ids"), written to
// person_merges, and every person whose identifier set changed is listed in identity_changes for
// the journeys stage. In an incremental run the scope is a union of whole components, so replacing
// the scope's rows gives exactly what a full recompute would.
import type { Knex } from 'knex';
import { RunError } from '../errors.ts';
import { refill } from '../store/rebuild.ts';
import { bytewise } from '../store/sql.ts';
import { drop, exec, jsonTextArray, scalar, temp } from './sql.ts';
import type { Sql } from './sql.ts';

export interface WriteOptions {
  runId: string;
  /** Recompute everything (every stored row is replaced), else only the identifiers in tpi_scope_ids. */
  full: boolean;
  now: Date;
}

export interface PersonStats {
  persons: number;
  created: number;
  updated: number;
  merged: number;
  split: number;
  removed: number;
}

const FRESH_ATTEMPTS = 8;

/** The public rule name of a refusal in tpi_rej (alias r): the guard its limit key belongs to. */
const RULE = `case when r.kind = 'never_alone' then 'never_alone' when substr(r.ckey, 1, 11) = 'never_link:' then 'never_link'
  when substr(r.ckey, 1, 11) = 'per_person:' then 'max_per_person' else 'max_component_size' end`;

/** `where` restricting stored rows (alias `t`) to the scope's identifiers. */
function inScope(full: boolean): string {
  return full ? 'true' : 'exists (select 1 from tpi_scope_ids s where s.identifier_type = t.identifier_type and s.identifier_value = t.identifier_value)';
}

/** Decides each person's id (tpi_np) and records merges, splits and changes. */
export async function assignIds(sql: Sql, options: WriteOptions): Promise<PersonStats> {
  const { runId, full } = options;
  await temp(sql, 'tpi_old', `select t.identifier_type, t.identifier_value, t.person_id from identity_map t where ${inScope(full)}`);
  await temp(
    sql,
    'tpi_oldp',
    `select o.person_id, count(*) as n, min(p.created_run_id) as created_run_id, min(p.updated_run_id) as updated_run_id, min(r.started_at) as created_at
     from tpi_old o left join persons p on p.person_id = o.person_id left join runs r on r.run_id = p.created_run_id
     group by o.person_id`,
  );
  await temp(
    sql,
    'tpi_size',
    `select p.pkey, count(*) as n, min(p.node_id) as key_node, min(nd.first_seen_at) as first_seen_at, max(nd.last_seen_at) as last_seen_at
     from tpi_person p join tpi_node nd on nd.node_id = p.node_id group by p.pkey`,
  );
  await temp(
    sql,
    'tpi_ov',
    `select p.pkey, o.person_id, count(*) as n from tpi_person p
     join tpi_node nd on nd.node_id = p.node_id
     join tpi_old o on o.identifier_type = nd.identifier_type and o.identifier_value = nd.identifier_value
     group by p.pkey, o.person_id`,
  );
  // heir(P): the new person holding most of P's identifiers (ties: the smallest identifier).
  await temp(sql, 'tpi_heir', 'select person_id, pkey from (select person_id, pkey, row_number() over (partition by person_id order by n desc, pkey) as rn from tpi_ov) h where rn = 1');
  // Of the previous persons naming it heir, a new person keeps the one it overlaps most
  // (ties: the earliest created, then the smallest id).
  await temp(
    sql,
    'tpi_take',
    `select pkey, person_id from (
       select h.pkey, h.person_id, row_number() over (
         partition by h.pkey order by v.n desc, op.created_at asc nulls last, ${bytewise('h.person_id', sql.dialect).text}) as rn
       from tpi_heir h join tpi_ov v on v.pkey = h.pkey and v.person_id = h.person_id join tpi_oldp op on op.person_id = h.person_id
     ) t where rn = 1`,
  );
  await temp(
    sql,
    'tpi_fresh',
    `select s.pkey, cast(0 as integer) as attempt, nd.identifier_type || ':' || nd.identifier_value as key_text,
       'p_' || substr(md5(nd.identifier_type || ':' || nd.identifier_value), 1, 16) as person_id
     from tpi_size s join tpi_node nd on nd.node_id = s.key_node where not exists (select 1 from tpi_take t where t.pkey = s.pkey)`,
  );
  // A fresh id is never one issued before (identity_changes logs every creation), e.g. to the
  // person this one split from: retry with a counter until it is new.
  for (let attempt = 0; ; attempt++) {
    const clashes = await exec(
      sql,
      // A join, not `in (…) or in (…)`: PostgreSQL runs OR-ed IN subqueries as plain subplans once
      // they outgrow work_mem, rescanning every issued id per fresh row (one such update ran for
      // over 11 minutes on a 10M-event store); a join against their union is one hash join.
      `update tpi_fresh set attempt = tpi_fresh.attempt + 1, person_id = 'p_' || substr(md5(tpi_fresh.key_text || '#' || cast(tpi_fresh.attempt + 1 as text)), 1, 16)
       from (select person_id from identity_changes union select person_id from persons union select person_id from tpi_take) issued
       where issued.person_id = tpi_fresh.person_id`,
    );
    if (clashes === 0) break;
    if (attempt >= FRESH_ATTEMPTS) throw new RunError('identity: could not find a fresh person id', { where: 'identity' });
  }
  await temp(
    sql,
    'tpi_np',
    `select s.pkey, coalesce(t.person_id, f.person_id) as person_id, t.person_id is not null as kept, s.n as identifier_count,
       case when t.person_id is null then 'created'
            when v.n = s.n and v.n = op.n then null
            else 'updated' end as change,
       op.created_run_id, op.updated_run_id
     from tpi_size s
     left join tpi_take t on t.pkey = s.pkey
     left join tpi_fresh f on f.pkey = s.pkey
     left join tpi_ov v on v.pkey = t.pkey and v.person_id = t.person_id
     left join tpi_oldp op on op.person_id = t.person_id`,
  );
  // Previous persons whose id did not survive: merged into their heir, or gone.
  await temp(
    sql,
    'tpi_gone',
    `select op.person_id, h.pkey, np.person_id as into_person_id from tpi_oldp op
     left join tpi_heir h on h.person_id = op.person_id left join tpi_np np on np.pkey = h.pkey
     where not exists (select 1 from tpi_take t where t.person_id = op.person_id)`,
  );
  const ids = (alias: string) => jsonTextArray(`${alias}.identifier_type || ':' || ${alias}.identifier_value`);
  const count = (where: string) => scalar(sql, `select count(*) as n from ${where}`);
  const merged = await count('tpi_gone where into_person_id is not null');
  const split = await count('tpi_ov v join tpi_heir h on h.person_id = v.person_id and h.pkey <> v.pkey');
  // Each statement below joins the identifiers of every previous person: skipped when it has nothing to write.
  if (merged > 0) await exec(
    sql,
    `insert into person_merges (run_id, action, person_id, other_person_id, identifiers, explanation, changed_at)
     select cast(? as text), 'merge', g.into_person_id, g.person_id, cast(${ids('o')} as json),
       'all ' || cast(count(*) as text) || ' identifier(s) of ' || g.person_id || ' now belong to ' || g.into_person_id, cast(? as timestamptz)
     from tpi_gone g join tpi_old o on o.person_id = g.person_id
     join tpi_node nd on nd.identifier_type = o.identifier_type and nd.identifier_value = o.identifier_value
     join tpi_person p on p.node_id = nd.node_id and p.pkey = g.pkey
     where g.into_person_id is not null
     group by g.into_person_id, g.person_id`,
    [runId, options.now],
  );
  // Splits: identifiers of a previous person that now belong to a person other than its heir.
  if (split > 0) await exec(
    sql,
    `insert into person_merges (run_id, action, person_id, other_person_id, identifiers, explanation, changed_at)
     select cast(? as text), 'split', v.person_id, np.person_id, cast(${ids('o')} as json),
       cast(count(*) as text) || ' identifier(s) of ' || v.person_id || ' left to form ' || np.person_id
         || coalesce(' (' || min(r.rules) || ')', ''), cast(? as timestamptz)
     from tpi_ov v join tpi_heir h on h.person_id = v.person_id and h.pkey <> v.pkey
     join tpi_np np on np.pkey = v.pkey
     join tpi_old o on o.person_id = v.person_id
     join tpi_node nd on nd.identifier_type = o.identifier_type and nd.identifier_value = o.identifier_value
     join tpi_person p on p.node_id = nd.node_id and p.pkey = v.pkey
     join tpi_raw rw on rw.node_id = v.pkey
     left join (
       select label, string_agg(rule, ', ' order by rule) as rules
       from (select distinct rw.label, ${RULE} as rule from tpi_rej r join tpi_raw rw on rw.node_id = r.node_id) d group by label
     ) r on r.label = rw.label
     group by v.person_id, np.person_id`,
    [runId, options.now],
  );
  await exec(
    sql,
    `insert into identity_changes (run_id, person_id, change)
     select cast(? as text), person_id, change from tpi_np where change is not null
     union all
     select cast(? as text), person_id, case when into_person_id is null then 'removed' else 'merged' end from tpi_gone`,
    [runId, runId],
  );
  return {
    persons: await count('tpi_np'),
    created: await count("tpi_np where change = 'created'"),
    updated: await count("tpi_np where change = 'updated'"),
    merged,
    removed: await count('tpi_gone where into_person_id is null'),
    split,
  };
}

/**
 * Brings `table` to the rows of the query `fresh` within the scope: deletes stored rows of the
 * scope that differ from (or are missing in) `fresh`, inserts the rows of `fresh` not stored. Rows
 * that did not change are not touched, which keeps a full recompute of a large, mostly unchanged
 * store cheap (DuckDB in particular pays for every index entry it deletes and re-inserts). A full
 * run into an empty table (the first run) inserts the query's rows directly, with no work table.
 */
async function replaceRows(
  sql: Sql, table: string, fresh: string, bindings: unknown[], key: string[], columns: string[], full: boolean, scope = inScope(full),
): Promise<void> {
  if (full && (await scalar(sql, `select count(*) as n from (select 1 from ${table} limit 1) t`)) === 0) {
    // PostgreSQL: indexed once after the insert rather than row by row (core/store/rebuild.ts).
    await refill(sql.db as Knex.Transaction, sql.dialect, [table], async () => {
      await exec(sql, `insert into ${table} (${columns.join(', ')}) select ${columns.map((c) => `f.${c}`).join(', ')} from (${fresh}) f`, bindings);
    }, { log: sql.log });
    return;
  }
  const work = `tpi_out_${table}`;
  await temp(sql, work, fresh, bindings);
  // Keys by equality (never null): PostgreSQL hashes or indexes that; by `is not distinct from`
  // alone it would compare every pair.
  const byKey = (a: string, b: string) => key.map((c) => `${a}.${c} = ${b}.${c}`).join(' and ');
  const same = [byKey('f', 't'), ...columns.filter((c) => !key.includes(c)).map((c) => `f.${c} is not distinct from t.${c}`)].join(' and ');
  await exec(sql, `delete from ${table} t where ${scope} and not exists (select 1 from ${work} f where ${same})`);
  await exec(
    sql,
    `insert into ${table} (${columns.join(', ')}) select ${columns.map((c) => `f.${c}`).join(', ')} from ${work} f
     where not exists (select 1 from ${table} t where ${byKey('t', 'f')})`,
  );
}

/** Writes the scope's rows of persons, identity_map, identity_nodes and identity_rejections. */
export async function writeOutputs(sql: Sql, options: WriteOptions): Promise<void> {
  const { runId, full } = options;
  await replaceRows(
    sql,
    'persons',
    `select np.person_id, s.first_seen_at, s.last_seen_at, np.identifier_count,
       case when np.kept then np.created_run_id else cast(? as text) end as created_run_id,
       case when np.change is null then np.updated_run_id else cast(? as text) end as updated_run_id
     from tpi_np np join tpi_size s on s.pkey = np.pkey`,
    [runId, runId],
    ['person_id'],
    ['person_id', 'first_seen_at', 'last_seen_at', 'identifier_count', 'created_run_id', 'updated_run_id'],
    full,
    // persons has no identifier columns: its scope is the previous persons of the scope's identifiers.
    full ? 'true' : 'person_id in (select person_id from tpi_oldp)',
  );
  await replaceRows(
    sql,
    'identity_map',
    'select nd.identifier_type, nd.identifier_value, np.person_id from tpi_person p join tpi_node nd on nd.node_id = p.node_id join tpi_np np on np.pkey = p.pkey',
    [],
    ['identifier_type', 'identifier_value'],
    ['identifier_type', 'identifier_value', 'person_id'],
    full,
  );
  await temp(
    sql,
    'tpi_ck',
    `select r.label, md5(nd.identifier_type || chr(31) || nd.identifier_value) as component_key
     from (select distinct label from tpi_raw) r join tpi_node nd on nd.node_id = r.label`,
  );
  await replaceRows(
    sql,
    'identity_nodes',
    `select nd.identifier_type, nd.identifier_value, ck.component_key, nd.observations
     from tpi_raw r join tpi_node nd on nd.node_id = r.node_id join tpi_ck ck on ck.label = r.label`,
    [],
    ['identifier_type', 'identifier_value'],
    ['identifier_type', 'identifier_value', 'component_key', 'observations'],
    full,
  );
  // Rows of blocked values have no component: the stage keeps those in step with the observations.
  await exec(sql, `delete from identity_rejections t where component_key is not null and ${inScope(full)}`);
  const what = `case when substr(r.ckey, 1, 11) = 'per_person:' then substr(r.ckey, 12) || ' values'
    when r.ckey = 'size' then 'identifiers (max_component_size)' else 'identifiers of a never_link rule' end`;
  const limit = `' (max ' || cast(r.lim as text) || ')'`;
  // The few rows of the large work tables that refusals name, found first into small tables: joined
  // to the whole of tpi_node, tpi_person, tpi_raw and tpi_np, DuckDB hashed all of them for each join
  // (0.2 s for 23 refusals), and PostgreSQL, guessing one row per filtered subquery, rescanned them
  // in nested loops (3.8 s).
  await temp(sql, 'tpi_rnode', 'select node_id, identifier_type, identifier_value from tpi_node where node_id in (select node_id from tpi_rej union select other_node from tpi_rej)');
  await temp(
    sql,
    'tpi_rperson',
    'select p.node_id, np.person_id from tpi_person p join tpi_np np on np.pkey = p.pkey where p.node_id in (select p1 from tpi_rej union select p2 from tpi_rej)',
  );
  await temp(
    sql,
    'tpi_rck',
    'select rw.node_id, ck.component_key from tpi_raw rw join tpi_ck ck on ck.label = rw.label where rw.node_id in (select node_id from tpi_rej)',
  );
  await exec(
    sql,
    `insert into identity_rejections (run_id, rule, identifier_type, identifier_value, other_identifier_type, other_identifier_value,
       person_id, other_person_id, detail, component_key)
     select cast(? as text),
       ${RULE},
       nd.identifier_type, nd.identifier_value, od.identifier_type, od.identifier_value, n1.person_id, n2.person_id,
       case r.kind
         when 'never_alone' then nd.identifier_type || ' never joins persons on its own: seen with ' || cast(r.na as text) || ' persons, attached to none'
         when 'guard' then 'joining ' || cast(r.na as text) || ' person(s) would hold ' || cast(r.n as text) || ' ' || ${what} || ${limit}
         when 'ambiguous' then 'links ' || cast(r.na as text) || ' persons that, with the other links between them, would hold too many ' || ${what} || ${limit}
         when 'limit' then 'the person already holds as many ' || ${what} || ' as allowed' || ${limit}
         when 'split' then 'seen together with identifiers holding ' || cast(r.n as text) || ' ' || ${what} || ${limit} || ' and nothing weaker to remove: kept apart'
       end,
       ck.component_key
     from tpi_rej r
     join tpi_rnode nd on nd.node_id = r.node_id
     left join tpi_rnode od on od.node_id = r.other_node
     left join tpi_rperson n1 on n1.node_id = r.p1
     left join tpi_rperson n2 on n2.node_id = r.p2
     join tpi_rck ck on ck.node_id = r.node_id`,
    [runId],
  );
  await drop(sql, 'tpi_rnode', 'tpi_rperson', 'tpi_rck');
}
