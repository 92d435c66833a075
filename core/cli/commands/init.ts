// `touchpoint init [dir]`: a new project that validates and runs at once — a pipeline reading two
// small CSV files, the folders later stages use, .env.example, .gitignore and a README.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ConfigError } from '../../errors.ts';
import type { Command } from '../command.ts';

const PIPELINE = `# A Touchpoint pipeline: where the data comes from and how it maps to events, people and spend.
# Reference: docs/pipeline.md in the Touchpoint repository. Validate with: touchpoint validate pipelines/example.yaml
version: 1
name: example
# store: postgres://user:\${env:PGPASSWORD}@db.internal/analytics   # default: .touchpoint/example.duckdb
sources:
  - name: web
    connector: file
    config:
      streams:
        - name: events
          path: ../data/web-events.csv
          format: csv
          columns:
            event_id: { type: string, required: true }
            ts: { type: timestamp, required: true }
            event_name: string
            client_id: string
            email: string
            channel: string
            campaign: string
            revenue: number
          primary_key: [event_id]
          maps_to:
            event:
              id: event_id
              occurred_at: ts
              kind: { when: { column: event_name, in: [purchase] }, then: conversion, else: touch }
              name: event_name
              channel: channel
              campaign: campaign
              value: revenue
              currency: { const: EUR }
              identifiers: { ga_client_id: client_id, email: email }
  - name: ads
    connector: file
    config:
      streams:
        - name: spend
          path: ../data/ad-spend.csv
          format: csv
          columns:
            date: { type: date, required: true }
            campaign_id: { type: string, required: true }
            campaign: string
            cost: number
            clicks: integer
          primary_key: [date, campaign_id]
          maps_to:
            spend:
              date: date
              channel: { const: Paid Search }
              campaign_id: campaign_id
              campaign: campaign
              cost: cost
              currency: { const: EUR }
              clicks: clicks
`;

const EVENTS = `event_id,ts,event_name,client_id,email,channel,campaign,revenue
e1,2026-10-01T09:00:00Z,page_view,c1,,Paid Search,autumn-sale,
e2,2026-10-01T09:05:00Z,form_submit,c1,ada@example.com,Direct,,
e3,2026-10-03T18:20:00Z,page_view,c2,,Email,newsletter-42,
e4,2026-10-03T18:25:00Z,purchase,c2,ada@example.com,Email,newsletter-42,120.50
e5,2026-10-04T11:00:00Z,page_view,c3,,Organic Search,,
`;

const SPEND = `date,campaign_id,campaign,cost,clicks
2026-10-01,111,autumn-sale,42.10,31
2026-10-02,111,autumn-sale,39.80,27
`;

const FILES: Record<string, string> = {
  'pipelines/example.yaml': PIPELINE,
  'data/web-events.csv': EVENTS,
  'data/ad-spend.csv': SPEND,
  'reports/README.md': '# Reports\n\nReport definitions (`*.yaml`): which pipeline, period, sections, schedule and recipients.\n',
  'templates/README.md': '# Templates\n\nHandlebars templates and partials for your own report layouts; the built-in `cx` and `roi` templates need nothing here.\n',
  '.env.example': '# Secrets come only from the environment: copy to .env (never committed) and fill in.\n# TOUCHPOINT_DATABASE_URL=postgres://touchpoint:secret@localhost:5432/touchpoint\n# HUBSPOT_TOKEN=\n# SMTP_URL=smtp://user:pass@smtp.example.com:587\n',
  '.gitignore': '.env\n.touchpoint/\nout/\n',
  'README.md': [
    '# Touchpoint project',
    '',
    'Customer-journey analytics as code: pipelines in `pipelines/`, reports in `reports/`, templates in `templates/`.',
    '',
    '```sh',
    'touchpoint validate pipelines/example.yaml   # schema, connector configs, secrets',
    'touchpoint run pipelines/example.yaml        # extract, load and build journeys into .touchpoint/example.duckdb',
    'touchpoint runs                              # the run ledger',
    '```',
    '',
    'Secrets go in the environment or in `.env` (see `.env.example`), referenced as `${env:NAME}`.',
    '',
  ].join('\n'),
};

export const init: Command = {
  name: 'init',
  summary: 'scaffold a new project (pipelines/, reports/, templates/, .env.example, README)',
  usage: 'init [dir]',
  options: {
    force: { type: 'boolean', description: 'write into a folder that is not empty (existing files are kept)' },
  },
  async run({ values, positionals }, output) {
    const dir = resolve(positionals[0] ?? '.');
    if (existsSync(dir) && readdirSync(dir).length > 0 && !values.force) {
      throw new ConfigError(`${relative(process.cwd(), dir) || '.'} is not empty`, { hint: 'choose a new folder, or pass --force to add only the missing files' });
    }
    const written: string[] = [];
    for (const [file, content] of Object.entries(FILES)) {
      const path = join(dir, file);
      if (existsSync(path)) continue;
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, content);
      written.push(file);
    }
    if (output.json) output.data({ dir, files: written });
    else {
      output.out(`created ${written.length} files in ${relative(process.cwd(), dir) || '.'}`);
      for (const f of written) output.out(`  ${f}`);
      output.out(`next: cd ${relative(process.cwd(), dir) || '.'} && touchpoint run pipelines/example.yaml`);
    }
    return 0;
  },
};
