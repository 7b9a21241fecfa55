/** One save, as its manifest describes it: every file, where its content is, and how to spot a change. */

export interface ManifestFile {
  /** Where the file is in the sink's namespace (its mapping's `sink_path` plus the rest of its path). */
  path: string;
  size: number;
  /** Permission bits. */
  mode: number;
  mtimeMs: number;
  /** Of the content; for a chunked file, of its chunks' hashes, one per line. */
  sha256: string;
  /** A small file is a slice of a pack, starting at `offset`. */
  pack?: string;
  offset?: number;
  /**
   * A large file is chunks of `chunkBytes` (the last may be shorter), each a blob keyed by its SHA-256:
   * they travel in parallel, and a save uploads only the chunks the last save does not have.
   */
  chunks?: string[];
  chunkBytes?: number;
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

/** A manifest that is not one. */
export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

/** Parses a manifest read from a sink, refusing anything that is not one (a torn or foreign object). */
export function parseManifest(text: string, key: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ManifestError(`${key} is not a valid manifest (not JSON)`);
  }
  const manifest = value as Manifest;
  if (
    manifest?.version !== 1 ||
    !Number.isInteger(manifest.seq) ||
    !Array.isArray(manifest.files) ||
    !Array.isArray(manifest.dirs)
  ) {
    throw new ManifestError(`${key} is not a valid manifest`);
  }
  for (const file of manifest.files) {
    if (typeof file.path !== 'string' || file.path.startsWith('/') || file.path.split('/').includes('..')) {
      throw new ManifestError(`${key} names a file outside the state volume: ${JSON.stringify(file.path)}`);
    }
    if (!holdsContent(file)) throw new ManifestError(`${key} does not say where ${file.path}'s content is`);
  }
  return manifest;
}

/** A SHA-256 as saves write it: 64 lowercase hex digits. */
export const SHA256 = /^[0-9a-f]{64}$/;

/** A file is in a pack, or in whole chunks that add up to its size. */
function holdsContent(file: ManifestFile): boolean {
  if (!Number.isSafeInteger(file.size) || file.size < 0) return false;
  if (file.pack !== undefined) return SHA256.test(file.pack) && Number.isSafeInteger(file.offset);
  const { chunks, chunkBytes } = file;
  return (
    Array.isArray(chunks) &&
    chunks.every((chunk) => SHA256.test(chunk)) &&
    Number.isSafeInteger(chunkBytes) &&
    (chunkBytes as number) > 0 &&
    chunks.length === Math.ceil(file.size / (chunkBytes as number))
  );
}

/** Where each chunk of a chunked file goes in it. */
export function chunkSpans(file: ManifestFile): { sha256: string; offset: number; length: number }[] {
  const { chunks = [], chunkBytes = 0 } = file;
  return chunks.map((sha256, index) => {
    const offset = index * chunkBytes;
    return { sha256, offset, length: Math.min(chunkBytes, file.size - offset) };
  });
}
