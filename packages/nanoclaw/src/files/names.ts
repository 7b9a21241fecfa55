/**
 * File names that are safe as one entry of a group's `files/` folder and in a download's name: no path
 * separators, no `.` or `..`, nothing hidden (no leading dot), no control or formatting characters
 * (U+202E could show `gpj.exe` as `exe.jpg`), at most MAX_NAME_BYTES of UTF-8 (file systems allow 255; a
 * collision's suffix needs a few). A name a person chose in the web chat is refused with the reason;
 * names that come from elsewhere (Telegram, WhatsApp) are made safe instead.
 */

export const MAX_NAME_BYTES = 200;
const UNSAFE = /[\p{Cc}\p{Cf}/\\]/gu;

/** Why `name` cannot be a file's name as it is; undefined when it can. */
export function fileNameProblem(name: string): string | undefined {
  if (!name.isWellFormed()) return 'is not valid Unicode';
  const trimmed = name.trim();
  if (trimmed === '') return 'is empty';
  if (/[/\\]/.test(trimmed)) return 'has a path separator (/ or \\)';
  if (/[\p{Cc}\p{Cf}]/u.test(trimmed)) return 'has control or formatting characters';
  if (trimmed.startsWith('.')) return 'starts with a dot (. and .. and hidden files are not kept)';
  if (Buffer.byteLength(trimmed.normalize('NFC')) > MAX_NAME_BYTES)
    return `is longer than ${MAX_NAME_BYTES} bytes`;
  return undefined;
}

/**
 * `name` made safe: unsafe characters become `_`, leading dots and spaces go, and a long name is cut
 * (its extension kept); `fallback` when nothing is left. A name fileNameProblem accepts comes back trimmed
 * and otherwise unchanged.
 */
export function safeFileName(name: string, fallback: string): string {
  const cleaned = name
    .toWellFormed()
    .normalize('NFC')
    .replace(UNSAFE, '_')
    .trim()
    .replace(/^[.\s]+/, '');
  return cleaned === '' ? fallback : cut(cleaned, MAX_NAME_BYTES);
}

/** `photo.png` -> `photo-2.png`: the name tried when `name` is taken. */
export function withSuffix(name: string, count: number): string {
  const dot = name.lastIndexOf('.');
  const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  return `${stem}-${count}${extension}`;
}

/** At most `maxBytes` of UTF-8, cut in the stem so that the extension stays. */
function cut(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  let stem = [...name.slice(0, name.length - extension.length)];
  while (stem.length > 0 && Buffer.byteLength(stem.join('') + extension) > maxBytes) stem = stem.slice(0, -1);
  return stem.join('') + extension;
}
