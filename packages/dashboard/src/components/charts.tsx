/** Small inline SVG charts: claims per minute stacked by path, and a path's p50/p95 latency per minute. */
import type { ClaimPath } from '../api/types.ts';
import { formatMs } from '../format.ts';
import { type Bucket, CLAIM_PATHS } from '../stats/claims.ts';

const WIDTH = 300;
const HEIGHT = 64;

export function ClaimRateChart(props: { buckets: Bucket[] }) {
  const { buckets } = props;
  const totals = buckets.map((bucket) => CLAIM_PATHS.reduce((sum, path) => sum + bucket.count[path], 0));
  const top = Math.max(1, ...totals);
  const slot = WIDTH / buckets.length;
  const summary = `claims per minute over the last ${buckets.length} minutes: ${totals.join(', ')}`;
  return (
    <svg className="chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" role="img">
      <title>{summary}</title>
      {buckets.map((bucket, i) => {
        let y = HEIGHT;
        return CLAIM_PATHS.map((path) => {
          const h = (bucket.count[path] / top) * (HEIGHT - 4);
          y -= h;
          return h > 0 ? (
            <rect
              key={`${bucket.start}-${path}`}
              className={`fill-${path}`}
              x={i * slot + 1}
              y={y}
              width={slot - 2}
              height={h}
            />
          ) : null;
        });
      })}
    </svg>
  );
}

function line(values: (number | null)[], top: number): string {
  const step = WIDTH / Math.max(1, values.length - 1);
  let d = '';
  let drawing = false;
  values.forEach((value, i) => {
    if (value === null) {
      drawing = false;
      return;
    }
    const x = i * step;
    const y = HEIGHT - 2 - (value / top) * (HEIGHT - 6);
    d += `${drawing ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)} `;
    drawing = true;
  });
  return d.trim();
}

export function LatencyChart(props: { buckets: Bucket[]; path: ClaimPath }) {
  const p50 = props.buckets.map((bucket) => bucket.p50[props.path]);
  const p95 = props.buckets.map((bucket) => bucket.p95[props.path]);
  const top = Math.max(1, ...p95.filter((value): value is number => value !== null));
  const step = WIDTH / Math.max(1, props.buckets.length - 1);
  const dots = (values: (number | null)[], className: string) =>
    values.map((value, i) =>
      value === null ? null : (
        <circle
          key={`${className}-${props.buckets[i]?.start}`}
          className={className}
          cx={i * step}
          cy={HEIGHT - 2 - (value / top) * (HEIGHT - 6)}
          r={1.8}
        />
      ),
    );
  return (
    <svg className="chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" role="img">
      <title>{`${props.path} claim latency per minute, p95 up to ${formatMs(top)}`}</title>
      <path className={`line p95 stroke-${props.path}`} d={line(p95, top)} />
      <path className={`line p50 stroke-${props.path}`} d={line(p50, top)} />
      {dots(p95, `dot fill-${props.path}`)}
    </svg>
  );
}
