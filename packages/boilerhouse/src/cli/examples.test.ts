/**
 * Every example a person is shown (each command's --help, and the `bh ...` lines of the README and the
 * hosting guide) names a command that exists with arguments and options it accepts. Whether each does
 * what it says against a daemon is the end-to-end tests' part (cli.e2e.test.ts follows the guide's steps).
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { splitShellWords } from '../../../spec/src/shell-words.ts';
import { exampleLine, parseCommandArgs } from './command.ts';
import { COMMANDS } from './main.ts';

/** The command an argument list runs, and the arguments left for it. */
function resolve(words: string[]) {
  const command = COMMANDS.find((candidate) => candidate.path.every((word, index) => words[index] === word));
  return command === undefined ? undefined : { command, args: words.slice(command.path.length) };
}

/** `VAR=x bh claim alice # note` -> ['claim', 'alice']; undefined when the line is not a bh command. */
function bhWords(line: string): string[] | undefined {
  // The command alone: no comment, no redirection or pipe after it, no $(...) to expand.
  const command = (line.replace(/\s+#.*$/, '').split(/\s(?:\||>|<|&&|;)\s/)[0] as string).replace(
    /\$\(.*?\)/g,
    'x',
  );
  const words = splitShellWords(command);
  const at = words.findIndex((word) => !/^[A-Z][A-Z0-9_]*=/.test(word));
  if (words[at] !== 'bh' && words[at] !== 'boilerhouse') return undefined;
  return words.slice(at + 1);
}

function expectRunnable(words: string[], where: string): void {
  const found = resolve(words);
  expect(found, `${where}: no command "${words.join(' ')}"`).toBeDefined();
  if (found === undefined) return;
  expect(() => parseCommandArgs(found.command, found.args), where).not.toThrow();
}

test("every command's --help examples run as shown", () => {
  for (const command of COMMANDS) {
    for (const example of command.examples) {
      const words = bhWords(exampleLine('bh', example)) as string[];
      expectRunnable(words, `${command.path.join(' ')} --help: ${example}`);
    }
  }
});

test('every bh line in the README and the hosting guide runs as written', () => {
  let lines = 0;
  for (const file of ['README.md', 'docs/hosting-nanoclaw.md']) {
    const text = readFileSync(new URL(`../../../../${file}`, import.meta.url), 'utf8');
    const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] as string);
    for (const line of blocks.flatMap((block) => block.split('\n'))) {
      const words = bhWords(line.trim());
      if (words === undefined || words.length === 0) continue;
      expectRunnable(words, `${file}: ${line.trim()}`);
      lines++;
    }
  }
  expect(lines).toBeGreaterThan(15);
});
