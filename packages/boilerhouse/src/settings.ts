/**
 * The daemon's settings (environment variables), each with its default and what it is for in a line:
 * the list `serve --help` prints, and the one the README's settings table is checked against.
 */
export interface Setting {
  name: string;
  fallback: string;
  summary: string;
}

export const DAEMON_SETTINGS: readonly Setting[] = [
  {
    name: 'BOILERHOUSE_DATA_DIR',
    fallback: '<checkout>/.data/boilerhouse',
    summary: 'database, instance volumes, local sinks',
  },
  { name: 'BOILERHOUSE_WORKLOADS_DIR', fallback: '<checkout>/workloads', summary: 'workload files, watched' },
  {
    name: 'BOILERHOUSE_WORKLOAD_ENV',
    fallback: 'none',
    summary: 'variables workload files may read (names, NAME_* prefixes)',
  },
  { name: 'BOILERHOUSE_HOST', fallback: '127.0.0.1', summary: 'address the API and the gateway listen on' },
  { name: 'BOILERHOUSE_PORT', fallback: '7070', summary: 'the API' },
  {
    name: 'BOILERHOUSE_GATEWAY_PORT',
    fallback: '7080',
    summary: "tenants' traffic (workloads with a gateway block)",
  },
  {
    name: 'BOILERHOUSE_GATEWAY_DOMAIN',
    fallback: 'none',
    summary: 'host-form tenant addresses <label>.<domain>',
  },
  { name: 'BOILERHOUSE_PUBLISH_HOST', fallback: '127.0.0.1', summary: 'where instance ports are published' },
  {
    name: 'BOILERHOUSE_NETWORK_POOL',
    fallback: '172.30.0.0/16',
    summary: "IPv4 block of the instances' own networks",
  },
  {
    name: 'BOILERHOUSE_HOST_PORTS',
    fallback: 'none',
    summary: 'host TCP ports instances may reach (a model gateway)',
  },
  {
    name: 'BOILERHOUSE_STATE_CACHE_MIB',
    fallback: '2048',
    summary: "this host's cache of S3 saves' chunks, packs and manifests; 0: none",
  },
  { name: 'DOCKER_HOST', fallback: 'unix:///var/run/docker.sock', summary: 'the engine' },
  {
    name: 'BOILERHOUSE_SECRET_KEY',
    fallback: '<data dir>/secret.key',
    summary: "the key that seals tenants' secrets",
  },
  { name: 'BOILERHOUSE_API_KEY', fallback: 'generated, shown once', summary: 'the admin key' },
  { name: 'BOILERHOUSE_AUTH', fallback: 'on', summary: 'off: no auth (loopback only)' },
  { name: 'BOILERHOUSE_LOG_LEVEL', fallback: 'info', summary: 'debug for more' },
  { name: 'BOILERHOUSE_LOG_FORMAT', fallback: 'pretty on a terminal, else json', summary: 'json or pretty' },
  {
    name: 'BOILERHOUSE_GATE',
    fallback: 'the build in packages/boilerhouse/native',
    summary: 'the gate binary every instance runs behind',
  },
];
