/**
 * One pool: its instances (version, phase, tenant, age, idle and reservation countdowns), those on an old
 * version with a button that moves their tenants now, scale and drain, and its workload file with what
 * validation says of it.
 */
import { type FormEvent, useState } from 'react';
import {
  useDestroyInstance,
  useDrain,
  useInstances,
  usePools,
  useScale,
  useUpgrade,
  useWorkloadFile,
} from '../api/queries.ts';
import type { Instance, Pool, Upgrade, WorkloadFile } from '../api/types.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { Countdown } from '../components/countdown.tsx';
import { useNow } from '../components/now.ts';
import { PhaseBadge, PoolBar, PoolCounts } from '../components/phase.tsx';
import { Empty, ErrorNote, Loaded } from '../components/states.tsx';
import { VersionTag } from '../components/version.tsx';
import { formatAgo, formatDuration } from '../format.ts';
import { Link, paths } from '../router.tsx';

export function PoolPage(props: { workload: string }) {
  const pools = usePools();
  return (
    <Loaded query={pools} what="the pool">
      {(list) => {
        const pool = list.find((each) => each.workload === props.workload);
        if (pool === undefined) {
          return (
            <Empty title={`No pool "${props.workload}"`}>
              <Link to="/">See every pool</Link>
            </Empty>
          );
        }
        return <PoolView pool={pool} />;
      }}
    </Loaded>
  );
}

function PoolView(props: { pool: Pool }) {
  const { pool } = props;
  return (
    <>
      <header className="page-head">
        <h1>
          <span className="muted">pool</span> {pool.workload}
        </h1>
        <span className="muted small">
          version {pool.version} · {pool.file}
        </span>
        {pool.removed ? <span className="badge phase-failed">file removed: no new instances</span> : null}
      </header>
      <section className="panel" aria-label="sizes">
        <PoolBar pool={pool} />
        <PoolCounts pool={pool} />
        {pool.fill.consecutive_failures > 0 ? (
          <p className="note error" role="alert">
            Cannot create instances ({pool.fill.consecutive_failures} failure(s) in a row):{' '}
            {pool.fill.last_error}
            {pool.fill.backoff_until ? (
              <>
                {' '}
                Next try <Countdown until={pool.fill.backoff_until} label="next try" />.
              </>
            ) : null}
          </p>
        ) : null}
        <OldVersions pool={pool} />
        <Steering pool={pool} />
      </section>
      <section aria-labelledby="instances-title">
        <h2 id="instances-title">Instances</h2>
        <Instances workload={pool.workload} />
      </section>
      <section aria-labelledby="file-title">
        <h2 id="file-title">Workload file</h2>
        <WorkloadFileView id={pool.workload} />
      </section>
    </>
  );
}

/** Instances made from an older version of the workload file, and moving their tenants now. */
function OldVersions(props: { pool: Pool }) {
  const { pool } = props;
  const upgrade = useUpgrade(pool.workload);
  const old = pool.old_version;
  const phases = Object.entries(old).filter(([, n]) => n > 0);
  const total = phases.reduce((sum, [, n]) => sum + n, 0);
  const what = [
    old.claimed > 0
      ? `claimed tenants move to version ${pool.version} at their next release, saved first`
      : '',
    old.reserved > 0 ? 'reservations are saved and replaced' : '',
    old.ready + old.creating > 0 ? 'idle instances are replaced' : '',
  ].filter(Boolean);
  if (total === 0 && upgrade.data === undefined && upgrade.error === null) return null;
  return (
    <div className="old-versions" data-old-versions={total}>
      {total > 0 ? (
        <p className="note warning">
          {total} instance(s) on an old version ({phases.map(([phase, n]) => `${n} ${phase}`).join(', ')})
          {what.length > 0 ? `: ${what.join('; ')}.` : '.'}{' '}
          {old.claimed > 0 ? (
            <ConfirmButton
              label="Move tenants now"
              question={`Save each claimed tenant and move it to version ${pool.version} now?`}
              className="small"
              busy={upgrade.isPending}
              onConfirm={() => upgrade.mutate()}
            />
          ) : null}
        </p>
      ) : null}
      {upgrade.data ? <UpgradeOutcome upgrade={upgrade.data} /> : null}
      {upgrade.error ? <ErrorNote error={upgrade.error} /> : null}
    </div>
  );
}

function UpgradeOutcome(props: { upgrade: Upgrade }) {
  const moves = props.upgrade.tenants;
  const failed = moves.filter((move) => move.outcome === 'failed' || move.outcome === 'resuming');
  return (
    <div className={`note ${failed.length > 0 ? 'error' : 'ok'}`} role="status" data-upgrade-outcome>
      {moves.length === 0
        ? 'No tenant was on an old version.'
        : failed.length > 0
          ? `${failed.length} of ${moves.length} move(s) failed; each tenant stays as its line says.`
          : `Moved to version ${props.upgrade.version}:`}
      <ul className="upgrade-moves">
        {moves.map((move) => (
          <li key={move.tenant} data-tenant={move.tenant} data-outcome={move.outcome}>
            <Link to={paths.tenant(move.tenant)}>{move.tenant}</Link>: {move.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Steering(props: { pool: Pool }) {
  const { pool } = props;
  const scale = useScale(pool.workload);
  const drain = useDrain(pool.workload);
  const [minIdle, setMinIdle] = useState(String(pool.min_idle));
  const [maxSize, setMaxSize] = useState(String(pool.max_size));
  const [problem, setProblem] = useState<string>();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const min = Number(minIdle);
    const max = Number(maxSize);
    if (!Number.isInteger(min) || min < 0 || !Number.isInteger(max) || max < 1) {
      setProblem('min idle must be a whole number from 0, max size from 1');
      return;
    }
    setProblem(undefined);
    scale.mutate({ min_idle: min, max_size: max });
  };
  const scaled = Object.keys(pool.scaled).length > 0;
  return (
    <div className="steering">
      <form className="inline-form" onSubmit={submit} aria-label="scale">
        <label>
          min idle
          <input
            type="number"
            min={0}
            value={minIdle}
            onChange={(e) => setMinIdle(e.target.value)}
            name="min_idle"
          />
        </label>
        <label>
          max size
          <input
            type="number"
            min={1}
            value={maxSize}
            onChange={(e) => setMaxSize(e.target.value)}
            name="max_size"
          />
        </label>
        <button type="submit" className="primary" disabled={scale.isPending}>
          {scale.isPending ? 'Scaling…' : 'Scale'}
        </button>
        {scaled ? (
          <button
            type="button"
            disabled={scale.isPending}
            onClick={() =>
              scale.mutate(
                { min_idle: null, max_size: null },
                {
                  onSuccess: (next) => {
                    setMinIdle(String(next.min_idle));
                    setMaxSize(String(next.max_size));
                  },
                },
              )
            }
            title="Drop the operator's sizes and use the workload file's again"
          >
            Use the file's sizes
          </button>
        ) : null}
      </form>
      <ConfirmButton
        label="Drain"
        question="Destroy the ready instances and keep none warm?"
        className="danger"
        busy={drain.isPending}
        onConfirm={() => drain.mutate(undefined, { onSuccess: (next) => setMinIdle(String(next.min_idle)) })}
      />
      {scaled ? (
        <span className="muted small">
          Scaled over the file:{' '}
          {Object.entries(pool.scaled)
            .map(([key, value]) => `${key} ${value}`)
            .join(', ')}
        </span>
      ) : null}
      {problem ? <p className="note error">{problem}</p> : null}
      {scale.error ? <ErrorNote error={scale.error} /> : null}
      {drain.error ? <ErrorNote error={drain.error} /> : null}
    </div>
  );
}

function Instances(props: { workload: string }) {
  const instances = useInstances(props.workload);
  return (
    <Loaded query={instances} what="the instances">
      {(list) =>
        list.length === 0 ? (
          <Empty title="No instances">With min idle above 0 the pool fills; a claim also makes one.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="instances">
              <thead>
                <tr>
                  <th>instance</th>
                  <th>version</th>
                  <th>phase</th>
                  <th>tenant</th>
                  <th>age</th>
                  <th>in phase</th>
                  <th>idle release</th>
                  <th>reserved until</th>
                  <th>reason</th>
                  <th>
                    <span className="sr-only">actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((instance) => (
                  <InstanceRow key={instance.id} instance={instance} />
                ))}
              </tbody>
            </table>
          </div>
        )
      }
    </Loaded>
  );
}

function InstanceRow(props: { instance: Instance }) {
  const { instance } = props;
  const now = useNow();
  const destroy = useDestroyInstance();
  return (
    <tr data-instance={instance.id} data-phase={instance.phase}>
      <td className="mono">{instance.id}</td>
      <td>
        <VersionTag instance={instance} />
      </td>
      <td>
        <PhaseBadge phase={instance.phase} />
      </td>
      <td>
        {instance.tenant ? (
          <Link to={paths.tenant(instance.tenant)}>{instance.tenant}</Link>
        ) : (
          <span className="muted">–</span>
        )}
      </td>
      <td title={instance.created_at}>{formatDuration(now - Date.parse(instance.created_at))}</td>
      <td title={instance.phase_changed_at}>{formatAgo(instance.phase_changed_at, now)}</td>
      <td>
        <Countdown until={instance.idle_release_at} label="released for idleness" />
      </td>
      <td>
        <Countdown
          until={instance.phase === 'reserved' ? instance.reserved_until : null}
          label="reservation ends"
        />
      </td>
      <td className="reason">{instance.reason ?? ''}</td>
      <td>
        <ConfirmButton
          label="Destroy"
          question={instance.tenant ? `Destroy it? ${instance.tenant} loses it.` : 'Destroy it?'}
          className="small"
          busy={destroy.isPending}
          onConfirm={() => destroy.mutate(instance.id)}
        />
        {destroy.error ? <ErrorNote error={destroy.error} /> : null}
      </td>
    </tr>
  );
}

function WorkloadFileView(props: { id: string }) {
  const file = useWorkloadFile(props.id);
  return (
    <Loaded query={file} what="the workload file">
      {(workload) => <FileText workload={workload} />}
    </Loaded>
  );
}

function FileText(props: { workload: WorkloadFile }) {
  const { workload } = props;
  const errors = workload.problems.filter((problem) => problem.severity === 'error');
  const warnings = workload.problems.filter((problem) => problem.severity === 'warning');
  return (
    <div className="panel file">
      <div
        className={`validation ${errors.length > 0 ? 'invalid' : 'valid'}`}
        data-validation={errors.length > 0 ? 'invalid' : 'valid'}
      >
        {errors.length > 0 ? (
          <strong>
            Not valid: the previous version ({workload.version}) stays loaded until the file is fixed.
          </strong>
        ) : (
          <strong>Valid · loaded as version {workload.version}</strong>
        )}
        {warnings.length > 0 ? <span className="muted"> · {warnings.length} warning(s)</span> : null}
        {workload.problems.length > 0 ? (
          <ul>
            {workload.problems.map((problem) => (
              <li key={`${problem.path}:${problem.message}`} className={problem.severity}>
                <code>{problem.path}</code> {problem.message}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
      <div className="muted small">{workload.file} (read-only here)</div>
      <pre className="source">
        {workload.source.split('\n').map((line, i) => (
          // Lines have no identity but their number.
          // biome-ignore lint/suspicious/noArrayIndexKey: the line number is the key.
          <span key={i} className="line">
            <span className="ln" aria-hidden="true">
              {i + 1}
            </span>
            {line}
            {'\n'}
          </span>
        ))}
      </pre>
    </div>
  );
}
