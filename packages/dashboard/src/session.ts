/**
 * The API token the operator logged in with, kept in session storage (gone with the tab), and why the
 * last session ended, for the login page to say.
 */
import { useSyncExternalStore } from 'react';

const KEY = 'boilerhouse.token';

let token: string | null = sessionStorage.getItem(KEY);
let notice: string | undefined;
const listeners = new Set<() => void>();

function changed(): void {
  for (const listener of listeners) listener();
}

export const session = {
  token: (): string | null => token,
  /** Why the operator was sent back to the login page, if they were. */
  notice: (): string | undefined => notice,
  login(value: string): void {
    sessionStorage.setItem(KEY, value);
    token = value;
    notice = undefined;
    changed();
  },
  logout(reason?: string): void {
    sessionStorage.removeItem(KEY);
    token = null;
    notice = reason;
    changed();
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

export function useToken(): string | null {
  return useSyncExternalStore(session.subscribe, session.token);
}
