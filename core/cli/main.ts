// The `touchpoint` command: parses arguments, dispatches to one command file, and turns errors into
// one clear message and an exit code (0 ok, 1 run failed, 2 invalid config or usage). Thin on
// purpose: every command calls into core/ and only formats what comes back.
import { parseArgs } from 'node:util';
import { closest } from '../config/diagnostics.ts';
import { ConfigError, isTouchpointError, toTouchpointError } from '../errors.ts';
import type { Command, OptionSpec } from './command.ts';
import { GLOBAL_OPTIONS } from './command.ts';
import { commands } from './commands/index.ts';
import { createOutput } from './render.ts';

const VERSION = '0.1.0';

function optionHelp(options: Record<string, OptionSpec>): string {
  return Object.entries(options)
    .map(([name, o]) => {
      const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` <${o.value ?? 'value'}>` : ''}`;
      return `  ${flag.padEnd(30)} ${o.description}`;
    })
    .join('\n');
}

export function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `touchpoint ${VERSION} — customer-journey analytics as code`,
    '',
    'Usage: touchpoint <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width + 2)} ${c.summary}`),
    '',
    'Global options:',
    optionHelp(GLOBAL_OPTIONS),
    '',
    'Run `touchpoint <command> --help` for a command\'s options.',
    'Exit codes: 0 ok, 1 run failed, 2 invalid config or usage.',
  ].join('\n');
}

export function commandHelp(command: Command): string {
  return [
    `Usage: touchpoint ${command.usage}`,
    '',
    command.summary,
    ...(Object.keys(command.options).length > 0 ? ['', 'Options:', optionHelp(command.options)] : []),
    '',
    'Global options:',
    optionHelp(GLOBAL_OPTIONS),
    ...(command.details ? ['', command.details] : []),
  ].join('\n');
}


export async function main(argv: string[]): Promise<number> {
  const wantsJson = argv.includes('--json');
  const output = createOutput({ json: wantsJson, quiet: argv.includes('--quiet') || argv.includes('-q') });
  const [name, ...rest] = argv;
  try {
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      output.out(mainHelp());
      return name ? 0 : 2;
    }
    if (name === '--version' || name === '-V') {
      output.out(VERSION);
      return 0;
    }
    const command = commands.find((c) => c.name === name);
    if (!command) {
      const guess = closest(name, commands.map((c) => c.name));
      throw new ConfigError(`unknown command "${name}"`, { hint: guess ? `did you mean "touchpoint ${guess}"?` : 'run `touchpoint --help` for the commands' });
    }
    const options = { ...GLOBAL_OPTIONS, ...command.options };
    let parsed;
    try {
      parsed = parseArgs({
        args: rest,
        options: Object.fromEntries(
          Object.entries(options).map(([k, o]) => [
            k,
            { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
          ]),
        ),
        allowPositionals: true,
        strict: true,
      });
    } catch (error) {
      throw new ConfigError((error as Error).message.split('\n')[0], { hint: `usage: touchpoint ${command.usage}` });
    }
    if (parsed.values.help) {
      output.out(commandHelp(command));
      return 0;
    }
    return await command.run(parsed as Parameters<Command['run']>[0], output);
  } catch (error) {
    const err = isTouchpointError(error) ? error : toTouchpointError(error);
    if (output.json) output.data({ error: { kind: err.kind, message: err.message, where: err.where, hint: err.hint } });
    else output.err(err.format());
    if (process.env.TOUCHPOINT_DEBUG && error instanceof Error) output.err(String(error.stack));
    return err.exitCode;
  }
}
