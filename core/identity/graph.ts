// Stitching, as set-based SQL over work tables (nothing of the graph is read into Node). Input: the
// observations in scope (identifier_observations rows, normalised when they were loaded). Output: `tpi_raw(node_id, label)` — each identifier's
// unguarded connected component — `tpi_person(node_id, pkey)` — the identifiers that belong to a
// person, keyed by the person's smallest identifier — and `tpi_rej`, the links a guard refused.
//
// Identifiers are numbered in byte order of (type, value), so "smallest identifier" means the same on
// both engines and in a scoped run as in a full one. Connected components are computed by label
// propagation over star edges (each identifier of an observation to the observation's smallest),
// with pointer jumping (a node also takes its label's label), so a round count grows with the log
// of a component's diameter, not the diameter. The guard algorithm is specified in docs/identity.md.
import { RunError } from '../errors.ts';
import { countsTowardSize, rankOf, weakRank } from './config.ts';
import type { IdentityConfig } from './config.ts';
import { bytewise } from '../store/sql.ts';
import { drop, exec, rows, scalar, temp } from './sql.ts';
import type { Sql } from './sql.ts';

/**
 * Connected components of the graph whose edges join identifiers seen on one observation. `members`
 * selects `(observation_id, node_id)`; writes `out(node_id, label)`, label = the component's smallest
 * node_id, for every node in `members` and in `nodes` (a select of node_id). Returns the rounds it took.
 */
export async function components(sql: Sql, out: string, members: string, maxRounds: number, nodes?: string): Promise<number> {
  await temp(sql, `${out}_c`, `select observation_id, node_id, min(node_id) over (partition by observation_id) as center from (${members}) m`);
  await temp(
    sql,
    `${out}_e`,
    `select node_id as a, center as b from ${out}_c where node_id <> center
     union select center as a, node_id as b from ${out}_c where node_id <> center`,
  );
  await temp(sql, `${out}_0`, `select node_id, min(center) as label from ${out}_c group by node_id`);
  let round = 0;
  for (;;) {
    if (round >= maxRounds) {
      await drop(sql, `${out}_c`, `${out}_e`, `${out}_${round}`);
      throw new RunError(`identity: connected components did not settle within ${maxRounds} rounds of label propagation`, {
        where: 'identity',
        hint: 'each round at least halves the distance a label still has to travel, so this means a graph far deeper than real identity graphs: check identifier_observations for an identifier type that chains records together (e.g. a sequence number mapped as an identifier)',
      });
    }
    const from = `${out}_${round}`;
    const to = `${out}_${round + 1}`;
    await temp(
      sql,
      to,
      `with nb as (
         select e.a as node_id, min(l.label) as label from ${out}_e e join ${from} l on l.node_id = e.b group by e.a
       ), step as (
         select l.node_id, least(l.label, coalesce(nb.label, l.label)) as label, l.label as old
         from ${from} l left join nb on nb.node_id = l.node_id
       )
       select s.node_id, least(s.label, coalesce(j.label, s.label)) as label, s.old
       from step s left join step j on j.node_id = s.label`,
    );
    await drop(sql, from);
    round++;
    if ((await scalar(sql, `select count(*) as n from ${to} where label <> old`)) === 0) break;
  }
  await temp(sql, out, `select node_id, label from ${out}_${round}`);
  // Nodes on no linking observation are components of their own.
  if (nodes) await exec(sql, `insert into ${out} select node_id, node_id from (${nodes}) x where not exists (select 1 from ${out} o where o.node_id = x.node_id)`);
  await drop(sql, `${out}_c`, `${out}_e`, `${out}_${round}`);
  return round;
}

/** SQL true when the identifier (columns identifier_type, identifier_value of alias `o`) is blocked. */
export interface Blocked {
  text: string;
  bindings: unknown[];
}

/**
 * Numbers the identifiers in scope (tpi_node), keeps the observations that link (tpi_mem: those with
 * two or more identifiers — one alone links nothing — by an integer observation number), and lists what each identifier counts toward
 * (the guards' limits) in tpi_lim(node_id, ckey, lim). `source` holds the scope's observation rows;
 * `blocked`, when given, is applied to each distinct identifier (cheaper than to every row) and the
 * blocked ones are left in tpi_blocked. The limit keys sort in the order a refusal names its guard
 * when it breaks several: `never_link:<rule>`, then `per_person:<type>`, then `size`.
 */
export async function buildNodes(sql: Sql, config: IdentityConfig, source: string, blocked?: Blocked): Promise<void> {
  const R = weakRank(config);
  const whens: string[] = [];
  const rankBindings: unknown[] = [];
  if (config.never_alone.length > 0) {
    whens.push(`when identifier_type in (${config.never_alone.map(() => '?').join(', ')}) then ${R}`);
    rankBindings.push(...config.never_alone);
  }
  for (const type of config.strength) {
    whens.push(`when identifier_type = ? then ${rankOf(config, type)}`);
    rankBindings.push(type);
  }
  for (const type of config.strength) {
    whens.push(`when identifier_type = ? then ${rankOf(config, type)}`);
    rankBindings.push(`${type}_sha256`);
  }
  // Numbered and ranked in the pass that groups them (a sort of the grouped rows, no second pass).
  // Blocked identifiers are then deleted, leaving gaps in the numbers, which only ever matter by
  // their order.
  await temp(
    sql,
    'tpi_node',
    `select row_number() over (order by ${bytewise('identifier_type', sql.dialect).text}, ${bytewise('identifier_value', sql.dialect).text}) as node_id,
       identifier_type, identifier_value, case ${whens.join(' ')} else ${config.strength.length + 1} end as rank,
       min(observed_at) as first_seen_at, max(observed_at) as last_seen_at, count(*) as observations
     from ${source} group by identifier_type, identifier_value`,
    rankBindings,
  );
  if (blocked) {
    await temp(sql, 'tpi_blocked', `select o.node_id, o.identifier_type, o.identifier_value from tpi_node o where ${blocked.text}`, blocked.bindings);
    await exec(sql, 'delete from tpi_node where node_id in (select node_id from tpi_blocked)');
  }
  // The linking observations first, then only their rows are joined to tpi_node by text (a quarter
  // of the rows in the benchmark's world): in one statement DuckDB joined every row, then filtered.
  // They are numbered in any order: every later pass only partitions and joins on the number, which
  // halves the cost of those passes against the text id.
  await temp(sql, 'tpi_link', `select observation_id, row_number() over () as obs from ${source} group by observation_id having count(*) >= 2`);
  await temp(
    sql,
    'tpi_mem',
    `select l.obs as observation_id, n.node_id, n.rank
     from ${source} m join tpi_link l on l.observation_id = m.observation_id
     join tpi_node n on n.identifier_type = m.identifier_type and n.identifier_value = m.identifier_value`,
  );
  await drop(sql, 'tpi_link');
  const parts: string[] = [];
  const bindings: unknown[] = [];
  const sizeTypes = [...config.never_alone, ...config.hash.map((t) => `${t}_sha256`)].filter((t) => !countsTowardSize(config, t));
  parts.push(
    `select node_id, cast('size' as text) as ckey, cast(? as integer) as lim from tpi_node${sizeTypes.length > 0 ? ` where identifier_type not in (${sizeTypes.map(() => '?').join(', ')})` : ''}`,
  );
  bindings.push(config.max_component_size, ...sizeTypes);
  for (const [type, max] of Object.entries(config.max_per_person).sort(([a], [b]) => (a < b ? -1 : 1))) {
    parts.push(`select node_id, cast(? as text) as ckey, cast(? as integer) as lim from tpi_node where identifier_type = ?`);
    bindings.push(`per_person:${type}`, max, type);
  }
  parts.push(
    `select n.node_id, 'never_link:' || cast(p.j as text) as ckey, 1 as lim from tpi_node n
     join tpi_pairs p on p.identifier_type = n.identifier_type and p.identifier_value = n.identifier_value`,
  );
  await temp(sql, 'tpi_lim', parts.join(' union all '), bindings);
}

/**
 * The work tables a pass reads: the linking observations' members and the guard counts. After the
 * first level they are cut down to the components that break a guard: every later pass but the
 * never_alone level stays inside those (an identifier seen with another is in its component), so
 * its statements read hundreds of rows instead of every identifier's.
 */
interface Graph {
  mem: string;
  lim: string;
}

const WHOLE: Graph = { mem: 'tpi_mem', lim: 'tpi_lim' };
const BROKEN: Graph = { mem: 'tpi_mem_b', lim: 'tpi_lim_b' };

/**
 * Whether any never_alone identifier has a row in tpi_lim (see buildNodes): only through a
 * max_per_person or a never_link pair naming its type, as never_alone types never count toward
 * max_component_size. Decided from the configuration and the few never_link pairs, not by looking
 * for such rows: PostgreSQL planned `… in (…) limit 1` over the two large tables as a nested loop
 * (minutes at 10M events).
 */
async function weakCountsTowardGuards(sql: Sql, config: IdentityConfig): Promise<boolean> {
  if (config.never_alone.length === 0) return false;
  if (config.never_alone.some((type) => config.max_per_person[type] !== undefined)) return true;
  const list = config.never_alone.map(() => '?').join(', ');
  return (await scalar(sql, `select count(*) as n from tpi_pairs where identifier_type in (${list})`, config.never_alone)) > 0;
}

/** Components of `labels` that break a guard: `(label, ckey, n, lim)`, the guard's count and limit. */
function violations(labels: string, g: Graph): string {
  return `select l.label, c.ckey, count(*) as n, min(c.lim) as lim
    from ${labels} l join ${g.lim} c on c.node_id = l.node_id
    group by l.label, c.ckey having count(*) > min(c.lim)`;
}

export interface StitchStats {
  /** Label-propagation rounds over every pass (raw components, each level, each attachment). */
  rounds: number;
}

/** Raw components, then the guarded persons (docs/identity.md, "Guards"). */
export async function stitch(sql: Sql, config: IdentityConfig): Promise<StitchStats> {
  const stats: StitchStats = { rounds: 0 };
  const max = config.max_rounds;

  // Top-down: the components at each strength level, kept when they satisfy every guard, split at
  // the next level (without this level's identifiers) when they do not.
  const R = weakRank(config);
  const ranks = (await rows<{ rank: number }>(sql, `select distinct rank from tpi_node where rank < ${R} order by rank desc`)).map((r) => Number(r.rank));
  await temp(sql, 'tpi_lvl', 'select cast(0 as integer) as lvl, node_id, node_id as label, true as ok from tpi_node where false');
  await temp(sql, 'tpi_act', `select node_id, rank from tpi_node where rank < ${R}`);
  const visited: number[] = [];
  for (const r of ranks) {
    visited.push(r);
    const first = visited.length === 1;
    const g = first ? WHOLE : BROKEN;
    stats.rounds += await components(
      sql,
      'tpi_cr',
      // At the first level every identifier below never_alone is active.
      first
        ? `select observation_id, node_id from ${g.mem} where rank <= ${r}`
        : `select m.observation_id, m.node_id from ${g.mem} m join tpi_act a on a.node_id = m.node_id where a.rank <= ${r}`,
      max,
      `select node_id from tpi_act where rank <= ${r}`,
    );
    await temp(sql, 'tpi_viol', `select distinct label from (${violations('tpi_cr', g)}) v`);
    if (first) {
      // The first level holds every identifier but the weak ones: the raw components are its
      // components joined by the weak identifiers' observations, found on the contracted graph.
      // Its kept components are persons as they are (tpi_kept, taken in after the stronger levels).
      await temp(sql, 'tpi_top', 'select node_id, label from tpi_cr');
      await temp(sql, 'tpi_kept', 'select c.node_id, c.label from tpi_cr c left join tpi_viol v on v.label = c.label where v.label is null');
      await temp(sql, 'tpi_brk', 'select c.node_id from tpi_cr c join tpi_viol v on v.label = c.label');
      await temp(sql, BROKEN.mem, 'select observation_id, node_id, rank from tpi_mem where node_id in (select node_id from tpi_brk)');
      await temp(sql, BROKEN.lim, 'select node_id, ckey, lim from tpi_lim where node_id in (select node_id from tpi_brk)');
      await exec(sql, `insert into tpi_lvl select ${r}, node_id, label, false from tpi_cr where node_id in (select node_id from tpi_brk)`);
    } else {
      await exec(
        sql,
        `insert into tpi_lvl select ${r}, c.node_id, c.label, v.label is null from tpi_cr c left join tpi_viol v on v.label = c.label`,
      );
    }
    await temp(
      sql,
      'tpi_act2',
      `select a.node_id, a.rank from tpi_act a join tpi_cr c on c.node_id = a.node_id join tpi_viol v on v.label = c.label where a.rank < ${r}`,
    );
    await temp(sql, 'tpi_act', 'select node_id, rank from tpi_act2');
    if ((await scalar(sql, 'select count(*) as n from tpi_act')) === 0) break;
  }
  await rawComponents(sql, visited.length > 0, R, stats, max);

  // Bottom-up: kept components become persons; at each level the identifiers peeled off a broken
  // component attach to the persons below them where no guard objects.
  await temp(sql, 'tpi_assign', 'select node_id, node_id as pkey from tpi_node where false');
  // Each guard's limit, for the refusals' messages (the same at every level).
  await temp(sql, 'tpi_limits', 'select ckey, min(lim) as lim from tpi_lim group by ckey');
  await temp(
    sql,
    'tpi_rej',
    `select cast(null as text) as kind, node_id, node_id as other_node, node_id as p1, node_id as p2, cast(null as text) as ckey,
       cast(0 as bigint) as n, cast(0 as bigint) as lim, cast(0 as bigint) as na from tpi_node where false`,
  );
  for (const r of visited.toReversed()) {
    await exec(sql, `insert into tpi_assign select node_id, label from tpi_lvl where lvl = ${r} and ok`);
    await attachLevel(
      sql,
      `select l.node_id from tpi_lvl l join tpi_node n on n.node_id = l.node_id where l.lvl = ${r} and not l.ok and n.rank = ${r}`,
      false,
      stats,
      max,
      BROKEN,
      true,
    );
  }
  // The first level's kept components, after the split ones were resolved within themselves.
  if (visited.length > 0) await exec(sql, 'insert into tpi_assign select node_id, label from tpi_kept');
  await attachLevel(sql, `select node_id from tpi_node where rank = ${R}`, true, stats, max, WHOLE, await weakCountsTowardGuards(sql, config));
  // A person's key is its smallest identifier, whatever order it was assembled in.
  await temp(sql, 'tpi_person', 'select node_id, min(node_id) over (partition by pkey) as pkey from tpi_assign');
  await drop(sql, 'tpi_lvl', 'tpi_act', 'tpi_act2', 'tpi_cr', 'tpi_viol', 'tpi_assign', 'tpi_limits', 'tpi_kept', 'tpi_brk', BROKEN.mem, BROKEN.lim);
  return stats;
}

/**
 * tpi_raw, the unguarded components. With the first level's components (tpi_top: every identifier
 * but the weak ones) only the observations holding a weak identifier can join more: their members
 * are replaced by their top-level label (the smallest node of that component, so minima are
 * unchanged) and the components of that small graph relabel whole top-level components. Weak
 * identifiers seen with one top-level component only (and no other weak one) are its leaves and
 * are left out of that graph: they take the component's label.
 */
async function rawComponents(sql: Sql, top: boolean, R: number, stats: StitchStats, max: number): Promise<void> {
  if (!top) {
    stats.rounds += await components(sql, 'tpi_raw', 'select observation_id, node_id from tpi_mem', max, 'select node_id from tpi_node');
    return;
  }
  // The observations holding a weak identifier, their members contracted to top-level labels.
  await temp(
    sql,
    'tpi_wm',
    `select distinct m.observation_id, coalesce(t.label, m.node_id) as node_id, m.rank = ${R} as weak
     from tpi_mem m left join tpi_top t on t.node_id = m.node_id
     where m.observation_id in (select observation_id from tpi_mem where rank = ${R})`,
  );
  // A weak identifier seen only with one top-level component (most click ids: one click, one
  // browser) is a leaf of that graph: it joins nothing and takes that component's label. Only the
  // observations of the others are propagated.
  await temp(
    sql,
    'tpi_wn',
    `select a.node_id, count(distinct b.node_id) = 1 and max(case when b.weak then 1 else 0 end) = 0 as leaf, min(b.node_id) as nb
     from tpi_wm a join tpi_wm b on b.observation_id = a.observation_id and b.node_id <> a.node_id
     where a.weak group by a.node_id`,
  );
  stats.rounds += await components(
    sql,
    'tpi_wk',
    `select observation_id, node_id from tpi_wm
     where observation_id in (select w.observation_id from tpi_wm w join tpi_wn n on n.node_id = w.node_id where not n.leaf)`,
    max,
  );
  // Each identifier's label before the weak links (its top-level label, a leaf's neighbour's, or
  // its own), then the label the weak links give that one.
  await temp(
    sql,
    'tpi_raw',
    `select b.node_id, coalesce(w.label, b.base) as label
     from (
       select n.node_id, coalesce(t.label, case when wn.leaf then wn.nb end, n.node_id) as base from tpi_node n
       left join tpi_top t on t.node_id = n.node_id left join tpi_wn wn on wn.node_id = n.node_id
     ) b left join tpi_wk w on w.node_id = b.base`,
  );
  await drop(sql, 'tpi_top', 'tpi_wk', 'tpi_wm', 'tpi_wn');
}

/**
 * For the groups in tpi_g(node_id, label): the persons each touches (tpi_adj, tpi_gs: how many, the
 * first two), the guard counts of the group (tpi_gc), of those persons (tpi_pc) and of their union
 * (tpi_usum), and the first guard that union breaks (tpi_ubad). `again`: the groups are unions of
 * the single identifiers of the previous call and tpi_assign has not changed since, so the persons
 * each identifier touches (tpi_adjn) and the persons' counts are reused instead of recomputed.
 */
async function measureGroups(sql: Sql, again: boolean, g: Graph, guarded: boolean): Promise<void> {
  if (!again) {
    await temp(
      sql,
      'tpi_adjn',
      `select distinct g.node_id, a.pkey from tpi_g g
       join ${g.mem} m1 on m1.node_id = g.node_id
       join ${g.mem} m2 on m2.observation_id = m1.observation_id
       join tpi_assign a on a.node_id = m2.node_id`,
    );
  }
  await temp(
    sql,
    'tpi_adj',
    `select glabel, pkey, row_number() over (partition by glabel order by pkey) as rn from (
       select distinct g.label as glabel, a.pkey from tpi_g g join tpi_adjn a on a.node_id = g.node_id
     ) d`,
  );
  await temp(
    sql,
    'tpi_gs',
    `select g.glabel, count(a.pkey) as na, min(a.pkey) as p1, min(case when a.rn = 2 then a.pkey end) as p2
     from (select distinct label as glabel from tpi_g) g left join tpi_adj a on a.glabel = g.glabel group by g.glabel`,
  );
  if (!guarded) {
    // No peeled identifier counts toward a guard: a union breaks one only if a person already
    // does, which none can. Nothing to count; the refusals' joins find no broken guard.
    await temp(sql, 'tpi_usum', 'select glabel, ckey, n, lim from tpi_gs, (select cast(null as text) as ckey, cast(0 as bigint) as n, cast(0 as bigint) as lim) z where false');
    await temp(sql, 'tpi_ubad', 'select glabel, ckey from tpi_usum');
    return;
  }
  await temp(sql, 'tpi_gc', `select g.label as glabel, c.ckey, count(*) as n, min(c.lim) as lim from tpi_g g join ${g.lim} c on c.node_id = g.node_id group by g.label, c.ckey`);
  if (!again) {
    await temp(
      sql,
      'tpi_pc',
      `select a.pkey, c.ckey, count(*) as n, min(c.lim) as lim from tpi_assign a join ${g.lim} c on c.node_id = a.node_id
       where a.pkey in (select pkey from tpi_adjn) group by a.pkey, c.ckey`,
    );
  }
  await temp(
    sql,
    'tpi_usum',
    `select glabel, ckey, sum(n) as n, max(lim) as lim from (
       select glabel, ckey, n, lim from tpi_gc
       union all
       select a.glabel, pc.ckey, pc.n, pc.lim from tpi_adj a join tpi_pc pc on pc.pkey = a.pkey
     ) u group by glabel, ckey`,
  );
  await temp(sql, 'tpi_ubad', 'select glabel, min(ckey) as ckey from tpi_usum where n > lim group by glabel');
}

/**
 * Attaches peeled identifiers (`peeled` selects node ids, all of one level) to the persons built so
 * far, in groups (peeled identifiers seen together). `weak`: the never_alone level, whose groups
 * attach to exactly one person and never join two. Refusals go to tpi_rej with their kind:
 * `never_alone` (a click id touching several persons), `guard` (joining would break a guard),
 * `ambiguous` (links that are each fine but together would break one), `limit` (the person already
 * took as many as the guard allows) and `split` (seen together on one record yet breaking a guard
 * with nothing weaker to remove: each identifier stays alone).
 */
async function attachLevel(sql: Sql, peeled: string, weak: boolean, stats: StitchStats, max: number, g: Graph, guarded: boolean): Promise<void> {
  await temp(sql, 'tpi_p', peeled);
  if ((await scalar(sql, 'select count(*) as n from tpi_p')) === 0) return;
  // `guarded` false (only at the never_alone level, when its types count toward no guard): a group
  // attaches to the one person it touches with no guard to check (the default, and most of the
  // level's cost otherwise).
  // First each identifier alone: one that would break a guard with the persons it touches is out
  // before groups form, so a junk value cannot glue the identifiers seen with it into one group.
  await temp(sql, 'tpi_g', 'select node_id, node_id as label from tpi_p');
  await measureGroups(sql, false, g, guarded);
  const reject = (kind: string, where: string) =>
    exec(
      sql,
      `insert into tpi_rej
       select '${kind}', g.node_id, case when s.p2 is not null then s.p2 when s.p1 is not null then s.p1 when g.node_id <> s.glabel then s.glabel end,
         s.p1, s.p2, b.ckey, u.n, u.lim, s.na
       from tpi_g g join tpi_gs s on s.glabel = g.label
       left join tpi_ubad b on b.glabel = s.glabel
       left join tpi_usum u on u.glabel = b.glabel and u.ckey = b.ckey
       where ${where}`,
    );
  if (weak) await reject('never_alone', 's.na >= 2');
  if (!guarded) {
    // The identifiers that touch at most one person form groups: when no record holds two of them
    // (gclid and fbclid rarely meet) every group is one identifier, as measured already. A group
    // touching two persons is refused; one touching one attaches to it.
    const pairs = await scalar(
      sql,
      `select count(*) as n from (select m.observation_id from ${g.mem} m join tpi_p p on p.node_id = m.node_id group by m.observation_id having count(*) >= 2 limit 1) x`,
    );
    if (pairs > 0) {
      await temp(sql, 'tpi_p2', 'select p.node_id from tpi_p p join tpi_gs s on s.glabel = p.node_id where s.na <= 1');
      stats.rounds += await components(sql, 'tpi_g', `select m.observation_id, m.node_id from ${g.mem} m join tpi_p2 p on p.node_id = m.node_id`, max, 'select node_id from tpi_p2');
      await measureGroups(sql, true, g, guarded);
      await reject('never_alone', 's.na >= 2');
    }
    await exec(sql, 'insert into tpi_assign select g.node_id, a.pkey from tpi_g g join tpi_gs s on s.glabel = g.label join tpi_adj a on a.glabel = s.glabel where s.na = 1');
    await drop(sql, ...LEVEL_TABLES);
    return;
  }
  await reject('guard', `s.na ${weak ? '= 1' : '>= 1'} and b.glabel is not null`);
  await temp(
    sql,
    'tpi_p2',
    `select p.node_id from tpi_p p join tpi_gs s on s.glabel = p.node_id
     where ${weak ? 's.na <= 1 and ' : ''}(s.na = 0 or not exists (select 1 from tpi_ubad b where b.glabel = s.glabel))`,
  );
  stats.rounds += await components(sql, 'tpi_g', `select m.observation_id, m.node_id from ${g.mem} m join tpi_p2 p on p.node_id = m.node_id`, max, 'select node_id from tpi_p2');
  await measureGroups(sql, true, g, true);
  if (weak) {
    await reject('never_alone', 's.na >= 2');
    await reject('guard', 's.na = 1 and b.glabel is not null');
    await temp(sql, 'tpi_cand', 'select glabel, na from tpi_gs s where na = 1 and not exists (select 1 from tpi_ubad b where b.glabel = s.glabel)');
  } else {
    // Alone: a person of its own if it keeps every guard, else each identifier alone.
    await exec(
      sql,
      `insert into tpi_assign select g.node_id, case when b.glabel is null then g.label else g.node_id end
       from tpi_g g join tpi_gs s on s.glabel = g.label left join tpi_ubad b on b.glabel = s.glabel where s.na = 0`,
    );
    await reject('split', 's.na = 0 and b.glabel is not null and g.node_id <> s.glabel');
    await reject('guard', 's.na >= 1 and b.glabel is not null');
    await temp(sql, 'tpi_cand', 'select glabel, na from tpi_gs s where na >= 1 and not exists (select 1 from tpi_ubad b where b.glabel = s.glabel)');
  }

  // Groups touching several persons merge them: the merged entities are components over persons.
  stats.rounds += await components(
    sql,
    'tpi_mg',
    'select a.glabel as observation_id, a.pkey as node_id from tpi_adj a join tpi_cand c on c.glabel = a.glabel where c.na >= 2',
    max,
  );
  await temp(
    sql,
    'tpi_ent',
    'select p.pkey, coalesce(m.label, p.pkey) as mlabel from (select distinct pkey from tpi_adj) p left join tpi_mg m on m.node_id = p.pkey',
  );
  await temp(
    sql,
    'tpi_cm',
    'select c.glabel, c.na, min(e.mlabel) as mlabel, min(a.pkey) as pkey from tpi_cand c join tpi_adj a on a.glabel = c.glabel join tpi_ent e on e.pkey = a.pkey group by c.glabel, c.na',
  );
  await temp(
    sql,
    'tpi_ebad',
    `select mlabel, min(ckey) as ckey from (
       select mlabel, ckey, sum(n) as n, max(lim) as lim from (
         select e.mlabel, pc.ckey, pc.n, pc.lim from tpi_ent e join tpi_pc pc on pc.pkey = e.pkey
         union all
         select cm.mlabel, gc.ckey, gc.n, gc.lim from tpi_cm cm join tpi_gc gc on gc.glabel = cm.glabel
       ) u group by mlabel, ckey having sum(n) > max(lim)
     ) b group by mlabel`,
  );
  // Entities within every guard: one person.
  await exec(
    sql,
    `insert into tpi_assign select g.node_id, cm.mlabel from tpi_g g join tpi_cm cm on cm.glabel = g.label
     where not exists (select 1 from tpi_ebad b where b.mlabel = cm.mlabel)`,
  );
  await temp(
    sql,
    'tpi_assign2',
    `select a.node_id, coalesce(e.mlabel, a.pkey) as pkey from tpi_assign a
     left join tpi_ent e on e.pkey = a.pkey and not exists (select 1 from tpi_ebad b where b.mlabel = e.mlabel)`,
  );
  await temp(sql, 'tpi_assign', 'select node_id, pkey from tpi_assign2');
  // Entities that would break a guard: bridges are ambiguous and stay out; each person takes its
  // own groups in order (smallest identifier first) up to the first that would break a guard.
  await exec(
    sql,
    `insert into tpi_rej
     select 'ambiguous', g.node_id, s.p2, s.p1, s.p2, b.ckey, cast(null as bigint), l.lim, s.na
     from tpi_g g join tpi_cm cm on cm.glabel = g.label join tpi_ebad b on b.mlabel = cm.mlabel join tpi_gs s on s.glabel = g.label
     left join tpi_limits l on l.ckey = b.ckey
     where cm.na >= 2`,
  );
  await temp(
    sql,
    'tpi_pre',
    `with cand as (
       select cm.glabel, cm.pkey, row_number() over (partition by cm.pkey order by cm.glabel) as pos
       from tpi_cm cm join tpi_ebad b on b.mlabel = cm.mlabel where cm.na = 1
     ), cum as (
       select c.pkey, c.pos, gc.ckey, gc.lim,
         coalesce(pc.n, 0) + sum(gc.n) over (partition by c.pkey, gc.ckey order by c.pos rows between unbounded preceding and current row) as total
       from cand c join tpi_gc gc on gc.glabel = c.glabel left join tpi_pc pc on pc.pkey = c.pkey and pc.ckey = gc.ckey
     ), cut as (
       select pkey, min(pos) as pos from cum where total > lim group by pkey
     ), cutkey as (
       select x.pkey, min(x.ckey) as ckey from cum x join cut on cut.pkey = x.pkey and cut.pos = x.pos where x.total > x.lim group by x.pkey
     )
     select c.glabel, c.pkey, cut.pos is null or c.pos < cut.pos as accepted, k.ckey
     from cand c left join cut on cut.pkey = c.pkey left join cutkey k on k.pkey = c.pkey`,
  );
  await exec(sql, 'insert into tpi_assign select g.node_id, p.pkey from tpi_g g join tpi_pre p on p.glabel = g.label where p.accepted');
  await exec(
    sql,
    `insert into tpi_rej
     select 'limit', g.node_id, p.pkey, p.pkey, cast(null as bigint), p.ckey, cast(null as bigint), l.lim, 1
     from tpi_g g join tpi_pre p on p.glabel = g.label left join tpi_limits l on l.ckey = p.ckey where not p.accepted`,
  );
  await drop(sql, ...LEVEL_TABLES);
}

const LEVEL_TABLES = ['tpi_p', 'tpi_p2', 'tpi_g', 'tpi_adj', 'tpi_adjn', 'tpi_gs', 'tpi_gc', 'tpi_pc', 'tpi_usum', 'tpi_ubad', 'tpi_cand', 'tpi_mg', 'tpi_ent', 'tpi_cm', 'tpi_ebad', 'tpi_assign2', 'tpi_pre'];
