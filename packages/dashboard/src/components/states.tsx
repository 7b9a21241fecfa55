/** Loading, empty and error states, drawn the same way everywhere. */
import type { ReactNode } from 'react';
import { ApiError } from '../api/client.ts';

export function Loading(props: { what: string }) {
  return (
    <div className="state loading" role="status" aria-busy="true">
      <span className="spinner" aria-hidden="true" />
      Loading {props.what}…
    </div>
  );
}

export function Empty(props: { title: string; children?: ReactNode }) {
  return (
    <div className="state empty">
      <strong>{props.title}</strong>
      {props.children === undefined ? null : <div className="muted">{props.children}</div>}
    </div>
  );
}

/** What went wrong, in the daemon's words, with its request id for the logs. */
export function describeError(error: unknown): { message: string; detail?: string } {
  if (error instanceof ApiError) {
    const hint =
      error.status === 403
        ? 'The token lacks the scope this needs.'
        : error.status >= 500
          ? 'The daemon failed; its log has this request id.'
          : undefined;
    return {
      message: error.message,
      detail: [hint, `${error.status} ${error.code}`, error.requestId && `request ${error.requestId}`]
        .filter(Boolean)
        .join(' · '),
    };
  }
  if (error instanceof TypeError) return { message: 'Could not reach the daemon.', detail: error.message };
  return { message: error instanceof Error ? error.message : String(error) };
}

export function ErrorNote(props: { error: unknown; what?: string; retry?: () => void }) {
  const { message, detail } = describeError(props.error);
  return (
    <div className="state error" role="alert">
      <strong>{props.what === undefined ? message : `Could not load ${props.what}: ${message}`}</strong>
      {detail ? <div className="muted">{detail}</div> : null}
      {props.retry ? (
        <button type="button" className="small" onClick={props.retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** A query's three states; `children` draws the data. */
export function Loaded<T>(props: {
  query: { data: T | undefined; error: unknown; isPending: boolean; refetch: () => unknown };
  what: string;
  children: (data: T) => ReactNode;
}) {
  const { query } = props;
  if (query.data !== undefined) return <>{props.children(query.data)}</>;
  if (query.isPending && !query.error) return <Loading what={props.what} />;
  return <ErrorNote error={query.error} what={props.what} retry={() => void query.refetch()} />;
}
