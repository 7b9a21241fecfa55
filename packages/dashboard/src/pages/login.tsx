/**
 * Log in with an API token (the admin key or a token with the `read` scope). The token is tried before it
 * is kept, so a wrong one is refused here with the daemon's reason; it lives in session storage only.
 */
import { type FormEvent, useState } from 'react';
import { ApiError } from '../api/client.ts';
import { describeError } from '../components/states.tsx';
import { session } from '../session.ts';

export function LoginPage() {
  const [token, setToken] = useState('');
  const [error, setError] = useState<{ message: string; detail?: string }>();
  const [busy, setBusy] = useState(false);
  const notice = session.notice();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const value = token.trim();
    if (value === '') {
      setError({ message: 'Paste an API token first.' });
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const response = await fetch('/api/v1/pools', { headers: { Authorization: `Bearer ${value}` } });
      if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => undefined));
      session.login(value);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 401) {
        setError({ message: `That token was refused: ${failure.message}.` });
      } else if (failure instanceof ApiError && failure.status === 403) {
        setError({ message: 'That token is valid but lacks the "read" scope the dashboard needs.' });
      } else {
        setError(describeError(failure));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form className="panel login-form" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Boilerhouse</h1>
        <p className="muted">
          Log in with the admin key or an API token (at least the <code>read</code> scope; actions need
          theirs). It is kept in this tab only.
        </p>
        {notice ? (
          <p className="note warning" role="status">
            {notice}
          </p>
        ) : null}
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="current-password"
          value={token}
          onChange={(event) => setToken(event.target.value)}
        />
        {error ? (
          <p className="note error" role="alert">
            {error.message}
            {error.detail ? <span className="muted"> ({error.detail})</span> : null}
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
