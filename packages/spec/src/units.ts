/**
 * Durations and memory sizes as workload files write them.
 *
 * A bare number has no unit of its own, so every field that takes one says which unit a bare number is
 * in (`BareDurationUnit`). Strings always carry their unit.
 */

export type BareDurationUnit = 'ms' | 's';

const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `30s`, `1.5m`, `1h`, `1m30s`, `2h45m`: one or more number+unit parts, largest unit first. */
export const DURATION_PATTERN = '^(\\d+(\\.\\d+)?(ms|s|m|h|d))+$';
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

const BARE_NUMBER = /^\d+(\.\d+)?$/;

export class UnitError extends Error {}

/** Parses a duration into whole milliseconds. A bare number (or numeric string) is in `bare` units. */
export function parseDuration(input: number | string, bare: BareDurationUnit): number {
  if (typeof input === 'number' || BARE_NUMBER.test(input)) {
    const value = Number(input);
    if (!Number.isFinite(value) || value < 0) throw new UnitError('a duration cannot be negative');
    return Math.round(bare === 's' ? value * 1_000 : value);
  }
  const text = input.trim();
  if (!new RegExp(DURATION_PATTERN).test(text)) throw new UnitError(`"${input}" is not a duration`);
  let total = 0;
  let previousUnitMs = Number.POSITIVE_INFINITY;
  DURATION_PART.lastIndex = 0;
  for (let part = DURATION_PART.exec(text); part !== null; part = DURATION_PART.exec(text)) {
    const unitMs = DURATION_UNIT_MS[part[2] as string] as number;
    if (unitMs >= previousUnitMs)
      throw new UnitError(`"${input}" repeats a unit or puts a larger one after a smaller one`);
    previousUnitMs = unitMs;
    total += Number(part[1]) * unitMs;
  }
  return Math.round(total);
}

const MIB = 1024 * 1024;
const MEMORY_UNIT_BYTES: Record<string, number> = {
  b: 1,
  k: 1024,
  m: MIB,
  g: 1024 * MIB,
  t: 1024 * 1024 * MIB,
};

/** `512M`, `2G`, `256mb`, `1.5GiB`, `1024k`, `300b`: binary units, as Docker reads them. */
export const MEMORY_PATTERN = '^\\d+(\\.\\d+)?\\s*([bBkKmMgGtT]([iI]?[bB])?)$';

/** Parses a memory size into bytes. A bare number (or numeric string) is in MiB. */
export function parseMemory(input: number | string): number {
  if (typeof input === 'number' || BARE_NUMBER.test(input)) {
    const value = Number(input);
    if (!Number.isFinite(value) || value < 0) throw new UnitError('a memory size cannot be negative');
    return Math.round(value * MIB);
  }
  const match = /^(\d+(?:\.\d+)?)\s*([bkmgt])(?:i?b)?$/i.exec(input.trim());
  if (match === null) throw new UnitError(`"${input}" is not a memory size`);
  const unit = (match[2] as string).toLowerCase();
  return Math.round(Number(match[1]) * (MEMORY_UNIT_BYTES[unit] as number));
}

/** Shortest exact rendering of a duration, for messages: 90000 -> "1m30s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
    ['ms', 1],
  ] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}

/** Human rendering of a byte count, for messages: 536870912 -> "512MiB". */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['TiB', 1024 ** 4],
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  if (bytes >= MIB) return `${(bytes / MIB).toFixed(1)}MiB`;
  return `${bytes}B`;
}
