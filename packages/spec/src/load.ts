/**
 * Reads a workload file's text into a validated spec, or the list of what is wrong with it. Pure: the
 * caller reads the file and supplies the variables `${VAR}` may read (`workloadEnvironment(env)`).
 */
import { isDocument, LineCounter, parseAllDocuments, type YAMLError } from 'yaml';
import { INVALID, ParseContext, type Problem } from './schema/field.ts';
import { type WorkloadSpec, workloadField } from './workload/workload.ts';
import type { WorkloadEnvironment } from './workload-env.ts';

export interface LoadResult {
  /** Present when the file has no errors (it may have warnings). */
  spec?: WorkloadSpec;
  /** Errors and warnings, in the order of the file. */
  problems: Problem[];
}

export interface LoadOptions {
  /** The file's path, for messages. */
  file: string;
  /** What BOILERHOUSE_WORKLOAD_ENV lets the file read; any other variable reads as unset. */
  env: WorkloadEnvironment;
}

export function loadWorkload(text: string, options: LoadOptions): LoadResult {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, {
    lineCounter,
    merge: true,
    uniqueKeys: true,
    prettyErrors: true,
  });
  if (!Array.isArray(documents)) {
    return { problems: [documentProblem(1, 1, 'the file is empty; expected a workload mapping')] };
  }
  const [document, second] = documents;
  if (document === undefined)
    return { problems: [documentProblem(1, 1, 'the file is empty; expected a workload mapping')] };
  // The first error only: the ones after it are mostly its echoes.
  const syntax = documents
    .flatMap((doc) => doc.errors)
    .slice(0, 1)
    .map((error) => syntaxProblem(error, text));
  if (syntax.length > 0) return { problems: syntax };
  if (second !== undefined) {
    const { line, col } = lineCounter.linePos(second.range[0]);
    return {
      problems: [documentProblem(line, col, 'expected one workload per file, found a second YAML document')],
    };
  }
  if (!isDocument(document) || document.contents === null) {
    return { problems: [documentProblem(1, 1, 'the file is empty; expected a workload mapping')] };
  }
  const context = new ParseContext(document, lineCounter, options.env);
  const parsed = workloadField.parse(document.contents, [], context);
  const problems = context.problems.sort((a, b) => a.line - b.line || a.column - b.column);
  if (parsed === INVALID || problems.some((problem) => problem.severity === 'error')) {
    return { problems };
  }
  // Seeds stay relative to the workloads directory: the daemon resolves them there when it copies them.
  return { spec: parsed, problems };
}

function documentProblem(line: number, column: number, message: string): Problem {
  return { severity: 'error', line, column, path: '(document)', message };
}

function syntaxProblem(error: YAMLError, text: string): Problem {
  const position = error.linePos?.[0] ?? { line: 1, col: 1 };
  // The parser appends " at line N, column M:" and a source excerpt; the position is reported separately.
  const parser = error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? error.message;
  const line = text.split('\n')[position.line - 1] ?? '';
  return {
    severity: 'error',
    line: position.line,
    column: position.col,
    path: '(yaml)',
    message: `invalid YAML: ${plainWords(error.code, parser, line)} (the parser says: ${parser})`,
  };
}

/** What a YAML syntax error means, in the words of someone editing a workload file. */
function plainWords(code: string, parser: string, line: string): string {
  switch (code) {
    case 'DUPLICATE_KEY': {
      const key = /^\s*([^:#]+?)\s*:/.exec(line)?.[1];
      return `${key === undefined ? 'a key' : `"${key}"`} is given twice in the same mapping`;
    }
    case 'TAB_AS_INDENT':
      return 'a tab indents this line: YAML indents with spaces only';
    case 'MISSING_CHAR':
      return /quote/i.test(parser)
        ? 'a quoted value opened above is not closed'
        : 'a [ or { opened above is not closed';
    case 'BAD_INDENT':
      return /flow/i.test(parser)
        ? 'a [ or { opened above is not closed before this line'
        : 'this line is not indented as the lines above it expect';
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      return 'a key with a value on the same line cannot have keys nested under it (indent the next line less), or a value with ": " in it needs quotes';
    case 'UNEXPECTED_TOKEN':
      return 'this line does not fit the structure above it (a list item and a key at one level, or a stray character)';
    default:
      return 'the file cannot be read as YAML here';
  }
}

/** `FILE:LINE:COL PATH: MESSAGE`, with `warning: ` before the message of a warning. */
export function formatProblem(file: string, problem: Problem): string {
  const prefix = problem.severity === 'warning' ? 'warning: ' : '';
  return `${file}:${problem.line}:${problem.column} ${problem.path}: ${prefix}${problem.message}`;
}
