import { describe, expect, it } from 'vitest';
import { WebChannel } from './channels/web.ts';
import { GroupFiles } from './files/group-files.ts';
import { health } from './health.ts';
import { Layout } from './layout.ts';
import { openDatabase } from './store/database.ts';
import { GroupRegistry } from './store/groups.ts';
import { MessageStore } from './store/messages.ts';
import { tempHome } from './testing/temp-home.ts';

describe('health', () => {
  it('is 503 while no channel is connected, 200 once one is', async () => {
    const home = await tempHome();
    const web = new WebChannel({
      messages: new MessageStore(openDatabase(':memory:')),
      groups: new GroupRegistry(`${home.path}/groups.json`),
      files: new GroupFiles(new Layout(home.path)),
      assistantName: 'Andy',
      statusView: async () => ({}),
    });
    const deps = {
      channels: [web],
      queueDepth: () => 3,
      runningAgents: () => 1,
      lastMessageAt: () => undefined,
      accounting: () => ({ held_messages: 2 }),
    };
    expect(health(deps)).toEqual({
      status: 503,
      body: {
        status: 'no channel connected',
        channels: { web: { state: 'disconnected' } },
        queue: { depth: 3, running: 1 },
        last_message_at: null,
        held_messages: 2,
      },
    });
    await web.connect();
    expect(health(deps).status).toBe(200);
    await web.disconnect();
    await home.remove();
  });
});
