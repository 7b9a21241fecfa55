/**
 * A strict JSON parser that keeps what JSON.parse throws away: every key of an object in order, duplicates
 * included, and numbers as written. The engine (Go's encoding/json) sees duplicates and applies them one
 * after the other, so the decoder needs all of them to reach the same value.
 */

export type JsonNode =
  | { type: 'object'; entries: [string, JsonNode][] }
  | { type: 'array'; items: JsonNode[] }
  | { type: 'string'; value: string }
  | { type: 'number'; raw: string }
  | { type: 'bool'; value: boolean }
  | { type: 'null' };

export class JsonSyntaxError extends Error {
  constructor(message: string, offset: number) {
    super(`invalid JSON at character ${offset}: ${message}`);
    this.name = 'JsonSyntaxError';
  }
}

/** Deeper than any request the engine takes; keeps a hostile body from exhausting the stack. */
const MAX_DEPTH = 64;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON strings may not hold raw control characters.
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const WHITESPACE = /[ \t\n\r]*/y;

export function parseJson(text: string): JsonNode {
  let at = 0;

  const skip = () => {
    WHITESPACE.lastIndex = at;
    WHITESPACE.exec(text);
    at = WHITESPACE.lastIndex;
  };
  const fail = (message: string): never => {
    throw new JsonSyntaxError(message, at);
  };
  const string = (): string => {
    STRING.lastIndex = at;
    const match = STRING.exec(text);
    if (match === null) return fail('malformed string');
    at = STRING.lastIndex;
    return JSON.parse(match[0]) as string;
  };
  const value = (depth: number): JsonNode => {
    if (depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`);
    skip();
    const char = text[at];
    if (char === '{') {
      at++;
      const entries: [string, JsonNode][] = [];
      skip();
      if (text[at] === '}') {
        at++;
        return { type: 'object', entries };
      }
      for (;;) {
        skip();
        if (text[at] !== '"') fail('expected a key');
        const key = string();
        skip();
        if (text[at] !== ':') fail('expected :');
        at++;
        entries.push([key, value(depth + 1)]);
        skip();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === '}') {
          at++;
          return { type: 'object', entries };
        }
        fail('expected , or }');
      }
    }
    if (char === '[') {
      at++;
      const items: JsonNode[] = [];
      skip();
      if (text[at] === ']') {
        at++;
        return { type: 'array', items };
      }
      for (;;) {
        items.push(value(depth + 1));
        skip();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === ']') {
          at++;
          return { type: 'array', items };
        }
        fail('expected , or ]');
      }
    }
    if (char === '"') return { type: 'string', value: string() };
    for (const [word, node] of LITERALS) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return node;
      }
    }
    NUMBER.lastIndex = at;
    const number = NUMBER.exec(text);
    if (number === null) return fail('expected a value');
    at = NUMBER.lastIndex;
    return { type: 'number', raw: number[0] };
  };

  const root = value(0);
  skip();
  if (at !== text.length) fail('unexpected text after the value');
  return root;
}

const LITERALS: [string, JsonNode][] = [
  ['true', { type: 'bool', value: true }],
  ['false', { type: 'bool', value: false }],
  ['null', { type: 'null' }],
];

/** The plain value, as JSON.parse gives it (the last of duplicate keys wins). */
export function plain(node: JsonNode): unknown {
  switch (node.type) {
    case 'object': {
      const out: Record<string, unknown> = Object.create(null);
      for (const [key, child] of node.entries) out[key] = plain(child);
      return out;
    }
    case 'array':
      return node.items.map(plain);
    case 'number':
      return Number(node.raw);
    case 'null':
      return null;
    default:
      return node.value;
  }
}
