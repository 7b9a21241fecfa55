/**
 * The `nanoclaw` image (built by scripts/setup.sh, step nanoclaw-image): the host runs as uid 1000 with
 * its files under /app and its `.env` read from /app/.env, serves the web chat and /health on 3847.
 * No Docker socket and no model here: a message gets the clear "no model configured" reply.
 */
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerClient, removeLeftovers } from '../../packages/nanoclaw/src/agent/docker.ts';
import { startModelServer } from '../../packages/nanoclaw-agent/src/testing/model-server.ts';

const docker = new Docker();
const label = `nanoclaw-image-test-${process.pid}`;
let home: string;
let container: Docker.Container;
let url: string;

beforeAll(async () => {
  const image = await docker
    .getImage('nanoclaw:latest')
    .inspect()
    .catch(() => undefined);
  if (image === undefined)
    throw new Error('nanoclaw:latest is missing: run scripts/setup.sh (step nanoclaw-image)');
  home = mkdtempSync(join(tmpdir(), 'nanoclaw-image-'));
  writeFileSync(join(home, '.env'), 'ASSISTANT_NAME=Zed\n');
  chownSync(home, 1000, 1000);
  container = await docker.createContainer({
    Image: 'nanoclaw:latest',
    Labels: { [label]: '1' },
    HostConfig: {
      Binds: [`${home}:/app`],
      PortBindings: { '3847/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
    },
  });
  await container.start();
  const info = await container.inspect();
  const port = info.NetworkSettings.Ports['3847/tcp']?.[0]?.HostPort;
  url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`${url}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `the host did not come up; its log:\n${(await container.logs({ stdout: true, stderr: true })).toString()}`,
  );
});

afterAll(async () => {
  await container?.remove({ force: true });
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('nanoclaw image', () => {
  it('runs the host as uid 1000 with its files under /app, answering without a model configured', async () => {
    const health = (await (await fetch(`${url}/health`)).json()) as { channels: unknown };
    expect(health.channels).toEqual({ web: { state: 'connected' } });
    const posted = await fetch(`${url}/api/chats/main/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sender: 'Ann', text: 'are you there?' }),
    });
    expect(posted.status).toBe(201);
    let replies: Array<{ sender: string; text: string }> = [];
    for (let i = 0; i < 50 && replies.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const list = (await (await fetch(`${url}/api/chats/main/messages`)).json()) as Array<{
        sender: string;
        text: string;
        from_assistant: boolean;
      }>;
      replies = list.filter((message) => message.from_assistant);
    }
    expect(replies[0]?.sender).toBe('Zed');
    expect(replies[0]?.text).toContain('No model is configured');
    expect(replies[0]?.text).toContain('/app/.env');
    for (const path of [
      'store/messages.db',
      'data/state.json',
      'data/registered_groups.json',
      'groups/CLAUDE.md',
    ]) {
      expect(existsSync(join(home, path))).toBe(true);
      expect(statSync(join(home, path)).uid).toBe(1000);
    }
    expect(
      JSON.parse(readFileSync(join(home, 'data', 'registered_groups.json'), 'utf8'))['web:main'].folder,
    ).toBe('main');
  });

  it("starts agent containers on the host's engine through the mounted socket, with host paths for mounts", async () => {
    const agentHome = mkdtempSync(join(tmpdir(), 'nanoclaw-image-agent-'));
    chownSync(agentHome, 1000, 1000);
    const model = await startModelServer(() => [
      { type: 'text', text: 'hello from an agent the contained host started' },
    ]);
    const socketGroup = String(statSync('/var/run/docker.sock').gid);
    const host = await docker.createContainer({
      Image: 'nanoclaw:latest',
      Labels: { [label]: '1' },
      // Values for the model go in the environment, as a workload's secrets would.
      Env: [
        `ANTHROPIC_BASE_URL=${model.url}`,
        'ANTHROPIC_API_KEY=test-key',
        `NANOCLAW_HOST_PATH=${agentHome}`,
      ],
      HostConfig: {
        Binds: [`${agentHome}:/app`, '/var/run/docker.sock:/var/run/docker.sock'],
        GroupAdd: [socketGroup],
        PortBindings: { '3847/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
      },
    });
    try {
      await host.start();
      const port = (await host.inspect()).NetworkSettings.Ports['3847/tcp']?.[0]?.HostPort;
      const hostUrl = `http://127.0.0.1:${port}`;
      let posted = false;
      let replies: string[] = [];
      for (let i = 0; i < 600 && replies.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (!posted) {
          posted = await fetch(`${hostUrl}/api/chats/main/messages`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ sender: 'Ann', text: 'hello agent' }),
          }).then(
            (response) => response.status === 201,
            () => false,
          );
          continue;
        }
        const list = (await (await fetch(`${hostUrl}/api/chats/main/messages`)).json()) as Array<{
          text: string;
          from_assistant: boolean;
        }>;
        replies = list.filter((message) => message.from_assistant).map((message) => message.text);
      }
      expect(replies).toEqual(['hello from an agent the contained host started']);
      expect(model.requests.length).toBeGreaterThan(0);
    } finally {
      const hostId = readFileSync(join(agentHome, 'data', 'host_id'), 'utf8').trim();
      await host.remove({ force: true });
      await removeLeftovers(dockerClient(undefined), hostId);
      await model.close();
      rmSync(agentHome, { recursive: true, force: true });
    }
  });
});
