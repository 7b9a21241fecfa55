/** Distributions of timings and the table benchmarks print. */
export interface Distribution {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: at(0.5),
    p90: at(0.9),
    p95: at(0.95),
    p99: at(0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
  };
}

type Quantile = 'p50' | 'p90' | 'p95' | 'p99' | 'max';

/** One row per distribution, in ms (the `columns` asked for), with p50 as a ratio of `baseline`'s p50. */
export function formatTable(
  rows: Record<string, Distribution>,
  baselineP50: number,
  columns: Quantile[] = ['p50', 'p95', 'p99', 'max'],
): string {
  const header = ['', 'n', ...columns.map((column) => `${column} ms`), 'p50 / baseline'];
  const lines = Object.entries(rows).map(([name, d]) => [
    name,
    String(d.n),
    ...columns.map((column) => d[column].toFixed(1)),
    (d.p50 / baselineP50).toFixed(3),
  ]);
  const widths = header.map((_, column) =>
    Math.max(...[header, ...lines].map((line) => (line[column] ?? '').length)),
  );
  return [header, ...lines]
    .map((line) =>
      line
        .map((cell, column) =>
          column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
        )
        .join('  '),
    )
    .join('\n');
}
