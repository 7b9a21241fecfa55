/** One save, as its manifest describes it: every file, where its content is, and how to spot a change. */

export interface ManifestFile {
  /** Where the file is in the sink's namespace (its mapping's `sink_path` plus the rest of its path). */
  path: string;
  size: number;
  /** Permission bits. */
  mode: number;
  mtimeMs: number;
  sha256: string;
  /** A blob of its own (keyed by `sha256`), or a slice of a pack starting at `offset`. */
  pack?: string;
  offset?: number;
  /** Captured through SQLite's backup API. */
  sqlite?: boolean;
  /** What the file looked like on the instance when saved (inode, size, mtime, and its WAL's), to skip unchanged files. */
  seen: string;
}

export interface Manifest {
  version: 1;
  seq: number;
  createdAt: string;
  /** The instance it was saved from. */
  instance: string;
  files: ManifestFile[];
  /** Empty directories, so they come back too. */
  dirs: string[];
}

export interface SaveSummary {
  seq: number;
  createdAt: string;
  instance: string;
  files: number;
  bytes: number;
}

export function summarize(manifest: Manifest): SaveSummary {
  return {
    seq: manifest.seq,
    createdAt: manifest.createdAt,
    instance: manifest.instance,
    files: manifest.files.length,
    bytes: manifest.files.reduce((sum, file) => sum + file.size, 0),
  };
}

/** Parses a manifest read from a sink, refusing anything that is not one (a torn or foreign object). */
export function parseManifest(text: string, key: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${key} is not a valid manifest (not JSON)`);
  }
  const manifest = value as Manifest;
  if (manifest?.version !== 1 || !Number.isInteger(manifest.seq) || !Array.isArray(manifest.files)) {
    throw new Error(`${key} is not a valid manifest`);
  }
  for (const file of manifest.files) {
    if (typeof file.path !== 'string' || file.path.startsWith('/') || file.path.split('/').includes('..')) {
      throw new Error(`${key} names a file outside the state volume: ${JSON.stringify(file.path)}`);
    }
  }
  return manifest;
}
