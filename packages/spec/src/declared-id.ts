/**
 * The workload id a file's text declares (its top-level `id:`), read without validating the rest: a file
 * with errors still says which workload it is meant to be. JSON (which is YAML too) is read as JSON.
 */
export function declaredWorkloadId(text: string): string | undefined {
  if (text.trimStart().startsWith('{')) {
    try {
      const id = (JSON.parse(text) as { id?: unknown }).id;
      return typeof id === 'string' ? id : undefined;
    } catch {
      return undefined;
    }
  }
  return /^id:[ \t]*(["']?)([^"'\s#]+)\1[ \t]*(?:#.*)?$/m.exec(text)?.[2];
}
