/**
 * Bind sources, as the caller writes them: paths inside its own container. One is accepted only when it
 * lies in one of the instance's volumes (state, comm, custom; not secrets), and becomes the host path
 * behind it. The path must already be canonical; nothing is repaired. Whether the host path really is
 * inside the volume (symlinks) is settled when it is pinned (pins.ts).
 */
import { ProxyDenial, quote } from './denial.ts';

/** One of the instance's volumes: where the instance sees it, and the host path behind it. */
export interface InstanceVolume {
  target: string;
  hostPath: string;
  readOnly: boolean;
}

export interface BindRequest {
  /** The path inside the instance. */
  source: string;
  target: string;
  readOnly: boolean;
}

export interface LocatedBind {
  volume: InstanceVolume;
  /** The host path the source names (not yet resolved). */
  hostPath: string;
  /** Read-only when asked, or when the volume itself is. */
  readOnly: boolean;
}

export function locateBind(bind: BindRequest, volumes: readonly InstanceVolume[]): LocatedBind {
  const { source } = bind;
  if (!isCanonical(source)) {
    throw new ProxyDenial(
      403,
      'bind',
      `bind source ${quote(source)} must be an absolute path without //, . or .. segments`,
    );
  }
  let best: InstanceVolume | undefined;
  for (const volume of volumes) {
    const inside = source === volume.target || source.startsWith(`${volume.target}/`);
    if (inside && (best === undefined || volume.target.length > best.target.length)) best = volume;
  }
  if (best === undefined) {
    const targets = volumes.map((volume) => volume.target).join(', ') || 'none';
    throw new ProxyDenial(
      403,
      'bind',
      `bind source ${quote(source)} is outside the instance's volumes (${targets}); only paths inside them can be mounted`,
    );
  }
  return {
    volume: best,
    hostPath: best.hostPath + source.slice(best.target.length),
    readOnly: bind.readOnly || best.readOnly,
  };
}

/** `/`, or an absolute path with no empty, `.` or `..` segments and no trailing slash. */
export function isCanonical(path: string): boolean {
  if (path === '/') return true;
  if (!path.startsWith('/')) return false;
  return path
    .slice(1)
    .split('/')
    .every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}
