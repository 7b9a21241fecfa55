/** Field types particular to workload files: command lines, ports, paths, health tests, secret references. */
import { posix } from 'node:path';
import { isMap, isScalar, isSeq, type Node, type Pair } from 'yaml';
import { soleVariableReference } from '../interpolate.ts';
import { list } from '../schema/collections.ts';
import {
  type Field,
  got,
  INVALID,
  mismatch,
  nullValueAt,
  readScalar,
  reject,
  scalarField,
} from '../schema/field.ts';
import { string } from '../schema/scalars.ts';
import { ShellWordsError, splitShellWords } from '../shell-words.ts';

/** `command: node dist/index.js` or `command: ["node", "dist/index.js"]`, as argv. */
export function commandLine(options: { shellForString: boolean }): Field<string[]> {
  const expected = 'a command: a string or a list of strings';
  const words = list(string({ coerce: true }), { minItems: 1, expected: 'a list of strings' });
  return {
    expected,
    jsonSchema: () => ({
      anyOf: [{ type: 'string', minLength: 1 }, words.jsonSchema()],
      description: options.shellForString
        ? 'A string runs through /bin/sh -c; a list runs as it is.'
        : 'A string is split into words as a shell would (no variables or globs); a list runs as it is.',
    }),
    parse(node, path, context) {
      const resolved = context.resolve(node);
      if (isSeq(resolved)) return words.parse(resolved, path, context);
      const value = readScalar(resolved, path, context, expected);
      if (value === INVALID) return INVALID;
      if (typeof value !== 'string' || value.trim() === '')
        return mismatch(resolved, path, context, expected);
      if (options.shellForString) return ['/bin/sh', '-c', value];
      try {
        return splitShellWords(value);
      } catch (error) {
        if (error instanceof ShellWordsError) return context.error(resolved, path, error.message);
        throw error;
      }
    },
  };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/**
 * `environment:` as a mapping (`KEY: value`) or compose's list (`- KEY=value`). A key with no value takes
 * the variable from the environment Boilerhouse runs in (an error unless the operator allows it), and is
 * left out (with a warning) when unset.
 */
export function environment(): Field<Record<string, string>> {
  const expected = 'a mapping of variable names to values, or a list of KEY=value';
  const value = string({ coerce: true });
  return {
    expected,
    jsonSchema: () => ({
      anyOf: [
        {
          type: 'object',
          patternProperties: { [ENV_NAME.source]: { anyOf: [value.jsonSchema(), { type: 'null' }] } },
          additionalProperties: false,
        },
        { type: 'array', items: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_.]*(=.*)?$' } },
      ],
    }),
    parse(node, path, context) {
      const resolved = context.resolve(node);
      const out: Record<string, string> = {};
      let valid = true;
      const put = (name: string, raw: Node, at: (string | number)[], keyNode: Node, text: string | null) => {
        if (!ENV_NAME.test(name)) {
          valid =
            context.error(
              keyNode,
              at,
              `"${name}" is not a valid variable name: use letters, digits and _`,
            ) !== INVALID;
          return;
        }
        if (Object.hasOwn(out, name)) {
          valid = context.error(keyNode, at, `variable ${name} is set twice`) !== INVALID;
          return;
        }
        if (text !== null) {
          out[name] = text;
          return;
        }
        const inherited = context.env.access(name);
        if (!inherited.allowed) {
          // Taking a variable from the environment is asking for it by name, as `${NAME}` does.
          const message = `${name} (no value: taken from the environment) is not allowed: ${inherited.reason}`;
          valid = context.error(raw, at, message) !== INVALID;
        } else if (inherited.value === undefined)
          context.warn(raw, at, `${name} has no value and is not set in the environment; left out`);
        else out[name] = inherited.value;
      };
      if (isMap(resolved)) {
        for (const pair of resolved.items as Pair<Node, Node | null>[]) {
          const name = isScalar(pair.key) ? String(pair.key.value) : '';
          const raw = context.resolve(pair.value ?? nullValueAt(pair.key));
          const at = [...path, name];
          if (isScalar(raw) && raw.value === null) {
            put(name, raw, at, pair.key, null);
            continue;
          }
          const text = value.parse(raw, at, context);
          if (text === INVALID) valid = false;
          else put(name, raw, at, pair.key, text);
        }
        return valid ? out : INVALID;
      }
      if (isSeq(resolved)) {
        (resolved.items as Node[]).forEach((item, index) => {
          const entry = readScalar(item, [...path, index], context, 'a string KEY=value');
          if (entry === INVALID) {
            valid = false;
            return;
          }
          if (typeof entry !== 'string') {
            valid =
              context.error(item, [...path, index], `expected a string KEY=value, got ${got(entry)}`) !==
              INVALID;
            return;
          }
          const equals = entry.indexOf('=');
          const name = equals === -1 ? entry : entry.slice(0, equals);
          put(name, item, [...path, index], item, equals === -1 ? null : entry.slice(equals + 1));
        });
        return valid ? out : INVALID;
      }
      return mismatch(resolved, path, context, expected);
    },
  };
}

/** A container port: `8080`, `"8080"` or `"8080/tcp"`. Host ports are Boilerhouse's to choose. */
export function containerPort(): Field<number> {
  const expected = 'a container port from 1 to 65535, such as 8080 or "8080/tcp"';
  return scalarField({
    expected,
    schema: {
      anyOf: [
        { type: 'integer', minimum: 1, maximum: 65535 },
        { type: 'string', pattern: '^\\d{1,5}(/tcp)?$' },
      ],
    },
    read(value) {
      if (typeof value === 'number') {
        return Number.isInteger(value) && value >= 1 && value <= 65535
          ? value
          : reject(`expected ${expected}, got ${value}`);
      }
      if (typeof value !== 'string') return reject(`expected ${expected}, got ${got(value)}`);
      if (value.includes(':')) {
        return reject(
          `"${value}" publishes a host port; Boilerhouse publishes each instance's ports itself, so give the container port only (e.g. "${value.split(':').pop()}")`,
        );
      }
      if (value.endsWith('/udp')) return reject('only TCP ports can be exposed');
      const port = /^\d{1,5}(\/tcp)?$/.test(value) ? Number.parseInt(value, 10) : Number.NaN;
      if (!(port >= 1 && port <= 65535)) return reject(`expected ${expected}, got ${got(value)}`);
      return port;
    },
  });
}

/** An absolute path inside the container, e.g. a volume target. */
export function containerPath(): Field<string> {
  const expected = 'an absolute path inside the container, such as /app/data';
  return scalarField({
    expected,
    schema: { type: 'string', pattern: '^/.+' },
    read(value) {
      if (typeof value !== 'string' || value === '') return reject(`expected ${expected}, got ${got(value)}`);
      if (!value.startsWith('/')) return reject(`"${value}" must be an absolute path (start with /)`);
      if (value.split('/').includes('..')) return reject(`"${value}" must not contain ".."`);
      const normal = posix.normalize(value).replace(/\/$/, '');
      if (normal === '') return reject('the container root (/) cannot be a mount target');
      return normal;
    },
  });
}

/** A path relative to a volume (or sink) root that cannot climb out of it. */
export function relativePath(what: string): Field<string> {
  const expected = `a relative path inside ${what}, such as data/sessions`;
  return scalarField({
    expected,
    schema: { type: 'string', pattern: '^(?!/)(?!.*(^|/)\\.\\.(/|$)).*$' },
    read(value) {
      if (typeof value !== 'string' || value === '') return reject(`expected ${expected}, got ${got(value)}`);
      if (value.startsWith('/')) return reject(`"${value}" must be relative to ${what}, not absolute`);
      if (value.split('/').includes('..')) return reject(`"${value}" must stay inside ${what} (no "..")`);
      return posix.normalize(value).replace(/\/$/, '');
    },
  });
}

/**
 * A host path inside the workloads directory (`seed`): relative, and never leaving it. Where it leads is
 * checked again when it is copied, without following links (see pool/seed-copy.ts in boilerhouse).
 */
export function workloadsDirPath(): Field<string> {
  const expected = 'a path relative to the workloads directory, such as seeds/cache';
  return scalarField({
    expected,
    schema: { type: 'string', pattern: '^(?!/)(?!\\.\\.(/|$)).+' },
    read(value) {
      if (typeof value !== 'string' || value === '') return reject(`expected ${expected}, got ${got(value)}`);
      if (value.startsWith('/'))
        return reject(`"${value}" must be relative to the workloads directory, not absolute`);
      const normal = posix.normalize(value).replace(/\/$/, '');
      if (normal === '..' || normal.startsWith('../'))
        return reject(`"${value}" leaves the workloads directory; a seed must be inside it`);
      if (normal === '.')
        return reject('the workloads directory itself cannot be a seed; name a file or folder in it');
      return normal;
    },
  });
}

/**
 * A local sink's directory: inside Boilerhouse's sinks folder, written relative to its data directory
 * (`sinks/echo`). A workload cannot choose any other host directory: the data directory beside it holds the
 * database and the key that decrypts every tenant's secrets.
 */
export function localSinkPath(): Field<string> {
  const expected = 'a folder of the sinks directory, such as sinks/echo';
  const hint = "relative to Boilerhouse's data directory and inside its sinks/ folder, such as sinks/echo";
  return scalarField({
    expected,
    schema: { type: 'string', pattern: '^sinks(/(?!\\.\\.(/|$))[^/]+)*/?$' },
    read(value) {
      if (typeof value !== 'string' || value === '') return reject(`expected ${expected}, got ${got(value)}`);
      if (value.startsWith('/')) return reject(`"${value}" must be ${hint}, not absolute`);
      if (value.split('/').includes('..'))
        return reject(`"${value}" must stay inside the sinks folder (no "..")`);
      const normal = posix.normalize(value).replace(/\/$/, '');
      if (normal !== 'sinks' && !normal.startsWith('sinks/')) return reject(`"${value}" must be ${hint}`);
      return normal;
    },
  });
}

export type HealthTest = { kind: 'exec'; argv: string[] } | { kind: 'shell'; command: string };

/** compose's `test:`: `["CMD", arg...]`, `["CMD-SHELL", "cmd"]`, or a string run by the shell. */
export function healthTest(): Field<HealthTest> {
  const expected = 'a command: ["CMD", ...], ["CMD-SHELL", "..."] or a shell string';
  const items = list(string({ coerce: true }), { minItems: 2, expected: 'a list of strings' });
  return {
    expected,
    jsonSchema: () => ({
      anyOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', items: { type: 'string' }, minItems: 2 },
      ],
      description:
        'A list starting with "CMD" runs as it is; "CMD-SHELL" or a plain string runs through /bin/sh -c.',
    }),
    parse(node, path, context) {
      const resolved = context.resolve(node);
      if (isSeq(resolved)) {
        const argv = items.parse(resolved, path, context);
        if (argv === INVALID) return INVALID;
        const [form, ...rest] = argv;
        if (form === 'CMD') return { kind: 'exec', argv: rest };
        if (form === 'CMD-SHELL') {
          if (rest.length !== 1)
            return context.error(resolved, path, '"CMD-SHELL" takes exactly one command string');
          return { kind: 'shell', command: rest[0] as string };
        }
        if (form === 'NONE')
          return context.error(resolved, path, 'to turn the health check off, leave healthcheck out');
        return context.error(
          resolved.items[0] as Node,
          [...path, 0],
          `expected "CMD" or "CMD-SHELL", got ${got(form ?? null)}`,
        );
      }
      const value = readScalar(resolved, path, context, expected);
      if (value === INVALID) return INVALID;
      if (typeof value !== 'string' || value.trim() === '')
        return mismatch(resolved, path, context, expected);
      return { kind: 'shell', command: value };
    },
  };
}

/** A credential given as `${VAR}`: the spec keeps the variable's name, never its value. */
export interface SecretReference {
  env: string;
}

export function secretReference(): Field<SecretReference> {
  const expected = 'a ${VAR} reference to an environment variable';
  return {
    expected,
    jsonSchema: () => ({ type: 'string', pattern: '^\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}$' }),
    parse(node, path, context) {
      const resolved = context.resolve(node);
      // Read the raw text: substituting here would copy the secret into the spec, and from there into logs.
      const raw = isScalar(resolved) ? resolved.value : undefined;
      const name = typeof raw === 'string' ? soleVariableReference(raw) : undefined;
      if (name === undefined) {
        return context.error(
          resolved,
          path,
          `expected ${expected}, such as \${AWS_SECRET_ACCESS_KEY}; a secret written into a workload file ends up in version control`,
        );
      }
      const access = context.env.access(name);
      if (!access.allowed)
        return context.error(resolved, path, `\${${name}} is not allowed: ${access.reason}`);
      if (access.value === undefined)
        context.warn(
          resolved,
          path,
          `environment variable ${name} is not set now; the sink will fail until it is`,
        );
      return { env: name };
    },
  };
}
