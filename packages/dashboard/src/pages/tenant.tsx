/**
 * One tenant, per workload: its instance (version, endpoints, countdowns) with claim and release, its upcoming
 * wakes, its saves with restore of an older one, its secret names with set and delete, its instance's
 * output followed live, and its recent activity.
 */
import { type FormEvent, useState } from 'react';
import {
  useClaim,
  useRelease,
  useRestore,
  useSecretChange,
  useSecretNames,
  useSnapshots,
  useTenant,
  useWorkloads,
} from '../api/queries.ts';
import type { Instance, Wake, Workload } from '../api/types.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { Countdown } from '../components/countdown.tsx';
import { EventList } from '../components/event-list.tsx';
import { LiveLogs } from '../components/logs.tsx';
import { useNow } from '../components/now.ts';
import { PhaseBadge } from '../components/phase.tsx';
import { Empty, ErrorNote, Loaded, Loading } from '../components/states.tsx';
import { VersionTag } from '../components/version.tsx';
import { formatAgo, formatBytes, formatMs } from '../format.ts';
import { useEvents } from '../live/live.tsx';
import { Link, paths } from '../router.tsx';

export function TenantPage(props: { tenant: string }) {
  const tenant = useTenant(props.tenant);
  const workloads = useWorkloads();
  return (
    <>
      <header className="page-head">
        <h1>
          <span className="muted">tenant</span> {props.tenant}
        </h1>
        <Link to="/tenants">all tenants</Link>
      </header>
      <Loaded query={tenant} what="the tenant">
        {(status) => (
          <Loaded query={workloads} what="the workloads">
            {(list) =>
              list.length === 0 ? (
                <Empty title="No workloads to claim" />
              ) : (
                <div className="tenancies">
                  {list.map((workload) => (
                    <Tenancy
                      key={workload.id}
                      tenant={props.tenant}
                      workload={workload}
                      instance={status.instances.find((instance) => instance.workload === workload.id)}
                      wakes={status.wakes.filter((wake) => wake.workload === workload.id)}
                    />
                  ))}
                </div>
              )
            }
          </Loaded>
        )}
      </Loaded>
      <Activity tenant={props.tenant} />
    </>
  );
}

function Tenancy(props: {
  tenant: string;
  workload: Workload;
  instance: Instance | undefined;
  wakes: Wake[];
}) {
  const { tenant, workload, instance, wakes } = props;
  const claim = useClaim(tenant);
  const release = useRelease(tenant);
  const [following, setFollowing] = useState(false);
  const held = instance !== undefined && instance.phase !== 'reserved';
  // A reserved instance is claimed back (hit) and a release_failed one is simply the tenant's again.
  const claimable =
    instance === undefined || instance.phase === 'reserved' || instance.phase === 'release_failed';
  const releasable = instance?.phase === 'claimed' || instance?.phase === 'release_failed';
  return (
    <article className="panel tenancy" data-workload={workload.id} aria-label={`${tenant} on ${workload.id}`}>
      <header>
        <h2>
          <Link to={paths.pool(workload.id)}>{workload.name}</Link>
          {workload.name !== workload.id ? <span className="muted small"> {workload.id}</span> : null}
        </h2>
        {instance ? <PhaseBadge phase={instance.phase} /> : <span className="muted">no instance</span>}
        <div className="actions">
          <button
            type="button"
            className="primary"
            disabled={claim.isPending || !claimable}
            onClick={() => {
              release.reset();
              claim.mutate(workload.id);
            }}
          >
            {claim.isPending ? 'Claiming…' : 'Claim'}
          </button>
          <button
            type="button"
            disabled={!releasable || release.isPending}
            onClick={() => {
              claim.reset();
              release.mutate(workload.id);
            }}
          >
            {release.isPending ? 'Releasing…' : 'Release'}
          </button>
        </div>
      </header>
      {claim.data ? (
        <p className="note ok" role="status" data-claim-path={claim.data.path}>
          Claimed {claim.data.instance.id} ({claim.data.path}) in {formatMs(claim.data.timings_ms.total)}.
        </p>
      ) : null}
      {release.data ? (
        <p className="note ok" role="status">
          Released:{' '}
          {release.data.outcome === 'reserved'
            ? 'saved, and reserved for the tenant'
            : 'saved, instance destroyed'}{' '}
          in {formatMs(release.data.timings_ms.total)}.
        </p>
      ) : null}
      {claim.error ? <ErrorNote error={claim.error} /> : null}
      {release.error ? <ErrorNote error={release.error} /> : null}
      {instance ? <InstanceFacts instance={instance} /> : null}
      {wakes.length > 0 ? <Wakes wakes={wakes} /> : null}
      {instance?.container_id ? (
        <div className="logs-toggle">
          <button
            type="button"
            className="small"
            onClick={() => setFollowing(!following)}
            aria-expanded={following}
          >
            {following ? 'Stop following logs' : 'Follow logs'}
          </button>
          {following ? <LiveLogs instance={instance.id} /> : null}
        </div>
      ) : null}
      {workload.keeps_state ? <Saves tenant={tenant} workload={workload.id} held={held} /> : null}
      {workload.takes_secrets ? <Secrets tenant={tenant} workload={workload.id} /> : null}
    </article>
  );
}

function InstanceFacts(props: { instance: Instance }) {
  const { instance } = props;
  const now = useNow();
  return (
    <dl className="facts">
      <div>
        <dt>instance</dt>
        <dd className="mono">{instance.id}</dd>
      </div>
      <div>
        <dt>version</dt>
        <dd>
          <VersionTag instance={instance} />
          {instance.version_status === 'old' ? (
            <span className="muted small"> moves to the current version at its next release</span>
          ) : null}
        </dd>
      </div>
      <div>
        <dt>endpoints</dt>
        <dd>
          {(instance.endpoints ?? []).length === 0
            ? '–'
            : instance.endpoints?.map((endpoint) => (
                <a
                  key={endpoint.port}
                  href={endpoint.url}
                  target="_blank"
                  rel="noreferrer"
                  className="endpoint"
                >
                  {endpoint.port} → {endpoint.url}
                </a>
              ))}
        </dd>
      </div>
      <div>
        <dt>claimed</dt>
        <dd>{instance.claimed_at ? formatAgo(instance.claimed_at, now) : '–'}</dd>
      </div>
      <div>
        <dt>idle release</dt>
        <dd>
          <Countdown until={instance.idle_release_at} label="released for idleness" />
        </dd>
      </div>
      {instance.phase === 'reserved' ? (
        <div>
          <dt>reserved until</dt>
          <dd>
            <Countdown until={instance.reserved_until} label="reservation ends" />
          </dd>
        </div>
      ) : null}
      {instance.reason ? (
        <div>
          <dt>reason</dt>
          <dd>{instance.reason}</dd>
        </div>
      ) : null}
    </dl>
  );
}

const WAKE_TRIGGERS: Record<Wake['trigger'], string> = {
  schedule: 'as it asked (its wake file)',
  every: 'every so often (pool.wake.every)',
};

/** When Boilerhouse claims the tenant next by itself (pool.wake); the idle release lets it go again. */
function Wakes(props: { wakes: Wake[] }) {
  return (
    <dl className="facts" aria-label="upcoming wakes">
      {props.wakes.map((wake) => (
        <div key={wake.trigger} data-wake={wake.trigger}>
          <dt>wakes {WAKE_TRIGGERS[wake.trigger]}</dt>
          <dd>
            <Countdown until={wake.due_at} label="woken" />
          </dd>
        </div>
      ))}
    </dl>
  );
}

function Saves(props: { tenant: string; workload: string; held: boolean }) {
  const snapshots = useSnapshots(props.tenant, props.workload, true);
  const restore = useRestore(props.tenant, props.workload);
  const now = useNow();
  return (
    <section className="saves" aria-label="saves">
      <h3>Saves</h3>
      <Loaded query={snapshots} what="the saves">
        {({ head, saves, damaged }) =>
          saves.length === 0 && damaged.length === 0 ? (
            <Empty title="No saves yet">
              The tenant's state is saved when it is released (and by the sync policy).
            </Empty>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>save</th>
                    <th>when</th>
                    <th>size</th>
                    <th>files</th>
                    <th>from</th>
                    <th>
                      <span className="sr-only">actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {saves.map((save) => (
                    <tr key={save.seq} data-save={save.seq} className={save.seq === head ? 'current' : ''}>
                      <td>
                        #{save.seq}{' '}
                        {save.seq === head ? <span className="badge phase-ready">current</span> : null}
                      </td>
                      <td title={save.created_at}>{formatAgo(save.created_at, now)}</td>
                      <td>{formatBytes(save.bytes)}</td>
                      <td>{save.files}</td>
                      <td className="mono small">{save.instance}</td>
                      <td>
                        {save.seq === head ? null : (
                          <ConfirmButton
                            label="Restore"
                            question={`Make #${save.seq} current? Its next claim starts from it.`}
                            className="small"
                            disabled={props.held}
                            busy={restore.isPending && restore.variables === save.seq}
                            onConfirm={() => restore.mutate(save.seq)}
                          />
                        )}
                      </td>
                    </tr>
                  ))}
                  {damaged.map((save) => (
                    <tr key={save.key} data-damaged-save={save.seq ?? 'HEAD'} className="damaged">
                      <td>{save.seq === undefined ? 'HEAD' : `#${save.seq}`}</td>
                      <td colSpan={5} className="reason" title={save.key}>
                        <span className="badge phase-failed">damaged:</span> {save.reason}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Loaded>
      {props.held ? <p className="muted small">Release the tenant to restore an older save.</p> : null}
      {restore.data ? (
        <p className="note ok" role="status">
          Save #{restore.data.restored} is current again (as #{restore.data.head}).
        </p>
      ) : null}
      {restore.error ? <ErrorNote error={restore.error} /> : null}
    </section>
  );
}

function Secrets(props: { tenant: string; workload: string }) {
  const names = useSecretNames(props.tenant);
  const change = useSecretChange(props.tenant);
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const set = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() === '') return;
    change.mutate(
      { workload: props.workload, set: { [name.trim()]: value } },
      {
        onSuccess: () => {
          setName('');
          setValue('');
        },
      },
    );
  };
  return (
    <section className="secrets" aria-label="secrets">
      <h3>Secrets</h3>
      <Loaded query={names} what="the secret names">
        {(entries) => {
          const keys = entries.find((entry) => entry.workload === props.workload)?.keys ?? [];
          return keys.length === 0 ? (
            <p className="muted small">No secrets for this workload.</p>
          ) : (
            <ul className="secret-names">
              {keys.map((key) => (
                <li key={key} data-secret={key}>
                  <code>{key}</code>
                  <span className="muted small">value hidden</span>
                  <ConfirmButton
                    label="Delete"
                    question={`Delete ${key}?`}
                    className="small"
                    busy={change.isPending}
                    onConfirm={() => change.mutate({ workload: props.workload, remove: [key] })}
                  />
                </li>
              ))}
            </ul>
          );
        }}
      </Loaded>
      <form className="inline-form" onSubmit={set} aria-label="set a secret">
        <label>
          name
          <input
            name="secret-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="API_KEY"
            autoComplete="off"
          />
        </label>
        <label>
          value
          <input
            name="secret-value"
            type="password"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            autoComplete="new-password"
          />
        </label>
        <button type="submit" disabled={change.isPending || name.trim() === ''}>
          Set
        </button>
      </form>
      <p className="muted small">Written into the tenant's next instance; values are never shown.</p>
      {change.error ? <ErrorNote error={change.error} /> : null}
    </section>
  );
}

const TENANT_ACTIVITY = /^(instance\.|state\.|hook\.|tenant\.upgrade)/;

function Activity(props: { tenant: string }) {
  const events = useEvents();
  if (events === null) return <Loading what="activity" />;
  const mine = events.filter((event) => event.tenant === props.tenant && TENANT_ACTIVITY.test(event.type));
  return (
    <section className="panel" aria-labelledby="activity-title">
      <h2 id="activity-title">Claims, releases and saves</h2>
      {mine.length === 0 ? (
        <Empty title="No recent activity for this tenant" />
      ) : (
        <EventList events={mine.slice(-30).reverse()} />
      )}
    </section>
  );
}
