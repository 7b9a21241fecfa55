import { describe, expect, it } from 'vitest';
import type { RegisteredGroup } from '../store/groups.ts';
import type { StoredMessage } from '../store/messages.ts';
import { parseCommand } from './commands.ts';
import { formatPrompt } from './prompt.ts';
import { isTriggered, startsWithTrigger, triggerOf } from './trigger.ts';

const group = (overrides: Partial<RegisteredGroup> = {}): RegisteredGroup => ({
  name: 'Family',
  folder: 'family',
  addedAt: '2026-01-01T00:00:00Z',
  ...overrides,
});

describe('trigger', () => {
  it('matches the trigger at the start only, in any case, as a whole word', () => {
    expect(startsWithTrigger('@Andy what is up?', '@Andy')).toBe(true);
    expect(startsWithTrigger('@andy help me', '@Andy')).toBe(true);
    expect(startsWithTrigger('  @ANDY, hi', '@Andy')).toBe(true);
    expect(startsWithTrigger('Hey @Andy', '@Andy')).toBe(false);
    expect(startsWithTrigger('@Andyx hi', '@Andy')).toBe(false);
    expect(startsWithTrigger('@Andy.', '@Andy')).toBe(true);
  });

  it('uses a per-group trigger, and main needs none', () => {
    expect(triggerOf(group({ trigger: '@Bot' }), 'Andy')).toBe('@Bot');
    expect(isTriggered(['@Bot hi'], group({ trigger: '@Bot' }), 'Andy')).toBe(true);
    expect(isTriggered(['@Andy hi'], group({ trigger: '@Bot' }), 'Andy')).toBe(false);
    expect(isTriggered(['just chatting'], group({ folder: 'main' }), 'Andy')).toBe(true);
    expect(isTriggered(['just chatting'], group({ requiresTrigger: false }), 'Andy')).toBe(true);
    expect(isTriggered(['just chatting', '@andy and you?'], group(), 'Andy')).toBe(true);
  });
});

describe('formatPrompt', () => {
  it('carries every message with time (in the time zone) and sender, escaped', () => {
    const message = (senderName: string, text: string, timestamp: number): StoredMessage => ({
      seq: 1,
      id: 'x',
      chatJid: 'web:main',
      sender: senderName,
      senderName,
      text,
      timestamp,
      receivedAt: timestamp,
      fromAssistant: false,
      answersUpTo: null,
      attachments: [],
    });
    const at = Date.UTC(2026, 0, 31, 13, 32);
    expect(
      formatPrompt(
        [message('John', 'pizza <tonight>?', at), message('Sarah "S"', '@Andy & toppings', at + 60_000)],
        'Europe/Berlin',
      ),
    ).toBe(
      [
        '<messages>',
        '<message sender="John" time="31 Jan 2026, 14:32">pizza &lt;tonight&gt;?</message>',
        '<message sender="Sarah &quot;S&quot;" time="31 Jan 2026, 14:33">@Andy &amp; toppings</message>',
        '</messages>',
      ].join('\n'),
    );
  });
});

describe('parseCommand', () => {
  it('knows /clear, /groups and /unregister, alone or after the trigger', () => {
    expect(parseCommand('/clear', '@Andy')).toEqual({ name: 'clear' });
    expect(parseCommand('@andy /clear', '@Andy')).toEqual({ name: 'clear' });
    expect(parseCommand('/groups', '@Andy')).toEqual({ name: 'groups' });
    expect(parseCommand('/unregister x@g.us', '@Andy')).toEqual({ name: 'unregister', jid: 'x@g.us' });
    expect(parseCommand('/clear the table please', '@Andy')).toBeUndefined();
    expect(parseCommand('what does /clear do?', '@Andy')).toBeUndefined();
    expect(parseCommand('/weather', '@Andy')).toBeUndefined();
  });
});
