/**
 * A tenant's saves of one workload in a sink: content-addressed objects, a manifest per save, and a HEAD
 * pointer written last. So a save interrupted at any point (process killed, connection cut, sink failing)
 * leaves the previous save whole, and a restore reads exactly one complete save. Saves are incremental:
 * files unchanged since the last save are not read or uploaded again, small files travel packed
 * together (per-object requests dominate small files), and large files travel as chunks, in parallel,
 * of which only those the last save lacks are uploaded.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { Retention } from '@boilerhouse/spec';
import type { Owner } from '../owner.ts';
import { Beneath } from './beneath.ts';
import { type CapturedFile, copyDatabases, openCaptured, type Scan, scanState } from './capture.ts';
import { inParallel, Slots } from './concurrency.ts';
import { blobKey, headKey, packKey, parseSaveKey, saveKey } from './keys.ts';
import {
  chunkSpans,
  type Manifest,
  ManifestError,
  type ManifestFile,
  parseManifest,
  type SaveSummary,
  SHA256,
  summarize,
} from './manifest.ts';
import type { MappingSet } from './mappings.ts';
import { DamagedSaveError } from './save-errors.ts';
import { type Sink, SinkContentError, SinkNotFoundError } from './sinks/sink.ts';
import { DEFAULT_SQLITE_BACKUP, type SqliteBackupOptions } from './sqlite-backup.ts';

/** Files up to this size go into packs; larger ones are cut into chunks. */
const SMALL_FILE_BYTES = 256 * 1024;
const PACK_BYTES = 8 * 1024 * 1024;
const CHUNK_BYTES = 8 * 1024 * 1024;
const PARALLEL_REQUESTS = 8;
const PARALLEL_WRITES = 32;

export interface SaveResult {
  /** The save now at HEAD; undefined when there is no save at all. */
  seq: number | undefined;
  /** False when nothing had changed since the last save (no new save was written). */
  changed: boolean;
  files: number;
  uploadedFiles: number;
  uploadedBytes: number;
  /** Why this save could not build on the previous one (it was damaged), so it is a whole one. */
  damaged?: string;
}

/** A save, or HEAD (no `seq`), that cannot be read, and why. */
export interface DamagedSave {
  seq?: number;
  key: string;
  reason: string;
}

export interface RestoreResult {
  seq: number | undefined;
  files: number;
  bytes: number;
}

export interface SnapshotStoreOptions {
  sqliteBackup?: SqliteBackupOptions;
  /** Tests only: runs between a save's scan and its reads, to change the volume there. */
  _afterScan?: (scan: Scan) => Promise<void>;
}

export class SnapshotStore {
  readonly #sink: Sink;
  readonly #base: string;
  readonly #options: SnapshotStoreOptions;
  /** Manifests are immutable once written, so a copy read once stays true. */
  readonly #manifests = new Map<number, Manifest>();

  constructor(sink: Sink, base: string, options: SnapshotStoreOptions = {}) {
    this.#sink = sink;
    this.#base = base;
    this.#options = options;
  }

  /** The newest complete save, if any. A HEAD that is not one is a DamagedSaveError naming it. */
  async head(): Promise<number | undefined> {
    return (await this.#head())?.seq;
  }

  /** HEAD: the newest save, and the SHA-256 of its manifest where HEAD records it. */
  async #head(): Promise<HeadPointer | undefined> {
    const key = headKey(this.#base);
    let text: string;
    try {
      text = (await this.#sink.get(key)).toString('utf8');
    } catch (error) {
      if (error instanceof SinkNotFoundError) return undefined;
      throw error;
    }
    const head = parseHead(text);
    if (head === undefined) {
      throw new DamagedSaveError(key, `${key} in ${this.#sink.description} is damaged: not a HEAD pointer`);
    }
    return head;
  }

  /**
   * Save `seq`'s manifest; a damaged or missing one is a DamagedSaveError naming its key. With the hash
   * HEAD records for it, a sink that keeps objects by their content (the host's cache) may answer without
   * a request; what it answers is checked as any manifest is.
   */
  async manifest(seq: number, sha256?: string): Promise<Manifest> {
    const cached = this.#manifests.get(seq);
    if (cached !== undefined) return cached;
    const key = saveKey(this.#base, seq);
    let manifest: Manifest;
    try {
      const body =
        sha256 !== undefined && this.#sink.getByContent !== undefined
          ? await this.#sink.getByContent(key, sha256)
          : await this.#sink.get(key);
      manifest = parseManifest(body.toString('utf8'), key);
    } catch (error) {
      if (error instanceof SinkNotFoundError) {
        throw new DamagedSaveError(
          key,
          `save ${seq} has no manifest: ${key} is missing from ${this.#sink.description}`,
        );
      }
      if (error instanceof ManifestError) {
        throw new DamagedSaveError(
          key,
          `${error.message} (in ${this.#sink.description}): save ${seq} is damaged`,
        );
      }
      throw error;
    }
    if (manifest.seq !== seq) {
      throw new DamagedSaveError(
        key,
        `${key} in ${this.#sink.description} holds save ${manifest.seq}, not ${seq}`,
      );
    }
    this.#manifests.set(seq, manifest);
    return manifest;
  }

  /** Every save still kept that can be read, newest first (see `survey` for those that cannot). */
  async list(): Promise<SaveSummary[]> {
    return (await this.survey()).saves;
  }

  /**
   * Every save kept, newest first: those that can be read, and the damaged ones (their manifest torn,
   * missing or foreign), which are left where they are for an operator to look at.
   */
  async survey(): Promise<{ saves: SaveSummary[]; damaged: Required<DamagedSave>[] }> {
    const read = await Promise.all(
      (await this.#seqs()).map((seq) =>
        this.manifest(seq).then(summarize, (error: unknown) => {
          if (error instanceof DamagedSaveError) return { seq, key: error.key, reason: error.message };
          throw error;
        }),
      ),
    );
    return {
      saves: read.filter((each): each is SaveSummary => 'createdAt' in each),
      damaged: read.filter((each): each is Required<DamagedSave> => 'reason' in each),
    };
  }

  /**
   * What an operator sees: the current save, every save, and everything damaged, HEAD included (torn,
   * lost while saves remain, or naming a save whose manifest is gone). A damaged HEAD is no current save.
   * Only what manifests and HEAD say is checked: a damaged pack or blob is found when a restore reads it.
   */
  async overview(): Promise<{ head: number | undefined; saves: SaveSummary[]; damaged: DamagedSave[] }> {
    const [head, { saves, damaged }] = await Promise.all([
      this.head().catch((error: unknown) => {
        if (error instanceof DamagedSaveError) return error;
        throw error;
      }),
      this.survey(),
    ]);
    if (head instanceof DamagedSaveError) {
      return { head: undefined, saves, damaged: [{ key: head.key, reason: head.message }, ...damaged] };
    }
    if (head === undefined) {
      const lost = this.#lostHead([...saves, ...damaged].map((save) => save.seq));
      const headDamage = lost === undefined ? [] : [{ key: lost.key, reason: lost.message }];
      return { head, saves, damaged: [...headDamage, ...damaged] };
    }
    if (saves.some((save) => save.seq === head) || damaged.some((save) => save.seq === head)) {
      return { head, saves, damaged };
    }
    // HEAD names a save that is not listed: its manifest is missing, which reading it says.
    const missing = await this.manifest(head).then(
      () => [],
      (error: unknown) => {
        if (error instanceof DamagedSaveError) return [{ seq: head, key: error.key, reason: error.message }];
        throw error;
      },
    );
    return { head, saves, damaged: [...missing, ...damaged] };
  }

  /** No HEAD though saves `seqs` are there: HEAD was lost, and an empty state is no answer. */
  #lostHead(seqs: number[]): DamagedSaveError | undefined {
    if (seqs.length === 0) return undefined;
    const key = headKey(this.#base);
    return new DamagedSaveError(
      key,
      `${key} is missing from ${this.#sink.description}, though saves ${[...seqs].sort((a, b) => b - a).join(', ')} are there: make one current (snapshots/{seq}/restore)`,
    );
  }

  /**
   * The save a new one follows. When HEAD or its manifest is damaged the new save cannot build on it: it
   * is a whole one (every file uploaded), so that the instance's state is saved all the same; the damaged
   * save stays for an operator.
   */
  async #previous(): Promise<{
    headSeq: number | undefined;
    previous: Manifest | undefined;
    damaged?: DamagedSaveError;
  }> {
    try {
      const head = await this.#head();
      return {
        headSeq: head?.seq,
        previous: head === undefined ? undefined : await this.manifest(head.seq, head.manifestSha256),
      };
    } catch (error) {
      if (error instanceof DamagedSaveError)
        return { headSeq: undefined, previous: undefined, damaged: error };
      throw error;
    }
  }

  /** The numbers of every manifest in the sink, newest first. */
  async #seqs(): Promise<number[]> {
    return (await this.#sink.list(`${this.#base}saves/`))
      .map((key) => parseSaveKey(this.#base, key))
      .filter((seq): seq is number => seq !== undefined)
      .sort((a, b) => b - a);
  }

  /** Saves what the mappings upload from `stateDir`, unless nothing changed since the last save. */
  async save(stateDir: string, mappings: MappingSet, instance: string): Promise<SaveResult> {
    const volume = await Beneath.open(stateDir);
    try {
      return await this.#save(volume, mappings, instance);
    } finally {
      await volume.close();
    }
  }

  async #save(volume: Beneath, mappings: MappingSet, instance: string): Promise<SaveResult> {
    const { headSeq, previous, damaged } = await this.#previous();
    const earlier = new Map(previous?.files.map((file) => [file.path, file]));
    const scan = await scanState(volume, mappings, earlier);
    await this.#options._afterScan?.(scan);
    const unchanged = (file: CapturedFile) => earlier.get(file.sinkPath)?.seen === file.seen;
    const scanned = new Set(scan.files.map((file) => file.sinkPath));
    // Files no longer on the instance stay in the save when their mapping only adds (copy) or only restores.
    const carried = (previous?.files ?? []).filter((file) => {
      if (scanned.has(file.path)) return false;
      const mapping = mappings.locate(file.path)?.mapping;
      return mapping !== undefined && (mapping.mode === 'copy' || mapping.direction === 'download');
    });
    const dirs = [...new Set(scan.dirs)].sort();
    const same =
      previous !== undefined &&
      scan.files.every(unchanged) &&
      scan.files.length + carried.length === previous.files.length &&
      JSON.stringify(dirs) === JSON.stringify(previous.dirs);
    if (same)
      return {
        seq: headSeq,
        changed: false,
        files: previous.files.length,
        uploadedFiles: 0,
        uploadedBytes: 0,
      };

    const dispose = await copyDatabases(
      volume,
      scan.files,
      (file) => !unchanged(file),
      this.#options.sqliteBackup ?? DEFAULT_SQLITE_BACKUP,
    );
    try {
      const entries: ManifestFile[] = [...carried];
      const small: CapturedFile[] = [];
      const large: CapturedFile[] = [];
      for (const file of scan.files) {
        const before = earlier.get(file.sinkPath);
        if (before !== undefined && unchanged(file)) entries.push(before);
        else if (file.size <= SMALL_FILE_BYTES) small.push(file);
        else large.push(file);
      }
      let uploadedBytes = 0;
      // Objects a published save refers to are whole; anything else may be the torn leftover of a
      // save that died, so it is uploaded again.
      const stored = new Set(previous?.files.flatMap((file) => file.chunks ?? []));
      const requests = new Slots(PARALLEL_REQUESTS);
      await inParallel(large, PARALLEL_REQUESTS, async (file) => {
        const { entry, uploaded } = await this.#putChunks(volume, file, stored, requests);
        entries.push(entry);
        uploadedBytes += uploaded;
      });
      for (const pack of await this.#putPacks(volume, small)) {
        entries.push(...pack.entries);
        uploadedBytes += pack.bytes;
      }
      const manifest: Manifest = {
        version: 1,
        // After every save in the sink, not just HEAD: a damaged HEAD, or a manifest a save that died
        // left unpublished, is never overwritten.
        seq: Math.max(headSeq ?? 0, ...(await this.#seqs())) + 1,
        createdAt: new Date().toISOString(),
        instance,
        files: entries.sort((a, b) => a.path.localeCompare(b.path)),
        dirs,
      };
      await this.#publish(manifest);
      return {
        seq: manifest.seq,
        changed: true,
        files: entries.length,
        uploadedFiles: small.length + large.length,
        uploadedBytes,
        ...(damaged === undefined ? {} : { damaged: damaged.message }),
      };
    } finally {
      await dispose();
    }
  }

  /**
   * Writes save `seq` (default: HEAD) into `stateDir`, which must be empty and unused: instances restore
   * behind their gate, before the workload's process starts, so nothing sees a partial state. Only files
   * whose current mapping downloads them come back.
   */
  async restore(stateDir: string, mappings: MappingSet, options: { seq?: number; owner?: Owner } = {}) {
    const head = options.seq === undefined ? await this.#head() : undefined;
    const seq = options.seq ?? head?.seq;
    if (seq === undefined) {
      // No HEAD is a new tenant, unless there are saves.
      const lost = this.#lostHead(await this.#seqs());
      if (lost !== undefined) throw lost;
      return { seq, files: 0, bytes: 0 } satisfies RestoreResult;
    }
    const manifest = await this.manifest(seq, head?.manifestSha256);
    const volume = await Beneath.open(stateDir);
    try {
      return await this.#restore(volume, manifest, mappings, options.owner);
    } finally {
      await volume.close();
    }
  }

  /** Everything is created beneath the volume (never through a link); mode, owner and times through the handle. */
  async #restore(volume: Beneath, manifest: Manifest, mappings: MappingSet, owner: Owner | undefined) {
    const wanted = manifest.files.flatMap((file) => {
      const target = mappings.locate(file.path);
      return target === undefined || target.mapping.direction === 'upload'
        ? []
        : [{ file, path: target.path }];
    });
    const write = async (path: string, file: ManifestFile, fill: (handle: FileHandle) => Promise<void>) => {
      const handle = await volume.createFile(path, file.mode, owner);
      try {
        await fill(handle);
        // The mode given at creation is masked by the umask; set it exactly.
        await handle.chmod(file.mode);
        if (owner !== undefined) await handle.chown(owner.uid, owner.gid);
        await handle.utimes(file.mtimeMs / 1000, file.mtimeMs / 1000);
      } finally {
        await handle.close();
      }
    };
    const byPack = new Map<string, typeof wanted>();
    const chunked: typeof wanted = [];
    for (const item of wanted) {
      if (item.file.pack === undefined) chunked.push(item);
      else byPack.set(item.file.pack, [...(byPack.get(item.file.pack) ?? []), item]);
    }
    const requests = new Slots(PARALLEL_REQUESTS);
    const packs = inParallel([...byPack.entries()], PARALLEL_REQUESTS, async ([pack, items]) => {
      const content = await requests.run(() => this.#getSaved(manifest, packKey(this.#base, pack)));
      // Creating files is the slow part on most disks: write a pack's files many at a time.
      await inParallel(items, PARALLEL_WRITES, async ({ file, path }) => {
        const slice = content.subarray(file.offset ?? 0, (file.offset ?? 0) + file.size);
        this.#checkContent(manifest, packKey(this.#base, pack), file, slice, file.sha256);
        await write(path, file, (handle) => writeAt(handle, slice, 0));
      });
    });
    // Each chunk is written at its place as it arrives, many at once across files, and checked once in.
    const large = inParallel(chunked, PARALLEL_REQUESTS, ({ file, path }) =>
      write(path, file, (handle) =>
        inParallel(chunkSpans(file), PARALLEL_REQUESTS, (span) =>
          requests.run(() => this.#writeChunk(manifest, file, span, handle)),
        ),
      ),
    );
    await Promise.all([packs, large]);
    for (const dir of manifest.dirs) {
      const target = mappings.locate(dir);
      if (target !== undefined && target.mapping.direction !== 'upload') {
        await volume.makeDirs(target.path, owner);
      }
    }
    const bytes = wanted.reduce((sum, { file }) => sum + file.size, 0);
    return { seq: manifest.seq, files: wanted.length, bytes } satisfies RestoreResult;
  }

  /**
   * Makes save `seq` the newest again, as a new save with the same content (nothing is copied), numbered
   * after every save in the sink: a damaged HEAD or newer save is neither in the way nor overwritten.
   */
  async rollBack(seq: number): Promise<number> {
    const old = await this.manifest(seq);
    const current = await this.head().catch((error: unknown) => {
      if (error instanceof DamagedSaveError) return undefined;
      throw error;
    });
    const next = Math.max(current ?? 0, ...(await this.#seqs())) + 1;
    await this.#publish({ ...old, seq: next, createdAt: new Date().toISOString() });
    return next;
  }

  /**
   * Keeps the saves `retention` keeps (the newest `count`, and every one younger than `age`: a save either
   * keeps is kept), HEAD and the newest save whatever they say, and deletes the rest, then every object no
   * kept save refers to. Callers run it only while no save of this tenant is under way. A damaged save is
   * never deleted, and while there is one no object is either: what it refers to cannot be known, and may
   * be what an operator recovers. A save whose time cannot be read is kept.
   */
  async prune(retention: Retention, now = Date.now()): Promise<{ saves: number; objects: number }> {
    const { saves, damaged } = await this.survey();
    const headSeq = await this.head();
    const kept = saves
      .filter((save, newest) => {
        if (newest === 0 || save.seq === headSeq) return true;
        if (retention.count !== undefined && newest < retention.count) return true;
        const at = Date.parse(save.createdAt);
        return Number.isNaN(at) || (retention.age !== undefined && now - at < retention.age);
      })
      .map((save) => save.seq);
    if (headSeq !== undefined && !kept.includes(headSeq)) kept.push(headSeq);
    const seqs = saves.map((save) => save.seq);
    const dropped = seqs.filter((seq) => !kept.includes(seq));
    await this.#sink.delete(dropped.map((seq) => saveKey(this.#base, seq)));
    for (const seq of dropped) this.#manifests.delete(seq);
    if (damaged.length > 0) return { saves: dropped.length, objects: 0 };
    const needed = new Set<string>();
    for (const seq of kept) {
      for (const file of (await this.manifest(seq)).files) {
        if (file.pack !== undefined) needed.add(packKey(this.#base, file.pack));
        for (const chunk of file.chunks ?? []) needed.add(blobKey(this.#base, chunk));
      }
    }
    const objects = [
      ...(await this.#sink.list(`${this.#base}blobs/`)),
      ...(await this.#sink.list(`${this.#base}packs/`)),
    ].filter((key) => !needed.has(key));
    await this.#sink.delete(objects);
    return { saves: dropped.length, objects: objects.length };
  }

  /** An object a save refers to; a missing one is a DamagedSaveError naming it. */
  async #getSaved(manifest: Manifest, key: string): Promise<Buffer> {
    try {
      return await this.#sink.get(key);
    } catch (error) {
      throw this.#missingAsDamage(manifest, key, error);
    }
  }

  /** A missing object a save refers to is a DamagedSaveError naming it; other errors stay as they are. */
  #missingAsDamage(manifest: Manifest, key: string, error: unknown): unknown {
    if (!(error instanceof SinkNotFoundError)) return error;
    return new DamagedSaveError(
      key,
      `save ${manifest.seq} refers to ${key}, which is missing from ${this.#sink.description}`,
    );
  }

  /**
   * Streams a chunk into its place in the file, hashing it on the way: no chunk is held whole in memory,
   * and writing overlaps fetching. Content that is not what the save recorded fails the restore (the
   * state directory is the restore's own until it succeeds), and reading stops once it runs longer.
   */
  async #writeChunk(
    manifest: Manifest,
    file: ManifestFile,
    span: { sha256: string; offset: number; length: number },
    handle: FileHandle,
  ): Promise<void> {
    const key = blobKey(this.#base, span.sha256);
    // A sink that checks the content itself (the host's cache) spares hashing it twice.
    const verified = this.#sink.streamVerified?.(key, span.sha256);
    const hash = verified === undefined ? createHash('sha256') : undefined;
    let length = 0;
    try {
      for await (const piece of verified ?? this.#sink.stream(key)) {
        if (length + piece.length > span.length) throw this.#damaged(manifest, key, file);
        hash?.update(piece);
        await writeAt(handle, piece, span.offset + length);
        length += piece.length;
      }
    } catch (error) {
      if (error instanceof SinkContentError) throw this.#damaged(manifest, key, file);
      throw this.#missingAsDamage(manifest, key, error);
    }
    if (length !== span.length || (hash !== undefined && hash.digest('hex') !== span.sha256))
      throw this.#damaged(manifest, key, file);
  }

  /** Refuses content that is not what the save recorded (a damaged or foreign object), naming the object. */
  #checkContent(manifest: Manifest, key: string, file: ManifestFile, content: Buffer, sha256: string): void {
    if (createHash('sha256').update(content).digest('hex') !== sha256) {
      throw this.#damaged(manifest, key, file);
    }
  }

  #damaged(manifest: Manifest, key: string, file: ManifestFile): DamagedSaveError {
    return new DamagedSaveError(
      key,
      `${file.path}: the saved content is damaged: ${key} in ${this.#sink.description} does not hold what save ${manifest.seq} recorded`,
    );
  }

  /** The manifest, then HEAD: until HEAD moves, readers see the previous save. */
  async #publish(manifest: Manifest): Promise<void> {
    const body = Buffer.from(JSON.stringify(manifest));
    await this.#sink.put(saveKey(this.#base, manifest.seq), body);
    this.#manifests.set(manifest.seq, manifest);
    const head: HeadPointer = {
      seq: manifest.seq,
      manifestSha256: createHash('sha256').update(body).digest('hex'),
    };
    await this.#sink.put(headKey(this.#base), Buffer.from(JSON.stringify(head)));
  }

  /**
   * Reads a large file chunk by chunk (to its end as it is now) and uploads the chunks `stored` lacks,
   * several at once: reading waits for a free request, so memory holds at most one chunk per request.
   */
  async #putChunks(
    volume: Beneath,
    file: CapturedFile,
    stored: Set<string>,
    requests: Slots,
  ): Promise<{ entry: ManifestFile; uploaded: number }> {
    const chunks: string[] = [];
    const uploads: Promise<void>[] = [];
    let failure: unknown;
    let size = 0;
    let uploaded = 0;
    const reader = await openCaptured(volume, file);
    try {
      while (failure === undefined) {
        const release = await requests.take();
        const chunk = await readAt(reader, size, CHUNK_BYTES).catch((error: unknown) => {
          release();
          throw error;
        });
        const sha256 = createHash('sha256').update(chunk).digest('hex');
        if (chunk.length > 0) chunks.push(sha256);
        size += chunk.length;
        if (chunk.length === 0 || stored.has(sha256)) release();
        else {
          stored.add(sha256);
          uploaded += chunk.length;
          const put = this.#sink.put(blobKey(this.#base, sha256), chunk);
          const noted = put.catch((error: unknown) => {
            failure ??= error;
          });
          uploads.push(noted.finally(release));
        }
        if (chunk.length < CHUNK_BYTES) break;
      }
    } finally {
      await Promise.all(uploads);
      await reader.close();
    }
    if (failure !== undefined) throw failure;
    const sha256 = createHash('sha256').update(chunks.join('\n')).digest('hex');
    const entry = { ...manifestEntry({ ...file, size }, sha256), chunks, chunkBytes: CHUNK_BYTES };
    return { entry, uploaded };
  }

  /** Reads small files and uploads them in packs of up to PACK_BYTES. */
  async #putPacks(
    volume: Beneath,
    files: CapturedFile[],
  ): Promise<{ entries: ManifestFile[]; bytes: number }[]> {
    const contents = new Map<CapturedFile, Buffer>();
    await inParallel(files, PARALLEL_WRITES, async (file) => {
      const handle = await openCaptured(volume, file);
      try {
        contents.set(file, await handle.readFile());
      } finally {
        await handle.close();
      }
    });
    const packs: CapturedFile[][] = [];
    let current: CapturedFile[] = [];
    let size = 0;
    for (const file of files) {
      const length = contents.get(file)?.length ?? 0;
      if (current.length > 0 && size + length > PACK_BYTES) {
        packs.push(current);
        current = [];
        size = 0;
      }
      current.push(file);
      size += length;
    }
    if (current.length > 0) packs.push(current);
    const results: { entries: ManifestFile[]; bytes: number }[] = [];
    await inParallel(packs, PARALLEL_REQUESTS, async (members) => {
      const entries: ManifestFile[] = [];
      let offset = 0;
      for (const file of members) {
        const content = contents.get(file) as Buffer;
        const entry = manifestEntry(
          { ...file, size: content.length },
          createHash('sha256').update(content).digest('hex'),
        );
        entries.push({ ...entry, offset });
        offset += content.length;
      }
      const body = Buffer.concat(members.map((file) => contents.get(file) as Buffer));
      const pack = createHash('sha256').update(body).digest('hex');
      await this.#sink.put(packKey(this.#base, pack), body);
      results.push({ entries: entries.map((entry) => ({ ...entry, pack })), bytes: body.length });
    });
    return results;
  }
}

function manifestEntry(file: CapturedFile, sha256: string): ManifestFile {
  return {
    path: file.sinkPath,
    size: file.size,
    mode: file.mode,
    mtimeMs: file.mtimeMs,
    sha256,
    ...(file.sqlite ? { sqlite: true } : {}),
    seen: file.seen,
  };
}

/** Writes all of `content` into the file at `position`. */
async function writeAt(handle: FileHandle, content: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < content.length) {
    const { bytesWritten } = await handle.write(
      content,
      written,
      content.length - written,
      position + written,
    );
    written += bytesWritten;
  }
}

/** Up to `length` bytes from `position`; fewer only at the end of the file. */
async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/**
 * What HEAD holds: the newest save, and the SHA-256 of that save's manifest, so that a restore can find
 * the manifest by its content (HEADs written before it was recorded have none).
 */
interface HeadPointer {
  seq: number;
  manifestSha256?: string;
}

/** What a HEAD object says, or undefined when it is not a HEAD pointer (torn or foreign). */
function parseHead(text: string): HeadPointer | undefined {
  let parsed: { seq?: unknown; manifestSha256?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { seq, manifestSha256 } = parsed ?? {};
  if (!Number.isSafeInteger(seq) || (seq as number) <= 0) return undefined;
  // A hash that is not one is only a hint lost: the manifest is then read by its name.
  const hash = typeof manifestSha256 === 'string' && SHA256.test(manifestSha256) ? manifestSha256 : undefined;
  return { seq: seq as number, ...(hash === undefined ? {} : { manifestSha256: hash }) };
}
