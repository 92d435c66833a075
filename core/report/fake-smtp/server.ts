// A real SMTP server for tests, run as its own process (`node server.ts <options-json>`): smtp-server
// on 127.0.0.1:0 with STARTTLS off, optional AUTH PLAIN/LOGIN against one user, and the messages
// numbered in `reject` refused with `451` (a temporary failure a client must retry). Every accepted
// message is written raw to `<dir>/<n>.eml`, and each event is one JSON line on stdout:
// {"event":"listening","port"} {"event":"rejected","n"} {"event":"message","file","from","to":[…]}.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

interface Options {
  dir: string;
  /** Sequence numbers (1-based, over every message received) refused. */
  reject?: number[];
  /** Reply code for the refused ones (default 451). */
  rejectCode?: number;
  auth?: { user: string; pass: string };
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options;
let seen = 0;
let saved = 0;
const emit = (value: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(value)}\n`);

const server = new SMTPServer({
  disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
  authOptional: !options.auth,
  allowInsecureAuth: true,
  logger: false,
  onAuth(auth, _session, callback) {
    if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) callback(null, { user: auth.username });
    else callback(Object.assign(new Error('invalid credentials'), { responseCode: 535 }));
  },
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      seen++;
      if ((options.reject ?? []).includes(seen)) {
        emit({ event: 'rejected', n: seen });
        callback(Object.assign(new Error('try again later'), { responseCode: options.rejectCode ?? 451 }));
        return;
      }
      saved++;
      const file = join(options.dir, `${String(saved).padStart(4, '0')}.eml`);
      writeFileSync(file, Buffer.concat(chunks));
      const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
      emit({ event: 'message', file, from, to: session.envelope.rcptTo.map((r) => r.address) });
      callback();
    });
  },
});

server.listen(0, '127.0.0.1', () => {
  const address = server.server.address();
  emit({ event: 'listening', port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
