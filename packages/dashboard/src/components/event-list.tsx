/** Activity events as a compact list: time, type, what it concerns, and its message. */
import type { ActivityEvent } from '../api/types.ts';
import { formatClock } from '../format.ts';
import { Link, paths } from '../router.tsx';

function tone(type: string): string {
  if (/failed|unhealthy/.test(type)) return 'bad';
  if (type === 'pool.warning') return 'warn';
  return '';
}

export function EventList(props: { events: readonly ActivityEvent[] }) {
  return (
    <ol className="events">
      {props.events.map((event) => (
        <li key={event.id} className={`event ${tone(event.type)}`} data-type={event.type}>
          <time dateTime={event.at} title={event.at}>
            {formatClock(event.at)}
          </time>
          <span className="event-type">{event.type}</span>
          <span className="event-about">
            {event.workload ? <Link to={paths.pool(event.workload)}>{event.workload}</Link> : null}
            {event.tenant ? (
              <>
                {' · '}
                <Link to={paths.tenant(event.tenant)}>{event.tenant}</Link>
              </>
            ) : null}
          </span>
          <span className="event-message">{event.message}</span>
        </li>
      ))}
    </ol>
  );
}
