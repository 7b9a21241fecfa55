import { expect, test } from 'vitest';
import { runCli } from './main.ts';

async function run(...args: string[]) {
  let out = '';
  let err = '';
  const env = { BOILERHOUSE_URL: 'http://127.0.0.1:9' };
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t), env, prog: 'bh' });
  return { code, out, err };
}

test.each([
  [['claim'], 'bh claim: missing TENANT'],
  [['claim', 'alice'], 'bh claim: --workload W is required'],
  [['claim', 'alice', '--workload'], 'bh claim: --workload needs a value'],
  [['claim', 'alice', 'bob', '--workload', 'echo'], 'bh claim: unexpected argument "bob"'],
  [['claim', 'alice', '--workload', 'echo', '--frob'], 'bh claim: unknown option --frob'],
  [['status', '--json=yes'], 'bh status: --json takes no value'],
  [['events', '--limit', 'ten'], 'bh events: --limit must be a whole number, got "ten"'],
  [
    ['snapshots', 'restore', 'alice', 'latest', '--workload', 'echo'],
    'bh snapshots restore: SEQ must be a save number',
  ],
  [['tokens', 'create', 'ci'], 'bh tokens create: --scope S is required'],
  [
    ['tokens', 'create', 'ci', '--scope', 'read', '--expires-in', 'soon'],
    'bh tokens create: --expires-in must be',
  ],
  [['pools', 'scale', 'echo'], 'bh pools scale: give --min-idle N, --max-size N or both'],
  [['secrets', 'set', 'alice', '--workload', 'echo'], 'bh secrets set: give at least one KEY=VALUE'],
])('%j is a usage error: exit 2, the reason, then the usage', async (args, reason) => {
  const result = await run(...args);
  expect(result.code).toBe(2);
  expect(result.out).toBe('');
  const [first, usage, hint] = result.err.split('\n');
  expect(first).toContain(reason);
  expect(usage).toMatch(new RegExp(`^usage: bh ${args[0]}`));
  expect(hint).toMatch(/--help" for its options and examples\.$/);
});

test('an unknown command or group command exits 2 with the list of commands', async () => {
  const unknown = await run('frobnicate');
  expect(unknown.code).toBe(2);
  expect(unknown.err).toMatch(/^bh: unknown command "frobnicate"\n\nusage: bh <command>/);
  const inGroup = await run('tokens', 'mint');
  expect(inGroup.code).toBe(2);
  expect(inGroup.err).toMatch(/^bh tokens: unknown command "mint"\n\nusage: bh tokens <command>/);
});

test('--help on every command and group prints help with examples and exits 0', async () => {
  const top = await run('--help');
  expect(top.code).toBe(0);
  const list = top.out.split('\ncommands:\n')[1]?.split('\n\n')[0] ?? '';
  const commands = [...list.matchAll(/^ {2}([a-z]+(?: [a-z]+)?)\b/gm)].map((m) =>
    (m[1] as string).split(' '),
  );
  expect(commands.length).toBeGreaterThan(15);
  for (const words of commands) {
    const help = await run(...words, '--help');
    expect(help, words.join(' ')).toMatchObject({ code: 0, err: '' });
    expect(help.out).toMatch(/^usage: bh /);
    expect(help.out).toContain('\nexamples:\n  bh ');
  }
  for (const group of ['workload', 'pools', 'tenant', 'snapshots', 'secrets', 'tokens']) {
    const help = await run(group, '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(new RegExp(`^usage: bh ${group} <command>`));
  }
  expect((await run('help', 'claim')).out).toMatch(/^usage: bh claim TENANT --workload W/);
});

test('a value given to secrets set is not repeated in a usage error', async () => {
  const result = await run('secrets', 'set', 'alice', '--workload', 'echo', 'not-a-pair-s3cret');
  expect(result.code).toBe(2);
  expect(result.err).not.toContain('s3cret');
});
