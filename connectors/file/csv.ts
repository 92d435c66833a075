// An RFC 4180 CSV record parser that works on physical lines, so every record and every error
// knows its line numbers and a corrupt record never swallows the good ones after it. Pure.
//
// RFC 4180 (https://www.rfc-editor.org/rfc/rfc4180#section-2): fields are separated by the
// delimiter; a field may be enclosed in quotes, inside which a doubled quote is a literal quote and
// line breaks are data. Lenient where that loses nothing: LF or CRLF line ends, and a quote inside
// an unquoted field (`5" screen`) is kept as a literal character.

/** A quoted field still open at the end of the text: the record continues on the next line. */
export const OPEN: unique symbol = Symbol('open');

export type CsvParse = string[] | typeof OPEN | { error: string };

export function parseCsvRecord(text: string, delimiter: string, quote: string): CsvParse {
  // Most lines have no quotes at all: split is far faster than scanning.
  if (!text.includes(quote)) return text.split(delimiter);
  const fields: string[] = [];
  const dl = delimiter.length;
  let pos = 0;
  for (;;) {
    if (text.startsWith(quote, pos)) {
      let value = '';
      let i = pos + 1;
      for (;;) {
        const j = text.indexOf(quote, i);
        if (j === -1) return OPEN;
        value += text.slice(i, j);
        if (text.startsWith(quote, j + 1)) {
          value += quote;
          i = j + 2;
          continue;
        }
        pos = j + 1;
        break;
      }
      fields.push(value);
      if (pos === text.length) return fields;
      if (!text.startsWith(delimiter, pos)) {
        return { error: `unexpected ${JSON.stringify(text[pos])} after a closing quote in field ${fields.length}` };
      }
      pos += dl;
    } else {
      const k = text.indexOf(delimiter, pos);
      if (k === -1) {
        fields.push(text.slice(pos));
        return fields;
      }
      fields.push(text.slice(pos, k));
      pos = k + dl;
    }
    // A delimiter at the very end means one more, empty, field.
    if (pos === text.length) {
      fields.push('');
      return fields;
    }
  }
}

export interface CsvRecord {
  fields: string[];
  /** First and last physical line of the record (they differ when a quoted field holds newlines). */
  startLine: number;
  endLine: number;
  raw: string;
}

export interface CsvProblem {
  problem: string;
  startLine: number;
  endLine: number;
  raw: string;
}

/** Bounds on one record, so an unclosed quote cannot hold the rest of a large file in memory. */
export const MAX_RECORD_CHARS = 1 << 20;
export const MAX_RECORD_LINES = 10_000;

/** Joins physical lines into records. Feed lines in order; `end()` after the last one. */
export class CsvAssembler {
  readonly delimiter: string;
  readonly quote: string;
  private pending: string | undefined;
  private pendingStart = 0;
  private pendingLines = 0;

  constructor(delimiter: string, quote: string) {
    this.delimiter = delimiter;
    this.quote = quote;
  }

  /** True while a quoted field spans lines: the caller must not stop (or checkpoint) here. */
  get open(): boolean {
    return this.pending !== undefined;
  }

  /** Returns a record, a problem, or undefined (blank line, or a record continuing on the next line). */
  push(line: string, lineNo: number): CsvRecord | CsvProblem | undefined {
    let text = line;
    let start = lineNo;
    if (this.pending !== undefined) {
      text = `${this.pending}\n${line}`;
      start = this.pendingStart;
      this.pendingLines++;
    } else if (line.trim() === '') {
      return undefined;
    }
    const parsed = parseCsvRecord(text, this.delimiter, this.quote);
    if (parsed === OPEN) {
      if (text.length > MAX_RECORD_CHARS || this.pendingLines >= MAX_RECORD_LINES) {
        this.pending = undefined;
        this.pendingLines = 0;
        return { problem: `quoted field opened on line ${start} is not closed within ${lineNo - start + 1} lines`, startLine: start, endLine: lineNo, raw: text };
      }
      if (this.pending === undefined) {
        this.pendingStart = lineNo;
        this.pendingLines = 1;
      }
      this.pending = text;
      return undefined;
    }
    this.pending = undefined;
    this.pendingLines = 0;
    if (Array.isArray(parsed)) return { fields: parsed, startLine: start, endLine: lineNo, raw: text };
    return { problem: parsed.error, startLine: start, endLine: lineNo, raw: text };
  }

  /** At end of input: an unterminated quoted field is a problem, never silently dropped. */
  end(lastLine: number): CsvProblem | undefined {
    if (this.pending === undefined) return undefined;
    const raw = this.pending;
    this.pending = undefined;
    return { problem: `quoted field opened on line ${this.pendingStart} is never closed (end of file)`, startLine: this.pendingStart, endLine: lastLine, raw };
  }
}

export function isProblem(x: CsvRecord | CsvProblem): x is CsvProblem {
  return 'problem' in x;
}
