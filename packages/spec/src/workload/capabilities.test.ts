/** docker.capabilities and the user a workload's children run as. */
import { describe, expect, test } from 'vitest';
import { formatProblem, loadWorkload } from '../load.ts';
import { workloadEnvironment } from '../workload-env.ts';
import { capabilityName, GRANTABLE_CAPABILITIES, REFUSED_CAPABILITIES } from './capabilities.ts';
import { childUser } from './child-user.ts';

const NO_VARIABLES = workloadEnvironment({});

const problems = (docker: string, head = 'id: d\nimage: i\nuser: 1000\n') =>
  loadWorkload(`${head}docker:\n  images: ["a"]\n${docker}`, {
    file: 'w.yaml',
    env: NO_VARIABLES,
  }).problems.map((problem) => formatProblem('w.yaml', problem));

const capabilities = (list: string) =>
  loadWorkload(`id: d\nimage: i\nuser: 1000\ndocker:\n  images: ["a"]\n  capabilities: ${list}\n`, {
    file: 'w.yaml',
    env: NO_VARIABLES,
  }).spec?.docker?.capabilities;

describe('docker.capabilities', () => {
  test('none by default; grantable names load bare, with or without CAP_', () => {
    expect(capabilities('[]')).toEqual([]);
    expect(capabilities('[CHOWN, CAP_FOWNER, NET_BIND_SERVICE]')).toEqual([
      'CHOWN',
      'FOWNER',
      'NET_BIND_SERVICE',
    ]);
  });

  test('a misspelt name is refused with the closest capability', () => {
    expect(problems('  capabilities: [CHWON]\n')).toEqual([
      'w.yaml:6:18 docker.capabilities[0]: "CHWON" is not a Linux capability name; did you mean "CHOWN"?',
    ]);
    expect(problems('  capabilities: [net_bind_service]\n')).toEqual([
      expect.stringContaining('did you mean "NET_BIND_SERVICE"?'),
    ]);
    expect(problems('  capabilities: [EVERYTHING]\n')).toEqual([
      'w.yaml:6:18 docker.capabilities[0]: "EVERYTHING" is not a Linux capability name',
    ]);
  });

  test.each([
    'SYS_ADMIN',
    'CAP_SYS_MODULE',
    'MKNOD',
    'NET_ADMIN',
    'NET_RAW',
    'DAC_READ_SEARCH',
    'SETUID',
    'SETFCAP',
    'BPF',
  ])('%s is refused, saying what it reaches', (name) => {
    const bare = name.replace(/^CAP_/, '');
    expect(problems(`  capabilities: [${name}]\n`)).toEqual([
      `w.yaml:6:18 docker.capabilities[0]: ${bare} cannot be granted: it ${REFUSED_CAPABILITIES[bare]}`,
    ]);
  });

  test('a name listed twice is an error', () => {
    expect(problems('  capabilities: [CHOWN, CAP_CHOWN]\n')).toEqual([
      'w.yaml:6:25 docker.capabilities[1]: CHOWN is listed twice',
    ]);
  });

  test("every one of Linux's 41 capabilities is either grantable or refused, never both", () => {
    const refused = Object.keys(REFUSED_CAPABILITIES);
    expect(GRANTABLE_CAPABILITIES.filter((name) => refused.includes(name))).toEqual([]);
    expect(new Set([...GRANTABLE_CAPABILITIES, ...refused]).size).toBe(41);
    expect(capabilityName('cap_chown')).toBe('CHOWN');
    expect(capabilityName('ALL')).toBeUndefined();
  });
});

describe("the children's user", () => {
  test("the workload's numeric user, its gid defaulting to its uid", () => {
    expect(childUser('1000')).toEqual({ uid: 1000, gid: 1000, fallback: false });
    expect(childUser('1000:100')).toEqual({ uid: 1000, gid: 100, fallback: false });
  });

  test.each([undefined, '0', '0:0', '1000:0', '0:1000', 'root', 'node'])('%s: nobody stands in', (user) => {
    expect(childUser(user)).toEqual({ uid: 65534, gid: 65534, fallback: true });
  });

  test('a docker block whose children cannot run as the workload says so', () => {
    expect(problems('', 'id: d\nimage: i\nuser: node\n')).toEqual([
      'w.yaml:3:7 user: warning: the containers it starts never run as root nor as a user name, so with security.user "node" they run as 65534:65534 (nobody), which may not be able to use its volumes; set a numeric non-root user such as 1000',
    ]);
    expect(problems('', 'id: d\nimage: i\n')).toEqual([
      expect.stringContaining('w.yaml:4:3 docker: warning: '),
    ]);
    expect(problems('')).toEqual([]);
  });
});
