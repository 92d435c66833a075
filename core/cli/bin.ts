#!/usr/bin/env node
// Entry point of the `touchpoint` command (package.json "bin"). Runs on Node >= 22.12 with type
// stripping; `npm ci` puts Node 24 first on PATH for npm scripts and npx.
import { main } from './main.ts';

const code = await main(process.argv.slice(2));
process.exitCode = code;
