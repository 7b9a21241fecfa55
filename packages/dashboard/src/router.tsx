/**
 * Moving between pages on the History API: the daemon answers every page path with index.html, so a
 * reload or a pasted link lands on the same page (routes.ts says which).
 */
import { type MouseEvent, type ReactNode, useSyncExternalStore } from 'react';

export { paths, type Route, routeOf } from './routes.ts';

const NAVIGATED = 'boilerhouse:navigate';

function subscribe(listener: () => void): () => void {
  window.addEventListener('popstate', listener);
  window.addEventListener(NAVIGATED, listener);
  return () => {
    window.removeEventListener('popstate', listener);
    window.removeEventListener(NAVIGATED, listener);
  };
}

const currentUrl = () => window.location.pathname + window.location.search;

/** The current path and query, e.g. `/events?type=pool.warning`. */
export function useUrl(): URL {
  const url = useSyncExternalStore(subscribe, currentUrl);
  return new URL(url, window.location.origin);
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === currentUrl()) return;
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(NAVIGATED));
}

/** An ordinary link (new tab, copy address work) that moves within the page when clicked plainly. */
export function Link(props: { to: string; className?: string; children: ReactNode; title?: string }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(props.to);
    window.scrollTo(0, 0);
  };
  return (
    <a href={props.to} className={props.className} title={props.title} onClick={onClick}>
      {props.children}
    </a>
  );
}
