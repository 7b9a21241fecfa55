/**
 * The daemon's /metrics as a fault test reads it: one sample's value, and Prometheus's own linter over the
 * whole exposition (promtool from Debian's prometheus package; scripts/setup.sh puts it in .data/tools).
 */
export { promtoolCheck } from '../../../packages/boilerhouse/src/testing/promtool.ts';

/** The sum of the samples named `name` whose labels include `labels` (0 when there are none). */
export function sampleSum(exposition: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [
        pair[1],
        pair[2],
      ]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) sum += Number(match[3]);
  }
  return sum;
}
