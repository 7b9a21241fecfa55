/**
 * Every pool at a glance: what needs attention first, then each pool's instances against its sizes, claim
 * rate and latency by path over the last minutes, and the newest events.
 */
import { usePools, useWorkloadProblems } from '../api/queries.ts';
import type { ActivityEvent, Pool, WorkloadProblem } from '../api/types.ts';
import { ClaimRateChart, LatencyChart } from '../components/charts.tsx';
import { EventList } from '../components/event-list.tsx';
import { useNow } from '../components/now.ts';
import { PoolBar, PoolCounts } from '../components/phase.tsx';
import { Empty, Loaded, Loading } from '../components/states.tsx';
import { formatAgo, formatMs } from '../format.ts';
import { useEvents } from '../live/live.tsx';
import { Link, paths } from '../router.tsx';
import { attention, isExhausted } from '../stats/attention.ts';
import { CLAIM_PATHS, claimBuckets, claimSamples, claimSummary } from '../stats/claims.ts';

export const WINDOW_MINUTES = 15;

export function OverviewPage() {
  const pools = usePools();
  const problems = useWorkloadProblems();
  const events = useEvents();
  const now = useNow();
  return (
    <>
      <Loaded query={pools} what="the pools">
        {(list) => <Attention pools={list} problems={problems.data ?? []} events={events ?? []} now={now} />}
      </Loaded>
      <section aria-labelledby="pools-title">
        <h2 id="pools-title">Pools</h2>
        <Loaded query={pools} what="the pools">
          {(list) =>
            list.length === 0 ? (
              <Empty title="No workloads yet">
                Put a workload file in the daemon's workloads directory, or apply one with{' '}
                <code>bh workload apply FILE</code>.
              </Empty>
            ) : (
              <div className="pool-grid">
                {list.map((pool) => (
                  <PoolCard key={pool.workload} pool={pool} events={events ?? []} now={now} />
                ))}
              </div>
            )
          }
        </Loaded>
      </section>
      <div className="columns">
        <Claims events={events} now={now} />
        <section aria-labelledby="recent-title" className="panel">
          <h2 id="recent-title">
            Recent events{' '}
            <Link to="/events" className="heading-link">
              all
            </Link>
          </h2>
          {events === null ? (
            <Loading what="events" />
          ) : events.length === 0 ? (
            <Empty title="Nothing has happened yet" />
          ) : (
            <EventList events={events.slice(-10).reverse()} />
          )}
        </section>
      </div>
    </>
  );
}

function Attention(props: {
  pools: Pool[];
  problems: readonly WorkloadProblem[];
  events: readonly ActivityEvent[];
  now: number;
}) {
  const items = attention(props.pools, props.problems, props.events, props.now - WINDOW_MINUTES * 60_000);
  return (
    <section
      aria-labelledby="attention-title"
      className={`attention ${items.length > 0 ? 'has-items' : 'calm'}`}
    >
      <h2 id="attention-title">Needs attention</h2>
      {items.length === 0 ? (
        <p className="muted">
          Nothing failing: every workload file loads, no failed instances or saves, every pool can fill and
          claim.
        </p>
      ) : (
        <ul>
          {items.map((item) => (
            <li key={item.key} className={item.severity} data-attention={item.key}>
              <strong>
                {item.workload ? <Link to={paths.pool(item.workload)}>{item.workload}</Link> : null}{' '}
                {item.title}
              </strong>
              <span className="detail">{item.detail}</span>
              {item.at ? <span className="muted when">{formatAgo(item.at, props.now)}</span> : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function PoolCard(props: { pool: Pool; events: readonly ActivityEvent[]; now: number }) {
  const { pool } = props;
  const since = props.now - WINDOW_MINUTES * 60_000;
  const claims = claimSamples(props.events).filter(
    (sample) => sample.workload === pool.workload && sample.at >= since,
  );
  return (
    <article className="panel pool-card" data-pool={pool.workload} aria-label={`pool ${pool.workload}`}>
      <header>
        <h3>
          <Link to={paths.pool(pool.workload)}>{pool.workload}</Link>
        </h3>
        {pool.removed ? <span className="badge phase-failed">file removed</span> : null}
        {isExhausted(pool) ? <span className="badge phase-release_failed">exhausted</span> : null}
        {Object.keys(pool.scaled).length > 0 ? <span className="badge">scaled</span> : null}
      </header>
      <PoolBar pool={pool} />
      <PoolCounts pool={pool} />
      <p className="muted small">
        {claims.length} claim(s) in {WINDOW_MINUTES} min · version {pool.version}
      </p>
    </article>
  );
}

function Claims(props: { events: readonly ActivityEvent[] | null; now: number }) {
  if (props.events === null) {
    return (
      <section className="panel" aria-labelledby="claims-title">
        <h2 id="claims-title">Claims</h2>
        <Loading what="claims" />
      </section>
    );
  }
  const samples = claimSamples(props.events);
  const buckets = claimBuckets(samples, props.now, WINDOW_MINUTES);
  const summary = claimSummary(samples, props.now - WINDOW_MINUTES * 60_000);
  const total = CLAIM_PATHS.reduce((sum, path) => sum + summary[path].count, 0);
  return (
    <section className="panel claims" aria-labelledby="claims-title">
      <h2 id="claims-title">Claims, last {WINDOW_MINUTES} minutes</h2>
      {total === 0 ? (
        <Empty title="No claims in this window">Claims appear here as tenants claim instances.</Empty>
      ) : null}
      <figure>
        <figcaption>
          Per minute{' '}
          <span className="legend">
            {CLAIM_PATHS.map((path) => (
              <span key={path} className={`key-${path}`}>
                {path}
              </span>
            ))}
          </span>
          <span className="figure">{total} in all</span>
        </figcaption>
        <ClaimRateChart buckets={buckets} />
      </figure>
      <div className="latency-grid">
        {CLAIM_PATHS.map((path) => (
          <figure key={path} data-path={path}>
            <figcaption>
              <span>
                <span className={`key-${path}`}>{path}</span> · {summary[path].count} claim(s)
              </span>
              <span className="figure">
                p50 {formatMs(summary[path].p50)} · p95 {formatMs(summary[path].p95)}
              </span>
            </figcaption>
            <LatencyChart buckets={buckets} path={path} />
          </figure>
        ))}
      </div>
    </section>
  );
}
