/** Time left until a moment (idle release, end of a reservation), ticking; `due` once it has passed. */
import { formatDuration } from '../format.ts';
import { useNow } from './now.ts';

export function Countdown(props: { until: string | null | undefined; label: string }) {
  const now = useNow();
  if (props.until === null || props.until === undefined) return <span className="muted">–</span>;
  const left = Date.parse(props.until) - now;
  return (
    <time
      dateTime={props.until}
      className={`countdown${left < 60_000 ? ' soon' : ''}`}
      title={`${props.label} at ${new Date(props.until).toLocaleString()}`}
    >
      {left > 0 ? `in ${formatDuration(left)}` : 'due'}
    </time>
  );
}
