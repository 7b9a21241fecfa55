/**
 * Images a workload's containers may use: `docker.images` patterns (`*` matches any characters) against
 * the reference in its familiar form (`docker.io/library/alpine` is `alpine`, no tag is `:latest`). The
 * engine would also take an image id, or a short hex string as an id prefix, so a reference is accepted
 * only once the engine confirms it names that image by that tag or digest (RepoTags / RepoDigests).
 */
import { ProxyDenial, quote } from './denial.ts';

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
/** A first component is a registry when it has a dot or a port, or is localhost (Docker's rule). */
const DOMAIN = '(?:localhost(?::\\d+)?|[a-zA-Z0-9-]+(?:\\.[a-zA-Z0-9-]+)+(?::\\d+)?|[a-zA-Z0-9-]+:\\d+)';
const REFERENCE = new RegExp(
  `^(?:(${DOMAIN})/)?(${COMPONENT}(?:/${COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`,
);

/** A reference in familiar form with its tag (`alpine:latest`) or digest; refuses ids and malformed names. */
export function normalizeReference(reference: string): string {
  // `sha256:<hex>` and 64 hex digits are ids to the engine, though the first parses as a name and a tag.
  const match = /^(sha256:)?[a-f0-9]{64}$/.test(reference) ? null : REFERENCE.exec(reference);
  if (match === null) {
    throw new ProxyDenial(
      403,
      'image',
      `image ${quote(reference)} is not an image reference (name[:tag] or name@digest); ids are refused`,
    );
  }
  const [, domain, path, tag, digest] = match as unknown as [string, string?, string?, string?, string?];
  if (tag !== undefined && digest !== undefined) {
    throw new ProxyDenial(403, 'image', `image ${quote(reference)} names both a tag and a digest; give one`);
  }
  let name = path as string;
  if (domain !== undefined && domain !== 'docker.io' && domain !== 'index.docker.io')
    name = `${domain}/${name}`;
  else if (name.startsWith('library/') && name.split('/').length === 2) name = name.slice('library/'.length);
  return digest !== undefined ? `${name}@${digest}` : `${name}:${tag ?? 'latest'}`;
}

/**
 * The allowlist's entries that name one image (no `*`), in familiar form: images an instance's containers
 * will certainly need, so they must be on the host before the instance starts.
 */
export function exactImages(patterns: readonly string[]): string[] {
  return patterns.filter((pattern) => !pattern.includes('*')).map(normalizeReference);
}

export class ImageAllowlist {
  readonly #patterns: { text: string; regex: RegExp }[];

  constructor(patterns: readonly string[]) {
    this.#patterns = patterns.map((text) => ({ text, regex: globToRegex(normalizePattern(text)) }));
  }

  /** The normalized reference when a pattern allows it; refuses it otherwise. */
  check(reference: string): string {
    const normalized = normalizeReference(reference);
    if (this.#patterns.some((pattern) => pattern.regex.test(normalized))) return normalized;
    const allowed = this.#patterns.map((pattern) => pattern.text).join(', ');
    throw new ProxyDenial(
      403,
      'image',
      `image ${quote(normalized)} is not allowed for this workload (docker.images: ${allowed})`,
    );
  }
}

/** What the engine says about an image, as far as the allowlist cares. */
export interface InspectedImage {
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
}

/** Whether the engine resolved `normalized` as that name (not as an id prefix or another spelling). */
export function namesImage(normalized: string, image: InspectedImage): boolean {
  const names = normalized.includes('@') ? image.RepoDigests : image.RepoTags;
  return (names ?? []).includes(normalized);
}

/** Patterns are written like references; one without a tag, digest or `*` means its `:latest`. */
function normalizePattern(pattern: string): string {
  let text = pattern.replace(/^(?:index\.)?docker\.io\//, '');
  if (/^library\/[^/]+$/.test(text)) text = text.slice('library/'.length);
  const last = text.split('/').at(-1) as string;
  if (!text.includes('*') && !last.includes(':') && !last.includes('@')) text += ':latest';
  return text;
}

function globToRegex(pattern: string): RegExp {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}
