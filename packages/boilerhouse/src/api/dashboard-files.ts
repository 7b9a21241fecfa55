/**
 * The dashboard's built files (packages/dashboard/dist), served at `/` by the daemon: hashed assets cached
 * for a year, index.html for every page path (the dashboard routes in the browser), the build's .br/.gz
 * copies sent to clients that accept them. The files are read once into memory, and again when index.html
 * changes (a rebuild). The files hold no data: the pages load it from the API with the operator's token,
 * so serving them needs none.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';

export const DASHBOARD_DIR = new URL('../../../dashboard/dist', import.meta.url).pathname;
export const BUILD_COMMAND = 'npm run build:dashboard';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** The pages' own scripts and styles only; the API on the same origin; nothing framed. */
const PAGE_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
  /** Vite puts content-hashed names under assets/: they never change, so they are cached for good. */
  immutable: boolean;
  encoded: { br?: Buffer; gzip?: Buffer };
}

interface Build {
  files: Map<string, StaticFile>;
  indexMtimeMs: number;
}

export class DashboardFiles {
  readonly #dir: string;
  #build: Promise<Build | undefined> | undefined;

  constructor(dir: string = DASHBOARD_DIR) {
    this.#dir = dir;
  }

  /** The answer to a GET or HEAD of `pathname` (anything outside the API). */
  async respond(pathname: string, headers: Headers): Promise<Response> {
    const build = await this.#current();
    if (build === undefined) return notBuilt(this.#dir);
    let key: string;
    try {
      key = decodeURIComponent(pathname).replace(/^\/+/, '');
    } catch {
      return new Response('not found\n', { status: 404, headers: PAGE_HEADERS });
    }
    let file = build.files.get(key);
    if (file === undefined || key === '') {
      // A page path goes to the app (tenant ids may look like file names: /tenants/ann@example.com); a
      // missing asset or top-level file (/favicon.ico) is a plain 404.
      if (key.startsWith('assets/') || /^[^/]+\.[a-z0-9]+$/i.test(key)) {
        return new Response('not found\n', { status: 404, headers: PAGE_HEADERS });
      }
      file = build.files.get('index.html') as StaticFile;
    }
    const common = {
      'Content-Type': file.type,
      'Cache-Control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      ETag: file.etag,
      Vary: 'Accept-Encoding',
      ...PAGE_HEADERS,
    };
    if (headers.get('If-None-Match') === file.etag)
      return new Response(null, { status: 304, headers: common });
    const encoding = pickEncoding(headers.get('Accept-Encoding') ?? '', file);
    const body = encoding === undefined ? file.body : (file.encoded[encoding] as Buffer);
    return new Response(new Uint8Array(body), {
      headers: {
        ...common,
        'Content-Length': String(body.length),
        ...(encoding === undefined ? {} : { 'Content-Encoding': encoding === 'br' ? 'br' : 'gzip' }),
      },
    });
  }

  /** The build in memory, read again when index.html changed (or appeared) since it was read. */
  async #current(): Promise<Build | undefined> {
    const mtime = await stat(join(this.#dir, 'index.html')).then(
      (info) => info.mtimeMs,
      () => undefined,
    );
    const loaded = await this.#build;
    if (mtime === undefined) {
      this.#build = undefined;
      return undefined;
    }
    if (loaded === undefined || loaded.indexMtimeMs !== mtime) {
      this.#build = readBuild(this.#dir, mtime);
      return this.#build;
    }
    return loaded;
  }
}

async function readBuild(dir: string, indexMtimeMs: number): Promise<Build | undefined> {
  const files = new Map<string, StaticFile>();
  const names = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of names) {
    if (!entry.isFile() || /\.(br|gz)$/.test(entry.name)) continue;
    const path = join(entry.parentPath, entry.name);
    const key = relative(dir, path).split(sep).join('/');
    const body = await readFile(path);
    const [br, gzip] = await Promise.all(
      ['br', 'gz'].map((suffix) => readFile(`${path}.${suffix}`).catch(() => undefined)),
    );
    files.set(key, {
      body,
      type: TYPES[extname(entry.name)] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      immutable: key.startsWith('assets/'),
      encoded: { ...(br === undefined ? {} : { br }), ...(gzip === undefined ? {} : { gzip }) },
    });
  }
  return files.has('index.html') ? { files, indexMtimeMs } : undefined;
}

/** Brotli, else gzip, when the client accepts it (q > 0) and the build has that copy. */
function pickEncoding(accepted: string, file: StaticFile): 'br' | 'gzip' | undefined {
  const allowed = new Set(
    accepted
      .split(',')
      .map((part) => part.trim().split(';'))
      .filter(([, q]) => q === undefined || Number(q.split('=')[1]) > 0)
      .map(([name]) => name?.trim().toLowerCase()),
  );
  if (file.encoded.br !== undefined && allowed.has('br')) return 'br';
  if (file.encoded.gzip !== undefined && allowed.has('gzip')) return 'gzip';
  return undefined;
}

function notBuilt(dir: string): Response {
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Boilerhouse: dashboard not built</title></head>
<body>
<h1>The dashboard is not built</h1>
<p>This daemon serves the dashboard from <code>${escapeHtml(dir)}</code>, which has no <code>index.html</code>.
Build it from the repository with:</p>
<pre>${BUILD_COMMAND}</pre>
<p>(<code>./scripts/setup.sh</code> builds it too.) Then reload this page; the daemon need not restart.
The API is unaffected: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
</body></html>
`;
  return new Response(page, {
    status: 503,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', ...PAGE_HEADERS },
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
