/** Endpoints say where the engine published each container, whatever BOILERHOUSE_PUBLISH_HOST says now. */
import { expect, test } from 'vitest';
import type { Instance } from '../db/instances.ts';
import { endpointsOf } from './claims.ts';

const instance = (ports: Instance['ports']) => ({ ports }) as Instance;

test('the address a port was bound to wins over the current publish host', () => {
  expect(endpointsOf(instance([{ port: 8080, hostPort: 32768, hostIp: '127.0.0.1' }]), '10.1.2.3')).toEqual([
    { port: 8080, url: 'http://127.0.0.1:32768' },
  ]);
  expect(endpointsOf(instance([{ port: 8080, hostPort: 32768, hostIp: '::1' }]), '10.1.2.3')).toEqual([
    { port: 8080, url: 'http://[::1]:32768' },
  ]);
});

test('every address (0.0.0.0, ::), or none kept (an instance made before), falls back to the publish host', () => {
  for (const hostIp of ['0.0.0.0', '::', undefined]) {
    const ports = [{ port: 3847, hostPort: 40000, ...(hostIp === undefined ? {} : { hostIp }) }];
    expect(endpointsOf(instance(ports), '192.168.1.5')).toEqual([
      { port: 3847, url: 'http://192.168.1.5:40000' },
    ]);
  }
});
