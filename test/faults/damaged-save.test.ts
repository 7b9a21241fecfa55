/**
 * Issue 15, storage faults: an object of the tenant's newest save is damaged in the sink (a flipped byte
 * in a pack, a torn manifest, a torn HEAD), in a local sink and in S3. The claim that would restore it
 * fails, naming the object, instead of handing the tenant an empty state; nothing deletes or overwrites
 * the damaged save or the older ones; the list of saves names a damaged manifest or HEAD; the operator
 * makes an older save current and the tenant claims it.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Metrics } from '../../packages/boilerhouse/src/metrics/metrics.ts';
import { headKey, packKey, saveBase, saveKey } from '../../packages/boilerhouse/src/state/keys.ts';
import { LocalSink } from '../../packages/boilerhouse/src/state/sinks/local.ts';
import { S3Sink } from '../../packages/boilerhouse/src/state/sinks/s3.ts';
import {
  S3RVER_CREDENTIALS,
  type S3Server,
  startS3Server,
} from '../../packages/boilerhouse/src/state/sinks/s3-server.ts';
import type { Sink } from '../../packages/boilerhouse/src/state/sinks/sink.ts';
import { SnapshotStore } from '../../packages/boilerhouse/src/state/snapshots.ts';
import { testApi } from '../../packages/boilerhouse/src/testing/api.ts';
import {
  counter,
  echoWorkload,
  type Harness,
  startHarness,
} from '../../packages/boilerhouse/src/testing/harness.ts';
import { echoOnS3, S3_ENV } from './testing/echo-s3.ts';
import { promtoolCheck, sampleSum } from './testing/metrics.ts';
import { findOrphans, NO_ORPHANS } from './testing/orphans.ts';

let harness: Harness | undefined;
let metrics: Metrics | undefined;
let server: S3Server | undefined;

afterEach(async () => {
  metrics?.close();
  await harness?.cleanup();
  await server?.stop();
  harness = metrics = server = undefined;
});

const TENANT = 'alice';
const REPLACEMENTS = {
  'min_idle: 2': 'min_idle: 0',
  'affinity_timeout: 10m': 'affinity_timeout: 0',
  '    interval: 30s': '    interval: 1h',
};

/** A daemon saving echo's state to a sink of `kind`, and that sink and the tenant's key prefix in it. */
async function daemonWith(kind: 'local' | 's3'): Promise<{ harness: Harness; sink: Sink; base: string }> {
  if (kind === 'local') {
    harness = await startHarness({ 'echo.yaml': await echoWorkload(REPLACEMENTS) });
    const sink = new LocalSink(join(harness.dataDir, 'sinks', 'echo'));
    return { harness, sink, base: saveBase(undefined, TENANT, 'echo') };
  }
  server = await startS3Server('faults-damaged');
  const text = await echoOnS3(server.endpoint, server.bucket, REPLACEMENTS);
  // Without this host's cache of the bucket's objects, which would restore the damaged pack's recorded
  // content from disk: the damage in the bucket is what is tested.
  harness = await startHarness({ 'echo.yaml': text }, { env: S3_ENV, stateCacheBytes: 0 });
  const sink = new S3Sink({
    bucket: server.bucket,
    region: 'us-east-1',
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
  });
  return { harness, sink, base: saveBase('faults/${tenantId}/', TENANT, 'echo') };
}

interface Damage {
  /** Damages save `seq`; returns the key of the object it damaged. */
  damage(sink: Sink, base: string, seq: number): Promise<string>;
  /** A damaged HEAD is no save: GET snapshots shows none current, and names HEAD; restoring rewrites it. */
  isHead: boolean;
  /**
   * What GET snapshots says is damaged: a damaged manifest or HEAD is seen there; a damaged pack only when
   * a restore reads it (the list reads manifests, not every object).
   */
  listed: (key: string) => { seq?: number; key: string; reason: unknown }[];
}

const DAMAGES: Record<string, Damage> = {
  'a byte flipped in the pack holding the files': {
    isHead: false,
    listed: () => [],
    async damage(sink, base, seq) {
      const pack = (await new SnapshotStore(sink, base).manifest(seq)).files[0]?.pack as string;
      const key = packKey(base, pack);
      const content = await sink.get(key);
      content[0] = (content[0] as number) ^ 0xff;
      await sink.put(key, content);
      return key;
    },
  },
  'its manifest cut in half': {
    isHead: false,
    listed: (key) => [{ seq: 2, key, reason: expect.stringContaining('save 2 is damaged') }],
    async damage(sink, base, seq) {
      const key = saveKey(base, seq);
      const content = await sink.get(key);
      await sink.put(key, content.subarray(0, Math.floor(content.length / 2)));
      return key;
    },
  },
  'HEAD cut short': {
    isHead: true,
    listed: (key) => [{ key, reason: expect.stringContaining('not a HEAD pointer') }],
    async damage(sink, base) {
      await sink.put(headKey(base), Buffer.from('{"se'));
      return headKey(base);
    },
  },
  'HEAD deleted': {
    isHead: true,
    listed: (key) => [{ key, reason: expect.stringContaining('though saves 2, 1 are there') }],
    async damage(sink, base) {
      await sink.delete([headKey(base)]);
      return headKey(base);
    },
  },
};

/** An object's bytes, or the name of the error reading it failed with. */
function contentOf(sink: Sink, key: string): Promise<Buffer | string> {
  return sink.get(key).catch((error: Error) => error.name);
}

describe.each(['local', 's3'] as const)('issue 15: a damaged save in a %s sink', (kind) => {
  test.for(Object.keys(DAMAGES))(
    '%s: the claim fails naming it, the older save is restored on request',
    async (damage) => {
      const { harness: h, sink, base } = await daemonWith(kind);
      const bh = h.boilerhouse;
      metrics = new Metrics(bh);
      const api = testApi(h);
      // Save 1 holds counter 1, save 2 counter 2.
      for (const expected of [1, 2]) {
        const claim = await bh.claim(TENANT, 'echo');
        expect(await counter(claim.endpoints[0]?.url as string)).toBe(expected);
        await bh.release(TENANT, 'echo');
      }
      const { damage: damageIt, isHead, listed: listedDamage } = DAMAGES[damage] as Damage;
      const damaged = await damageIt(sink, base, 2);
      const damagedBytes = await contentOf(sink, damaged);
      const olderManifest = await sink.get(saveKey(base, 1));

      for (let attempt = 0; attempt < 2; attempt++) {
        const failure = await bh.claim(TENANT, 'echo').then(
          () => undefined,
          (error: Error & { code?: string }) => error,
        );
        expect(failure).toMatchObject({ code: 'save_damaged', message: expect.stringContaining(damaged) });
        expect(bh.tenant(TENANT).instances).toEqual([]);
      }
      const failed = bh.events(100).filter((event) => event.type === 'state.failed');
      expect(failed.map((event) => event.data)).toEqual([
        expect.objectContaining({ direction: 'restore', cause: 'damaged', object: damaged }),
        expect.objectContaining({ direction: 'restore', cause: 'damaged', object: damaged }),
      ]);
      expect(await findOrphans(h)).toEqual(NO_ORPHANS);
      expect(await h.containers()).toEqual([]);
      // Neither the damaged object nor the older save was touched.
      expect(await contentOf(sink, damaged)).toEqual(damagedBytes);
      expect(await sink.get(saveKey(base, 1))).toEqual(olderManifest);

      // The operator sees the damage, and the older save to restore.
      const listed = await api.request(`/api/v1/tenants/${TENANT}/snapshots?workload=echo`);
      expect(listed.status).toBe(200);
      const snapshots = await listed.json();
      expect(snapshots).toMatchObject({ head: isHead ? null : 2, damaged: listedDamage(damaged) });
      expect(snapshots.saves.map((save: { seq: number }) => save.seq)).toEqual(
        listedDamage(damaged).some((each) => each.seq === 2) ? [1] : [2, 1],
      );
      const restored = await api.request(`/api/v1/tenants/${TENANT}/snapshots/1/restore`, {
        method: 'POST',
        body: JSON.stringify({ workload: 'echo' }),
      });
      expect(restored.status).toBe(200);
      expect(await restored.json()).toMatchObject({ restored: 1, head: 3 });
      const back = await bh.claim(TENANT, 'echo');
      expect(await counter(back.endpoints[0]?.url as string)).toBe(2);
      // The damaged object is still there for the operator to look into.
      if (!isHead) expect(await sink.get(damaged)).toEqual(damagedBytes);

      const exposition = (await (metrics as Metrics).render()).body;
      const restoreErrors = { workload: 'echo', direction: 'restore', cause: 'damaged' };
      expect(sampleSum(exposition, 'boilerhouse_state_errors_total', restoreErrors)).toBe(2);
      const claimErrors = { workload: 'echo', code: 'save_damaged' };
      expect(sampleSum(exposition, 'boilerhouse_claim_errors_total', claimErrors)).toBe(2);
      expect(await promtoolCheck(exposition)).toEqual({ code: 0, output: '' });
    },
  );
});
