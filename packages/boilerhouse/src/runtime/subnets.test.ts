/** Subnet arithmetic for instance networks: blocks carved from the pool around what is in use. */
import { expect, test } from 'vitest';
import { parseRoutes } from './networks.ts';
import { firstFree, formatSubnet, parseSubnet, prefixFor, type Subnet } from './subnets.ts';

const subnet = (text: string): Subnet => {
  const parsed = parseSubnet(text);
  if (parsed === undefined) throw new Error(`bad subnet ${text}`);
  return parsed;
};

test('CIDRs parse to their network address; anything else is not a subnet', () => {
  expect(formatSubnet(subnet('172.30.0.17/28'))).toBe('172.30.0.16/28');
  for (const bad of ['172.30.0.0', '172.30.0.0/33', '256.1.1.1/8', 'fd00::/64', '1.2.3.4/8/9', '1.2.3.4/x'])
    expect(parseSubnet(bad)).toBeUndefined();
});

test('a block holds the instance and its children besides network, gateway and broadcast addresses', () => {
  expect(prefixFor(1, 28)).toBe(28);
  expect(prefixFor(13, 28)).toBe(28);
  expect(prefixFor(14, 28)).toBe(27);
  expect(prefixFor(101, 28)).toBe(25);
});

test('the first free block skips every overlapping network or route, small or large', () => {
  const pool = subnet('172.30.0.0/16');
  expect(formatSubnet(firstFree(pool, 28, []) as Subnet)).toBe('172.30.0.0/28');
  const used = [subnet('172.30.0.0/28'), subnet('172.30.0.20/30'), subnet('172.30.1.0/24')];
  expect(formatSubnet(firstFree(pool, 28, used) as Subnet)).toBe('172.30.0.32/28');
  expect(formatSubnet(firstFree(pool, 24, used) as Subnet)).toBe('172.30.2.0/24');
  // A route covering the pool's start (a /20) is jumped over in one step, not block by block.
  expect(formatSubnet(firstFree(pool, 28, [subnet('172.30.0.0/20')]) as Subnet)).toBe('172.30.16.0/28');
  expect(firstFree(pool, 28, [subnet('172.16.0.0/12')])).toBeUndefined();
  expect(firstFree(subnet('10.0.0.0/28'), 27, [])).toBeUndefined();
});

test('host routes come from /proc/net/route, without the default route', () => {
  const table = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    '',
  ].join('\n');
  expect(parseRoutes(table).map(formatSubnet)).toEqual(['172.17.0.0/16', '192.0.2.0/24']);
});
