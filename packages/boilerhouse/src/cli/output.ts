/** Printing a command's result: the API's JSON unchanged for `--json`, or the command's text for people. */
import type { Context } from './command.ts';

export function printJson(context: Context, body: unknown): void {
  context.io.out(`${JSON.stringify(body, null, 2)}\n`);
}

/** Prints `body` as JSON under `--json`, else the text `human` makes of it. */
export function print<T>(context: Context, body: T, human: (body: T) => string): void {
  if (context.json) printJson(context, body);
  else context.io.out(human(body));
}
