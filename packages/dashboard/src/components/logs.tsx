/** An instance's container output, followed live (GET .../logs?follow=true) while it is on screen. */
import { useEffect, useRef, useState } from 'react';
import { openStream } from '../api/client.ts';
import { describeError } from './states.tsx';

/** The browser keeps this much of the output. */
const KEEP_CHARS = 200_000;

export function LiveLogs(props: { instance: string }) {
  const [text, setText] = useState('');
  const [state, setState] = useState<'connecting' | 'following' | 'ended' | 'failed'>('connecting');
  const [error, setError] = useState<string>();
  const box = useRef<HTMLPreElement>(null);

  useEffect(() => {
    const abort = new AbortController();
    setText('');
    setState('connecting');
    (async () => {
      const reader = await openStream(
        `/api/v1/instances/${encodeURIComponent(props.instance)}/logs?tail=200&follow=true`,
        {},
        abort.signal,
      );
      setState('following');
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        setText((before) => (before + value).slice(-KEEP_CHARS));
      }
      setState('ended');
    })().catch((failure: unknown) => {
      if (abort.signal.aborted) return;
      setError(describeError(failure).message);
      setState('failed');
    });
    return () => abort.abort();
  }, [props.instance]);

  // Stay at the bottom unless the operator scrolled up to read.
  useEffect(() => {
    const element = box.current;
    if (element === null || text === '') return;
    const nearBottom = element.scrollHeight - element.scrollTop - element.clientHeight < 80;
    if (nearBottom || element.dataset.pinned !== 'false') element.scrollTop = element.scrollHeight;
  }, [text]);

  return (
    <div className="logs">
      <div className="logs-head">
        <span className={`dot-status ${state}`} aria-hidden="true" />
        <span>
          {state === 'following'
            ? `Following ${props.instance}`
            : state === 'connecting'
              ? 'Connecting…'
              : state === 'ended'
                ? 'The output ended (the container stopped)'
                : `Could not read the output: ${error}`}
        </span>
      </div>
      <pre
        ref={box}
        className="logs-text"
        data-testid="logs"
        onScroll={(event) => {
          const element = event.currentTarget;
          element.dataset.pinned = String(
            element.scrollHeight - element.scrollTop - element.clientHeight < 80,
          );
        }}
      >
        {text || (state === 'following' ? 'No output yet.' : '')}
      </pre>
    </div>
  );
}
