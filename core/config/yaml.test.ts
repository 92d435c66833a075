import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ConfigErrors } from '../errors.ts';
import { parseYaml, readYamlFile } from './yaml.ts';

function syntaxError(text: string): string {
  try {
    parseYaml(text, 'pipelines/acme.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigErrors);
    return (error as ConfigErrors).format();
  }
  throw new Error('expected a syntax error');
}

describe('parseYaml: syntax errors at file:line:col in plain words', () => {
  it('points an unclosed quote at its opening quote, not at the end of the file', () => {
    expect(syntaxError('version: 1\nsources:\n  - name: crm\n    connector: "hubspot\n    streams: [a]\n')).toBe(
      'pipelines/acme.yaml:4:16 YAML syntax: quoted string is not closed (missing ")\n  hint: add the closing " at the end of the value',
    );
  });

  it('explains a tab used for indentation', () => {
    expect(syntaxError('sources:\n\t- name: crm\n')).toBe(
      'pipelines/acme.yaml:2:1 YAML syntax: tab used for indentation\n  hint: YAML indents with spaces only: replace the tab with spaces',
    );
  });

  it('names a duplicate key', () => {
    expect(syntaxError('version: 1\nname: a\nname: b\n')).toBe(
      'pipelines/acme.yaml:3:1 YAML syntax: duplicate key "name"\n  hint: a key may appear once in a mapping: remove or merge the other one',
    );
  });

  it('explains an unquoted ": " inside a value', () => {
    expect(syntaxError('description: note: this breaks\n')).toBe(
      'pipelines/acme.yaml:1:14 YAML syntax: a value cannot contain a nested "key: value"\n' +
        '  hint: quote a value that contains ": " (note: "a: b"), or indent the next line like the keys beside it',
    );
  });

  it('reports an alias without its anchor', () => {
    expect(syntaxError('a: 1\nb: *base\n')).toBe('pipelines/acme.yaml:2:4 YAML syntax: alias *base has no anchor &base before it\n  hint: define &base earlier in the file');
  });

  it('reports each broken line once, in order', () => {
    const text = syntaxError('a: 1\n\tb: 2\nc: "x\n');
    expect(text.split('\n').filter((l) => !l.startsWith('  hint')).map((l) => l.split(' ')[0])).toEqual(['pipelines/acme.yaml:2:1', 'pipelines/acme.yaml:3:4']);
  });
});

describe('locate', () => {
  const text = ['version: 1', 'sources:', '  - name: crm', '    config:', '      token: abc', '      empty:', '  - name: web', ''].join('\n');
  const source = parseYaml(text, 'p.yaml');

  it('gives the value position by default and the key position on request', () => {
    expect(source.locate(['sources', 0, 'config', 'token'])).toBe('p.yaml:5:14');
    expect(source.locate(['sources', 0, 'config', 'token'], 'key')).toBe('p.yaml:5:7');
    expect(source.locate(['sources', 1])).toBe('p.yaml:7:5');
  });

  it('points at the key when the value is empty', () => {
    expect(source.position(['sources', 0, 'config', 'empty'])).toEqual({ line: 6, col: 7 });
  });

  it('falls back to the nearest existing ancestor', () => {
    expect(source.locate(['sources', 0, 'config', 'missing', 'deeper'])).toBe('p.yaml:5:7');
    expect(source.locate(['sources', 9, 'name'])).toBe('p.yaml:3:3'); // the list itself
    expect(source.locate([])).toBe('p.yaml:1:1');
  });

  it('handles an empty document', () => {
    expect(parseYaml('', 'e.yaml').locate(['anything'])).toBe('e.yaml:1:1');
  });
});

describe('readYamlFile', () => {
  it('turns a missing file into a ConfigError naming the file and the reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-yaml-'));
    let error: unknown;
    try {
      readYamlFile('pipelines/nope.yaml', join(dir, 'nope.yaml'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).format()).toBe(
      'pipelines/nope.yaml: cannot read (ENOENT: no such file or directory)\n  hint: check the path: relative paths start at the current directory',
    );
  });

  it('says a folder is not a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-yaml-'));
    expect(() => readYamlFile('pipelines', dir)).toThrow('cannot read (EISDIR: is a directory)');
  });
});
