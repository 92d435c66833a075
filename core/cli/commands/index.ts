// Every CLI command, in the order `touchpoint --help` lists them. Adding a command is a file here
// and a line in this list.
import type { Command } from '../command.ts';
import { connector } from './connector.ts';
import { connectors } from './connectors.ts';
import { explain } from './explain.ts';
import { init } from './init.ts';
import { person } from './person.ts';
import { query } from './query.ts';
import { report } from './report.ts';
import { run } from './run.ts';
import { runs } from './runs.ts';
import { schedule } from './schedule.ts';
import { state } from './state.ts';
import { validate } from './validate.ts';

export const commands: Command[] = [init, validate, run, connectors, connector, state, runs, person, explain, query, report, schedule];
