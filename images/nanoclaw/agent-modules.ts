/**
 * The agent package's modules the host loads at run time: the host-agent protocol defined once
 * (`@boilerhouse/nanoclaw-agent/frames`, `/ipc-requests`, ...). The host does not depend on the agent
 * package, whose own dependencies (the Agent SDK, Playwright) it never loads, so its manifest's closure
 * leaves the package out. What it needs is found from its sources instead: each agent subpath a host file
 * imports for a value (type-only imports are stripped before Node runs the code), the file the agent's
 * `exports` maps it to, and the files those import in turn. Each must import nothing the host image
 * lacks: only relative files, `node:` builtins and packages of the host's closure.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import ts from 'typescript';
import { readManifest } from '../package-closure.ts';

export const AGENT_PACKAGE = '@boilerhouse/nanoclaw-agent';

export interface AgentModules {
  /** The agent package's directory in the checkout. */
  dir: string;
  /** The subpaths the host imports, each with the file it maps to (relative to `dir`). */
  exports: Record<string, string>;
  /** Every file to stage, relative to `dir`. */
  files: string[];
}

/** The specifiers a file imports for a value (`import type` and `export type ... from` left out). */
function valueImports(path: string): string[] {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest);
  const found: string[] = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      if (statement.importClause?.isTypeOnly) continue;
      found.push((statement.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier !== undefined) {
      if (statement.isTypeOnly) continue;
      found.push((statement.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return found;
}

const packageName = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/**
 * What the host's files (relative to `hostDir`) load of the agent package at `agentDir`; `available` are
 * the names of the packages the host image has.
 */
export function agentModules(
  hostDir: string,
  hostFiles: string[],
  agentDir: string,
  available: ReadonlySet<string>,
): AgentModules {
  const exportsMap = (readManifest(agentDir) as { exports?: Record<string, string> }).exports ?? {};
  const exports: Record<string, string> = {};
  for (const file of hostFiles.filter((name) => name.endsWith('.ts'))) {
    for (const specifier of valueImports(join(hostDir, file))) {
      if (packageName(specifier) !== AGENT_PACKAGE) continue;
      const subpath = `.${specifier.slice(AGENT_PACKAGE.length)}`;
      const target = exportsMap[subpath];
      if (target === undefined)
        throw new Error(`${file} imports ${specifier}, which ${AGENT_PACKAGE} does not export`);
      exports[subpath] = target;
    }
  }
  const files = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const specifier of valueImports(join(agentDir, file))) {
      if (specifier.startsWith('.')) visit(normalize(join(dirname(file), specifier)));
      else if (!specifier.startsWith('node:') && !available.has(packageName(specifier)))
        throw new Error(
          `${file} imports ${specifier}, which the host image does not have: a module the host shares with the agent may import only what the host has`,
        );
    }
  };
  for (const target of Object.values(exports)) visit(normalize(target));
  return { dir: agentDir, exports, files: [...files].sort() };
}
