/**
 * One pass over a state volume for the newest modification time of its counted entries, advanced a bounded
 * number of entries at a time, so a large or churning volume costs the daemon the same per tick as a small
 * one, and no more than a fixed number of entries per pass.
 *
 * Never follows a link: directories are opened one segment at a time through their parent's descriptor
 * (state/beneath.ts) and listed through their own, and entries are looked at the same way
 * (`/proc/self/fd/<fd>/<name>`, no-follow), so swapping any part of the tree for a symlink between two
 * system calls can only make the pass see a change, never a file outside the volume. A swap seen (a link or
 * a file where a directory was, or a directory gone) counts as a write at that moment.
 */
import type { Dir, Stats } from 'node:fs';
import { lstat, opendir } from 'node:fs/promises';
import { at, Beneath, isNotFound, named } from '../state/beneath.ts';
import type { Counts } from './state-writes.ts';

export interface ScanLimits {
  /** A pass that would look at more entries than this stops, incomplete. */
  entries: number;
  /** Directories waiting to be listed; more than this stops the pass, incomplete. */
  pendingDirs: number;
  /** Directories deeper than this are not descended into (their own time still counts). */
  depth: number;
}

export const DEFAULT_SCAN_LIMITS: ScanLimits = { entries: 200_000, pendingDirs: 10_000, depth: 64 };

/** Where a pass stands: `incomplete` names the limit it ran into; it is then over and knows nothing. */
export type ScanProgress =
  | { done: false }
  | { done: true; newest: number; entries: number; incomplete?: string };

interface PendingDir {
  relative: string;
  depth: number;
}

interface Listing {
  pending: PendingDir;
  dir: Dir;
}

/** Codes that mean the tenant changed the entry between two calls (gone, or not a directory any more). */
const CHANGED_UNDER_US = new Set(['ELOOP', 'ENOTDIR']);

export class WriteScan {
  readonly #root: string;
  readonly #counts: Counts;
  readonly #limits: ScanLimits;
  readonly #now: () => number;
  readonly #pending: PendingDir[] = [];
  #listing: Listing | undefined;
  #beneath: Beneath | undefined;
  #started = false;
  #newest = 0;
  #entries = 0;
  #incomplete: string | undefined;

  constructor(root: string, counts: Counts, now: () => number, limits: ScanLimits = DEFAULT_SCAN_LIMITS) {
    this.#root = root;
    this.#counts = counts;
    this.#now = now;
    this.#limits = limits;
  }

  /** Looks at up to `budget` more entries. Errors other than the tenant's own changes reject. */
  async step(budget: number): Promise<ScanProgress> {
    if (!this.#started) {
      this.#started = true;
      // No state volume (yet, or any more): nothing written.
      this.#beneath = await Beneath.open(this.#root).catch((error: unknown) => {
        if (isNotFound(error)) return undefined;
        throw error;
      });
      if (this.#beneath !== undefined) this.#pending.push({ relative: '', depth: 0 });
    }
    let left = budget;
    while (left > 0 && this.#incomplete === undefined) {
      if (this.#listing === undefined) {
        const next = this.#pending.pop();
        if (next === undefined) break;
        this.#listing = await this.#openListing(next);
        continue;
      }
      const entry = await this.#listing.dir.read();
      if (entry === null) {
        await this.#closeListing();
        continue;
      }
      left--;
      if (++this.#entries > this.#limits.entries) {
        this.#incomplete = `over ${this.#limits.entries} entries`;
        break;
      }
      const { pending } = this.#listing;
      const relative = pending.relative === '' ? entry.name : `${pending.relative}/${entry.name}`;
      const counted = this.#counts(relative);
      // Regular files and links outside the counted paths need no look; anything else might be a directory.
      if (!counted && (entry.isFile() || entry.isSymbolicLink())) continue;
      const stats = await this.#lstat(pending.relative, entry.name, relative);
      if (stats === undefined) continue;
      if (counted) this.#newest = Math.max(this.#newest, stats.mtimeMs);
      if (!stats.isDirectory() || pending.depth >= this.#limits.depth) continue;
      if (this.#pending.length >= this.#limits.pendingDirs) {
        this.#incomplete = `over ${this.#limits.pendingDirs} directories waiting to be listed`;
        break;
      }
      this.#pending.push({ relative, depth: pending.depth + 1 });
    }
    const over =
      this.#incomplete !== undefined || (this.#listing === undefined && this.#pending.length === 0);
    if (!over) return { done: false };
    await this.close();
    const result = { done: true as const, newest: this.#newest, entries: this.#entries };
    return this.#incomplete === undefined ? result : { ...result, incomplete: this.#incomplete };
  }

  /** Releases what the pass holds open; it can not go on after this. */
  async close(): Promise<void> {
    this.#pending.length = 0;
    const listing = this.#listing;
    const beneath = this.#beneath;
    this.#listing = undefined;
    this.#beneath = undefined;
    await listing?.dir.close();
    await beneath?.close();
  }

  async #openListing(pending: PendingDir): Promise<Listing | undefined> {
    const beneath = this.#beneath as Beneath;
    try {
      // Listed through its own descriptor: the very directory that was opened, wherever it is moved to.
      const dir = await beneath.inDir(pending.relative, (fd) => opendir(at(fd), { bufferSize: 64 }));
      return { pending, dir };
    } catch (error) {
      return this.#changed(pending.relative, error);
    }
  }

  async #closeListing(): Promise<void> {
    const listing = this.#listing;
    this.#listing = undefined;
    await listing?.dir.close();
  }

  /** The entry itself (never a link's target), looked up through its directory; undefined when gone. */
  async #lstat(directory: string, name: string, relative: string): Promise<Stats | undefined> {
    try {
      return await (this.#beneath as Beneath).inDir(directory, (fd) => lstat(at(fd, name)));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      // The directory itself was swapped since it was listed: a change, like any other.
      if (CHANGED_UNDER_US.has((error as { code?: string }).code ?? ''))
        return this.#changed(directory, error);
      throw named(relative, error);
    }
  }

  /**
   * A directory that went away or was swapped: the tenant is writing there now, which counts when the
   * directory does. Any other error is real.
   */
  #changed(relative: string, error: unknown): undefined {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (error !== undefined && code !== 'ENOENT' && !CHANGED_UNDER_US.has(code ?? '')) throw error;
    if (relative === '' || this.#counts(relative)) this.#newest = Math.max(this.#newest, this.#now());
    return undefined;
  }
}
