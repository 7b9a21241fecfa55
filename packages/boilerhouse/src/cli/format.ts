/** Small formatters for table cells: times relative to now, byte counts, milliseconds. */

/** An ISO time as `3m ago` / `in 5m` (relative to `now`), or `-` when absent. */
export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (iso === null || iso === undefined) return '-';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const delta = at - now;
  const text = shortDuration(Math.abs(delta));
  if (text === '0s') return 'now';
  return delta < 0 ? `${text} ago` : `in ${text}`;
}

/** The largest one or two units: `45s`, `3m12s`, `2h5m`, `3d4h`. */
export function shortDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const units: Array<[string, number]> = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
  for (let index = 0; index < units.length; index++) {
    const [unit, size] = units[index] as [string, number];
    if (seconds >= size || unit === 's') {
      const whole = Math.floor(seconds / size);
      const next = units[index + 1];
      const rest = next === undefined ? 0 : Math.floor((seconds % size) / next[1]);
      return next !== undefined && rest > 0 && whole < 10
        ? `${whole}${unit}${rest}${next[0]}`
        : `${whole}${unit}`;
    }
  }
  return '0s';
}

/** Milliseconds as `840 ms` or `2.3 s`. */
export function millis(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** `512 B`, `1.5 KiB`, `12 MiB`. */
export function bytes(count: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 || value >= 10 ? String(Math.round(value)) : value.toFixed(1);
  return `${text} ${units[unit]}`;
}

/** An ISO time as local `YYYY-MM-DD HH:MM:SS`, for event lists where order matters more than age. */
export function clockTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '-';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
}
