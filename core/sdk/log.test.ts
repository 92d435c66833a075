import { describe, expect, it } from 'vitest';
import { createLogger } from './log.ts';

const now = () => new Date('2026-11-23T10:00:00.123Z');

describe('createLogger', () => {
  it('writes text lines with level, message and key=value fields, filtered by level', () => {
    const lines: string[] = [];
    const log = createLogger({ secrets: [], level: 'info', format: 'text', write: (l) => lines.push(l), now });
    log.debug('hidden');
    log.info('extract done', { records: 12, stream: 'contacts', note: 'two words' });
    log.child({ source: 'crm' }).warn('slow', { ms: 1500 });
    log.error('line one\nline two');
    expect(lines).toEqual([
      '2026-11-23T10:00:00Z INFO  extract done records=12 stream=contacts note="two words"',
      '2026-11-23T10:00:00Z WARN  slow source=crm ms=1500',
      '2026-11-23T10:00:00Z ERROR line one\\nline two',
    ]);
  });

  it('writes JSON lines with child bindings', () => {
    const lines: string[] = [];
    const log = createLogger({ secrets: [], level: 'debug', format: 'json', write: (l) => lines.push(l), now });
    log.child({ source: 'crm' }).child({ stream: 'deals' }).debug('page', { after: '100' });
    expect(JSON.parse(lines[0])).toEqual({ time: '2026-11-23T10:00:00Z', level: 'debug', msg: 'page', source: 'crm', stream: 'deals', after: '100' });
  });

  it('redacts secret values everywhere and masks credential-named fields whatever they hold', () => {
    const secret = 'pat-na1-secret-value';
    const lines: string[] = [];
    const log = createLogger({ secrets: [secret], format: 'json', write: (l) => lines.push(l), now });
    log.warn(`calling with ${secret}`, {
      url: `/x?t=${secret}`,
      headers: { Authorization: 'Bearer short', accept: 'json' },
      api_key: 'abc',
      refreshToken: 'r',
      nested: [{ password: 'p', ok: secret }],
      error: new Error(`failed for ${secret}`),
    });
    const entry = JSON.parse(lines[0]);
    expect(lines[0]).not.toContain(secret);
    expect(entry).toMatchObject({
      msg: 'calling with ***',
      url: '/x?t=***',
      headers: { Authorization: '***', accept: 'json' },
      api_key: '***',
      refreshToken: '***',
      nested: [{ password: '***', ok: '***' }],
      error: 'Error: failed for ***',
    });
  });

  it('redacts in text format too', () => {
    const lines: string[] = [];
    const log = createLogger({ secrets: ['hunter2-long'], write: (l) => lines.push(l), now });
    log.info('token is hunter2-long', { secret: 'x', value: 'hunter2-long' });
    expect(lines[0]).toBe('2026-11-23T10:00:00Z INFO  token is *** secret=*** value=***');
  });
});
