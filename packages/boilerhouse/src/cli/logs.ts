/** `logs INSTANCE`: the instance container's output, as the daemon streams it. */
import { path } from './client.ts';
import type { Command } from './command.ts';

export const logs: Command = {
  path: ['logs'],
  args: 'INSTANCE',
  summary: "an instance's container output; --follow to keep watching",
  description:
    "Prints the output (stdout and stderr) of INSTANCE's container: the last --tail lines (the daemon's\n" +
    'default is 200), then with --follow whatever it writes next, until Ctrl-C or the container stops.\n' +
    'Instance ids are in "status" and "tenant show".',
  options: {
    follow: { type: 'boolean', short: 'f', description: 'keep printing new output' },
    tail: { type: 'string', value: 'N', description: 'lines from the end to start with' },
  },
  api: true,
  json: false,
  examples: ['logs echo-3f2a9c01de', 'logs echo-3f2a9c01de --follow --tail 0'],
  async run(context) {
    const [instance] = context.positionals as [string];
    const response = await context.client().stream(path`/instances/${instance}/logs`, {
      headers: { accept: 'text/plain' },
      query: { tail: context.integer('tail'), follow: context.flag('follow') ? 'true' : undefined },
    });
    if (response.body === null) return 0;
    const decoder = new TextDecoder();
    for await (const chunk of response.body) context.io.out(decoder.decode(chunk, { stream: true }));
    const rest = decoder.decode();
    if (rest !== '') context.io.out(rest);
    return 0;
  },
};
