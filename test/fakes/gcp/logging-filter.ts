// The subset of the Cloud Logging query language the gates use, evaluated over plain entries:
// AND / OR / NOT (and `-`), implicit AND, parentheses, = != >= <= > < : (has) =~ !~,
// quoted strings, dotted field paths, `severity` as ordered levels, `timestamp` as instants.
// Unsupported syntax is an error (the fake answers INVALID_ARGUMENT), never a silent match.

export type Node =
  | { kind: 'and' | 'or'; left: Node; right: Node }
  | { kind: 'not'; operand: Node }
  | { kind: 'cmp'; path: string[]; op: Op; value: string };

type Op = '=' | '!=' | '>=' | '<=' | '>' | '<' | ':' | '=~' | '!~';

export const SEVERITIES = ['DEFAULT', 'DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY'] as const;

type Token =
  | { t: 'word'; v: string }
  | { t: 'string'; v: string }
  | { t: 'op'; v: Op }
  | { t: '(' | ')' | '.' | '-' };

export class FilterSyntaxError extends Error {}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let value = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
      if (i >= text.length) throw new FilterSyntaxError('unterminated string');
      i++;
      tokens.push({ t: 'string', v: value });
    } else if (c === '(' || c === ')' || c === '.') {
      tokens.push({ t: c });
      i++;
    } else if (tokens.at(-1)?.t === 'op' && /^[^\s()"]/.test(c)) {
      // A bare value right after an operator may contain dots and colons (numbers, log names).
      const value = /^[^\s()"]+/.exec(text.slice(i))![0];
      tokens.push({ t: 'word', v: value });
      i += value.length;
    } else if (c === '-' && (tokens.length === 0 || !isValueEnd(tokens.at(-1)!) || /\s/.test(text[i - 1] ?? ''))) {
      tokens.push({ t: '-' });
      i++;
    } else {
      const two = text.slice(i, i + 2);
      if (two === '!=' || two === '>=' || two === '<=' || two === '=~' || two === '!~') {
        tokens.push({ t: 'op', v: two });
        i += 2;
      } else if (c === '=' || c === '>' || c === '<' || c === ':') {
        tokens.push({ t: 'op', v: c });
        i++;
      } else {
        const match = /^[^\s()"=!<>:.]+/.exec(text.slice(i));
        if (!match) throw new FilterSyntaxError(`unexpected character ${c}`);
        tokens.push({ t: 'word', v: match[0] });
        i += match[0].length;
      }
    }
  }
  return tokens;
}

const isValueEnd = (token: Token): boolean => token.t === 'word' || token.t === 'string' || token.t === ')';

export function parseFilter(text: string): Node | null {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isWord = (token: Token | undefined, word: string): boolean => token?.t === 'word' && token.v === word;

  function expression(): Node {
    let left = conjunction();
    while (isWord(peek(), 'OR')) {
      pos++;
      left = { kind: 'or', left, right: conjunction() };
    }
    return left;
  }
  function conjunction(): Node {
    let left = negation();
    for (;;) {
      const next = peek();
      if (isWord(next, 'AND')) {
        pos++;
      } else if (!next || next.t === ')' || isWord(next, 'OR')) {
        return left;
      } // otherwise: implicit AND by juxtaposition
      left = { kind: 'and', left, right: negation() };
    }
  }
  function negation(): Node {
    const next = peek();
    if (isWord(next, 'NOT') || next?.t === '-') {
      pos++;
      return { kind: 'not', operand: negation() };
    }
    return primary();
  }
  function primary(): Node {
    const next = peek();
    if (next?.t === '(') {
      pos++;
      const inner = expression();
      if (peek()?.t !== ')') throw new FilterSyntaxError('missing )');
      pos++;
      return inner;
    }
    const path = fieldPath();
    const op = peek();
    if (op?.t !== 'op') throw new FilterSyntaxError(`expected a comparison after ${path.join('.')}`);
    pos++;
    const value = peek();
    if (value?.t === 'word' || value?.t === 'string') {
      pos++;
      return { kind: 'cmp', path, op: op.v, value: value.v };
    }
    throw new FilterSyntaxError(`expected a value after ${path.join('.')} ${op.v}`);
  }
  function fieldPath(): string[] {
    const path: string[] = [];
    for (;;) {
      const token = peek();
      if (token?.t !== 'word' && token?.t !== 'string') throw new FilterSyntaxError('expected a field name (global restrictions are not supported)');
      path.push(token.v);
      pos++;
      if (peek()?.t !== '.') return path;
      pos++;
    }
  }

  if (tokens.length === 0) return null;
  const node = expression();
  if (pos !== tokens.length) throw new FilterSyntaxError('unexpected trailing input');
  return node;
}

function lookup(entry: unknown, path: readonly string[]): unknown {
  let node: unknown = entry;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function severityRank(value: unknown): number {
  if (typeof value === 'number') return value;
  const index = SEVERITIES.indexOf(String(value).toUpperCase() as (typeof SEVERITIES)[number]);
  if (index >= 0) return index * 100;
  const numeric = Number(value);
  return Number.isFinite(numeric) ? numeric : Number.NaN;
}

function compare(op: Op, actual: unknown, expected: string, path: readonly string[]): boolean {
  if (op === ':') {
    if (expected === '*') return actual !== undefined;
    return actual !== undefined && String(actual).toLowerCase().includes(expected.toLowerCase());
  }
  if (actual === undefined || actual === null) return false;
  if (op === '=~' || op === '!~') return new RegExp(expected).test(String(actual)) === (op === '=~');
  let a: number | string;
  let b: number | string;
  const field = path.join('.');
  if (field === 'severity') {
    [a, b] = [severityRank(actual), severityRank(expected)];
  } else if (field === 'timestamp' || field === 'receiveTimestamp') {
    [a, b] = [Date.parse(String(actual)), Date.parse(expected)];
    if (Number.isNaN(b)) throw new FilterSyntaxError(`not a timestamp: ${expected}`);
  } else if (typeof actual === 'number' && expected.trim() !== '' && Number.isFinite(Number(expected))) {
    [a, b] = [actual, Number(expected)];
  } else {
    [a, b] = [String(actual), expected];
  }
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '>=':
      return a >= b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '<':
      return a < b;
  }
}

export function matches(node: Node | null, entry: unknown): boolean {
  if (node === null) return true;
  switch (node.kind) {
    case 'and':
      return matches(node.left, entry) && matches(node.right, entry);
    case 'or':
      return matches(node.left, entry) || matches(node.right, entry);
    case 'not':
      return !matches(node.operand, entry);
    case 'cmp':
      return compare(node.op, lookup(entry, node.path), node.value, node.path);
  }
}

/** The comparisons on `timestamp` in a filter, e.g. to check a query's window was bounded. */
export function timestampBounds(node: Node | null): Array<{ op: string; value: string }> {
  if (node === null) return [];
  switch (node.kind) {
    case 'and':
    case 'or':
      return [...timestampBounds(node.left), ...timestampBounds(node.right)];
    case 'not':
      return timestampBounds(node.operand);
    case 'cmp':
      return node.path.join('.') === 'timestamp' ? [{ op: node.op, value: node.value }] : [];
  }
}
