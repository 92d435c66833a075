// The shape of a CLI command. Each command is one file under commands/ that parses nothing itself:
// main.ts parses arguments against the command's declared options and handles errors and exit codes.
import type { Output } from './render.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  description: string;
  /** Shown in help as `--name <value>`. */
  value?: string;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  summary: string;
  /** e.g. `run <pipeline> [--only <stage>]` */
  usage: string;
  /** Extra help text (examples). */
  details?: string;
  options: Record<string, OptionSpec>;
  /** Returns the exit code: 0 ok, 1 run failed, 2 invalid config or usage. */
  run(args: ParsedArgs, output: Output): Promise<number>;
}

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', description: 'show help' },
  json: { type: 'boolean', description: 'machine-readable JSON on stdout' },
  quiet: { type: 'boolean', short: 'q', description: 'print only errors and the result' },
  verbose: { type: 'boolean', short: 'v', description: 'debug logging' },
};
