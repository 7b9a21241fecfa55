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
  const syntax = [...documents.flatMap((doc) => doc.errors)].map(syntaxProblem);
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

function syntaxProblem(error: YAMLError): Problem {
  const position = error.linePos?.[0] ?? { line: 1, col: 1 };
  // The parser appends " at line N, column M:" and a source excerpt; the position is reported separately.
  const message = error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? error.message;
  return {
    severity: 'error',
    line: position.line,
    column: position.col,
    path: '(yaml)',
    message: `invalid YAML: ${message}`,
  };
}

/** `FILE:LINE:COL PATH: MESSAGE`, with `warning: ` before the message of a warning. */
export function formatProblem(file: string, problem: Problem): string {
  const prefix = problem.severity === 'warning' ? 'warning: ' : '';
  return `${file}:${problem.line}:${problem.column} ${problem.path}: ${prefix}${problem.message}`;
}
