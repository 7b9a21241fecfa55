/** Bodies decoded as the engine decodes them: every spelling of a field, duplicates applied in order. */
import { describe, expect, test } from 'vitest';
import { CREATE_BODY } from './create-schema.ts';
import { decode, GoDecodeError, type GoStruct } from './go-decode.ts';
import { JsonSyntaxError, parseJson } from './go-json.ts';

const create = (text: string) => decode(parseJson(text), CREATE_BODY) as GoStruct;
const host = (text: string) => create(text).HostConfig as GoStruct;

describe('field names', () => {
  test.each([
    '{"HostConfig":{"Privileged":true}}',
    '{"hostconfig":{"privileged":true}}',
    '{"HOSTCONFIG":{"PRIVILEGED":true}}',
    '{"hostConfig":{"pRiViLeGeD":true}}',
    '{"HostConfig":{"Pr\\u0069vileged":true}}',
  ])('%s reaches HostConfig.Privileged', (text) => {
    expect(host(text).Privileged).toBe(true);
  });

  test('the long s and the Kelvin sign fold to s and k, as in Go', () => {
    expect(host('{"HostConfig":{"\u017fecurityOpt":["seccomp=unconfined"]}}').SecurityOpt).toEqual([
      'seccomp=unconfined',
    ]);
    expect(host('{"HostConfig":{"OomKillDi\u017fable":true}}').OomKillDisable).toBe(true);
    expect(create('{"Hostname":"a","\u212aernelMemory":5}').KernelMemory).toBe(5);
  });

  test('other look-alikes do not fold: they are unknown keys, dropped', () => {
    expect(host('{"HostConfig":{"Pr\u0131vileged":true}}')).toEqual({});
  });

  test('map keys are exact', () => {
    expect(create('{"Labels":{"a":"1","A":"2"}}').Labels).toEqual({ a: '1', A: '2' });
  });
});

describe('duplicates', () => {
  test('the last of duplicate scalars wins, whatever their spellings', () => {
    expect(host('{"HostConfig":{"Privileged":true,"privileged":false}}').Privileged).toBe(false);
    expect(host('{"HostConfig":{"Privileged":false,"PRIVILEGED":true}}').Privileged).toBe(true);
    // JSON.parse would keep the first spelling's position and lose this order.
    expect(host('{"HostConfig":{"Privileged":true,"privileged":false,"Privileged":true}}').Privileged).toBe(
      true,
    );
  });

  test('a second object merges into the first (structs and maps), as Go decodes into the existing value', () => {
    const merged = create('{"HostConfig":{"Privileged":true},"hostconfig":{"Memory":1}}');
    expect(merged.HostConfig).toEqual({ Privileged: true, Memory: 1 });
    expect(host('{"HostConfig":{"Sysctls":{"a":"1"},"sysctls":{}}}').Sysctls).toEqual({ a: '1' });
  });

  test('a second array decodes element by element into the first', () => {
    const mounts = host(
      '{"HostConfig":{"Mounts":[{"Type":"bind","Source":"/","Target":"/h"}],"mounts":[{"Type":"tmpfs","Target":"/h"}]}}',
    ).Mounts;
    expect(mounts).toEqual([{ Type: 'tmpfs', Source: '/', Target: '/h' }]);
    expect(host('{"HostConfig":{"Binds":["/a:/a","/b:/b"],"binds":["/c:/c"]}}').Binds).toEqual(['/c:/c']);
  });

  test('null resets pointers, slices and maps, and leaves plain values alone', () => {
    expect(host('{"HostConfig":{"Privileged":true,"Privileged":null}}').Privileged).toBe(true);
    expect(host('{"HostConfig":{"Binds":["/a:/b"],"Binds":null}}').Binds).toBeNull();
    expect(host('{"HostConfig":{"PidsLimit":5,"PidsLimit":null}}').PidsLimit).toBeNull();
    expect(create('{"HostConfig":{"Privileged":true},"HostConfig":null}').HostConfig).toBeNull();
  });
});

describe('types', () => {
  test.each([
    ['{"HostConfig":{"Memory":1e9}}', 'HostConfig.Memory: expected an integer, got the number 1e9'],
    ['{"HostConfig":{"Memory":1.0}}', 'expected an integer, got the number 1.0'],
    ['{"HostConfig":{"Memory":"1"}}', 'expected an integer, got a string'],
    ['{"HostConfig":{"Privileged":"true"}}', 'HostConfig.Privileged: expected a boolean, got a string'],
    ['{"HostConfig":{"BlkioWeight":70000}}', 'HostConfig.BlkioWeight: 70000 does not fit'],
    ['{"HostConfig":{"BlkioWeight":-1}}', 'does not fit'],
    ['{"HostConfig":{"Memory":99999999999999999999}}', 'does not fit'],
    ['{"HostConfig":[]}', 'HostConfig: expected an object, got an array'],
    ['[]', 'body: expected an object, got an array'],
  ])('%s is an error', (text, message) => {
    expect(() => create(text)).toThrow(GoDecodeError);
    expect(() => create(text)).toThrow(message);
  });

  test('Cmd, Entrypoint and CapAdd take a string or a list', () => {
    expect(create('{"Cmd":"echo hi"}').Cmd).toEqual(['echo hi']);
    expect(host('{"HostConfig":{"CapAdd":"SYS_ADMIN"}}').CapAdd).toEqual(['SYS_ADMIN']);
  });

  test.each([
    '{"a":1,}',
    '{"a":1}{"b":2}',
    '{"a":01}',
    '{"a":"\u0001"}',
    '{"a":True}',
    `${'['.repeat(100)}${']'.repeat(100)}`,
  ])('malformed JSON is refused: %s', (text) => {
    expect(() => parseJson(text)).toThrow(JsonSyntaxError);
  });
});
