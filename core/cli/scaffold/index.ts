// `touchpoint connector new`: writes a connector folder that works in place (under connectors/ or as a
// plugin path) and publishes as the npm package `touchpoint-connector-<name>`. Its test passes and
// `touchpoint connector test` passes on it as generated; the author then swaps the fake API for the
// real one's shapes. Refuses to overwrite anything.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ConfigError } from '../../errors.ts';
import { SDK_VERSION } from '../../sdk/types.ts';
import { declarativeFiles } from './declarative.ts';
import { fakeServer, harness } from './fake.ts';
import { typescriptFiles } from './typescript.ts';

export interface ScaffoldOptions {
  name: string;
  /** Parent folder (default connectors). */
  dir: string;
  declarative: boolean;
  cwd: string;
}

export interface Scaffolded {
  /** The connector folder, relative to cwd. */
  dir: string;
  files: string[];
  testFile: string;
}

const PACKAGE_PREFIX = 'touchpoint-connector-';

export function scaffoldConnector(o: ScaffoldOptions): Scaffolded {
  const name = o.name.startsWith(PACKAGE_PREFIX) ? o.name.slice(PACKAGE_PREFIX.length) : o.name;
  if (!/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new ConfigError(`connector name ${JSON.stringify(o.name)} must be kebab-case (a-z, 0-9, -)`, { hint: 'touchpoint connector new acme-crm' });
  }
  const target = resolve(o.cwd, o.dir, name);
  if (existsSync(target)) throw new ConfigError(`${relative(o.cwd, target) || target} already exists`, { hint: 'pick another name or remove the folder' });
  const files: Record<string, string> = {
    ...(o.declarative ? declarativeFiles(name) : typescriptFiles(name)),
    'fake/server.ts': fakeServer(name),
    'fake/conformance.ts': harness(name),
    'README.md': readme(name, o.declarative),
    'package.json': packageJson(name, o.declarative),
    ...(o.declarative ? {} : { 'tsconfig.json': tsconfig() }),
  };
  // Inside a Touchpoint checkout (connectors/<name>, like the built-in ones) the package cannot
  // resolve itself by name from a nested package.json: import the SDK by relative path instead, as
  // the built-in connectors do. Anywhere else `touchpoint/sdk` comes from the installed package.
  const root = touchpointRoot(target);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(target, file, '..'), { recursive: true });
    const sdk = root ? relative(join(target, file, '..'), join(root, 'core/sdk/index.ts')).split(sep).join('/') : null;
    writeFileSync(join(target, file), sdk ? text.replaceAll("from 'touchpoint/sdk'", `from '${sdk}'`) : text);
  }
  const dir = relative(o.cwd, target) || '.';
  return { dir, files: Object.keys(files).sort(), testFile: join(dir, `${name}.test.ts`) };
}

/** The Touchpoint checkout the folder lies in, if any (a package.json named touchpoint above it). */
function touchpointRoot(from: string): string | null {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'touchpoint') return dir;
      } catch {
        // Not JSON: not ours.
      }
    }
    if (dirname(dir) === dir) return null;
  }
}

function packageJson(name: string, declarative: boolean): string {
  const common = {
    name: `${PACKAGE_PREFIX}${name}`,
    version: '0.1.0',
    description: `Touchpoint connector for ${name}`,
    type: 'module',
    keywords: ['touchpoint', 'touchpoint-connector'],
    license: 'Apache-2.0',
    // Read by people and registries; the engine checks the sdkVersion the connector itself declares.
    touchpoint: { sdkVersion: SDK_VERSION },
    peerDependencies: { touchpoint: '>=0.1.0' },
  };
  const pkg = declarative
    ? { ...common, files: ['connector.yaml', 'README.md'], scripts: { test: 'vitest run' } }
    : {
        ...common,
        // Node does not strip types inside node_modules: the published package ships dist/*.js.
        main: './dist/index.js',
        files: ['dist', 'config.schema.json', 'README.md'],
        scripts: { build: 'tsc -p tsconfig.json', test: 'vitest run', prepublishOnly: 'npm run build' },
      };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

function tsconfig(): string {
  const config = {
    compilerOptions: {
      target: 'es2024',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      outDir: 'dist',
      rewriteRelativeImportExtensions: true,
      resolveJsonModule: true,
      erasableSyntaxOnly: true,
      verbatimModuleSyntax: true,
      strict: true,
      skipLibCheck: true,
      types: ['node'],
    },
    include: ['*.ts', 'fake/*.ts'],
    exclude: ['*.test.ts'],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

function readme(name: string, declarative: boolean): string {
  return `# ${name} connector for Touchpoint

${declarative ? 'A YAML-only connector (`connector.yaml`)' : 'A TypeScript connector'} generated by \`touchpoint connector new\`.
It reads a **fake** contacts API until you point it at the real one: replace the fake's fixtures and
routes with the vendor's documented responses, then the request${declarative ? 's in connector.yaml' : 's in client.ts'}.

## Setup

\`\`\`yaml
sources:
  - name: ${name}
    connector: ${name}
    config:
      api_token: \${env:${name.replaceAll('-', '_').toUpperCase()}_TOKEN}
\`\`\`

## Streams

| stream | primary key | incremental | canonical rows |
| --- | --- | --- | --- |
| contacts | id | updated_at (1 h lookback) | identifier links, signup touches |

## Develop

\`\`\`sh
npx vitest run ${name}.test.ts            # the connector against its fake
npx touchpoint connector test ./${name}    # the conformance kit
\`\`\`

## Limits

Document the vendor's rate limits, scopes and data retention here.
`;
}
