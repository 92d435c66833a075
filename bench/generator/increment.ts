// New web events for an incremental re-run of a generated world: people who arrive in the days
// after it ends, written as one more NDJSON file beside the monthly ones (the pipeline's glob picks
// it up; the files already loaded are unchanged, so only this file is new). Their ids start far
// above the world's (events, users), so nothing collides with or silently merges into it.
import { join } from 'node:path';
import { simulatePerson } from './people.ts';
import type { World } from './people.ts';
import { Random } from './random.ts';
import { LineWriter } from './writers.ts';

export interface IncrementOptions {
  /** The world's folder (its web/ gets the new file). */
  out: string;
  /** New web events wanted: people are simulated until at least this many events are written. */
  events: number;
  /** Differs from the world's seed (default: the world's + 1). */
  seed: number;
  /** First day of the new data, YYYY-MM-DD (the day after the world ends). */
  start: string;
  /** File name under web/ (must match the pipeline's glob, e.g. `events-increment-1.ndjson.gz`). */
  file: string;
  /** Days the new people arrive over (default 14). */
  days?: number;
}

const DAY = 86_400_000;
/** Above any id a generated world reaches (~12 events per person: 10M events stay far below). */
const ID_BASE = 1_000_000_000;

export async function generateIncrement(options: IncrementOptions): Promise<{ path: string; events: number }> {
  const start = Date.parse(`${options.start}T00:00:00Z`);
  if (!Number.isFinite(start)) throw new Error(`start must be YYYY-MM-DD (got ${options.start})`);
  const world: World = {
    rng: new Random(options.seed),
    start,
    end: start + (options.days ?? 14) * DAY - 1,
    ids: { event: ID_BASE, transaction: ID_BASE, user: ID_BASE, contact: ID_BASE, deal: ID_BASE, activity: ID_BASE },
  };
  const writer = new LineWriter(join(options.out, 'web', options.file));
  while (writer.rows < options.events) {
    for (const e of simulatePerson(world).events) await writer.write(JSON.stringify(e));
  }
  await writer.close();
  return { path: writer.path, events: writer.rows };
}
