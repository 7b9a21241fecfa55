/**
 * `data/registered_groups.json`: which chats the assistant serves, each with its group folder. The file
 * is the one record; this class is its only writer and keeps what it last wrote.
 */
import { FOLDER_PATTERN, MAIN_FOLDER } from '../layout.ts';
import { readJson, writeJsonAtomic } from './json-file.ts';

export interface AdditionalMount {
  /** A path on the host (`~` allowed), checked against the mount allowlist at every run. */
  hostPath: string;
  /** Name under /workspace/extra/. */
  containerPath: string;
  readonly?: boolean;
}

/**
 * Who may talk to the assistant in a chat: everyone, or the listed senders (the channel's sender ids),
 * with everyone else's messages ignored or held for the main chat to approve.
 */
export interface SenderPolicy {
  policy: 'everyone' | 'list';
  allowed: string[];
  unknown: 'ignored' | 'held';
}

export const EVERYONE: SenderPolicy = { policy: 'everyone', allowed: [], unknown: 'ignored' };

export interface RegisteredGroup {
  name: string;
  folder: string;
  /** Overrides `@{ASSISTANT_NAME}` for this group. */
  trigger?: string;
  /** false: every message starts a run (the main group never needs a trigger). */
  requiresTrigger?: boolean;
  addedAt: string;
  /** Unset: everyone. */
  senders?: SenderPolicy;
  containerConfig?: { additionalMounts?: AdditionalMount[]; timeoutMs?: number };
}

export class GroupRegistry {
  readonly #path: string;
  #groups: Record<string, RegisteredGroup>;

  constructor(path: string) {
    this.#path = path;
    this.#groups = parseGroups(readJson(path, {}), path);
  }

  get(jid: string): RegisteredGroup | undefined {
    return this.#groups[jid];
  }

  /** The chat a folder belongs to. */
  jidOf(folder: string): string | undefined {
    return Object.entries(this.#groups).find(([, group]) => group.folder === folder)?.[0];
  }

  entries(): Array<[string, RegisteredGroup]> {
    return Object.entries(this.#groups);
  }

  /** Why `group` cannot be registered as `jid`, or undefined when it can. */
  registrationProblem(jid: string, group: RegisteredGroup): string | undefined {
    const problem = groupProblem(group) ?? this.#conflict(jid, group.folder);
    return problem === undefined ? undefined : `cannot register ${jid}: ${problem}`;
  }

  register(jid: string, group: RegisteredGroup): void {
    const problem = this.registrationProblem(jid, group);
    if (problem !== undefined) throw new Error(problem);
    this.#save({ ...this.#groups, [jid]: group });
  }

  /** Replaces a registered group's sender policy. */
  setSenders(jid: string, senders: SenderPolicy): void {
    const group = this.#groups[jid];
    if (group === undefined) throw new Error(`${jid} is not registered`);
    const changed = { ...group, senders };
    const problem = groupProblem(changed);
    if (problem !== undefined) throw new Error(`cannot change ${jid}: ${problem}`);
    this.#save({ ...this.#groups, [jid]: changed });
  }

  unregister(jid: string): boolean {
    if (this.#groups[jid] === undefined) return false;
    const { [jid]: _removed, ...rest } = this.#groups;
    this.#save(rest);
    return true;
  }

  #conflict(jid: string, folder: string): string | undefined {
    if (this.#groups[jid] !== undefined) return 'that chat is already registered';
    const owner = this.jidOf(folder);
    return owner === undefined ? undefined : `folder "${folder}" is already used by ${owner}`;
  }

  #save(groups: Record<string, RegisteredGroup>): void {
    writeJsonAtomic(this.#path, groups);
    this.#groups = groups;
  }
}

export function isMainGroup(group: RegisteredGroup): boolean {
  return group.folder === MAIN_FOLDER;
}

function groupProblem(group: RegisteredGroup): string | undefined {
  if (typeof group.name !== 'string' || group.name.trim() === '') return 'name must be a non-empty string';
  if (typeof group.folder !== 'string' || !FOLDER_PATTERN.test(group.folder)) {
    return 'folder must be lowercase letters, digits, _ or - (up to 64, starting with a letter or digit)';
  }
  if (
    group.trigger !== undefined &&
    (typeof group.trigger !== 'string' || !/^\S{1,64}$/.test(group.trigger))
  ) {
    return 'trigger must be one word such as @Andy';
  }
  if (group.requiresTrigger !== undefined && typeof group.requiresTrigger !== 'boolean') {
    return 'requiresTrigger must be true or false';
  }
  const senders = group.senders;
  if (senders !== undefined) {
    if (senders.policy !== 'everyone' && senders.policy !== 'list')
      return 'senders.policy must be everyone or list';
    if (senders.unknown !== 'ignored' && senders.unknown !== 'held')
      return 'senders.unknown must be ignored or held';
    if (!Array.isArray(senders.allowed) || senders.allowed.some((sender) => typeof sender !== 'string'))
      return 'senders.allowed must be a list of sender ids';
  }
  const mounts = group.containerConfig?.additionalMounts;
  if (mounts !== undefined) {
    if (!Array.isArray(mounts)) return 'containerConfig.additionalMounts must be a list';
    for (const [index, mount] of mounts.entries()) {
      if (typeof mount?.hostPath !== 'string' || typeof mount.containerPath !== 'string') {
        return `containerConfig.additionalMounts[${index}] needs hostPath and containerPath strings`;
      }
    }
  }
  const timeout = group.containerConfig?.timeoutMs;
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 1000)) {
    return 'containerConfig.timeoutMs must be a whole number of milliseconds, at least 1000';
  }
  return undefined;
}

function parseGroups(value: unknown, path: string): Record<string, RegisteredGroup> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${path}: expected an object of chat id -> group`);
  }
  const folders = new Map<string, string>();
  for (const [jid, group] of Object.entries(value)) {
    const problem =
      typeof group !== 'object' || group === null
        ? 'expected an object'
        : groupProblem(group as RegisteredGroup);
    if (problem !== undefined) throw new Error(`${path}: "${jid}": ${problem}`);
    const folder = (group as RegisteredGroup).folder;
    const other = folders.get(folder);
    if (other !== undefined) throw new Error(`${path}: "${jid}" and "${other}" both use folder "${folder}"`);
    folders.set(folder, jid);
  }
  return value as Record<string, RegisteredGroup>;
}
