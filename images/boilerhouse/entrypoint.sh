#!/usr/bin/env bash
# The daemon's container: `serve` (the default) first readies what the host's engine needs to see, then
# runs the daemon; any other arguments run that `boilerhouse` command (`workload validate FILE`, ...).
set -euo pipefail
app=/opt/boilerhouse
boilerhouse=$app/packages/boilerhouse/bin/boilerhouse

if [ "${1:-}" != serve ]; then
  exec "$boilerhouse" "$@"
fi

# The daemon's iptables rules (runtime/network-isolation.ts) must go where the engine's are: the host's
# tables are either nf_tables or legacy, and the engine's DOCKER chain says which.
if ! iptables-nft-save 2>/dev/null | grep -q '^:DOCKER' && iptables-legacy-save 2>/dev/null | grep -q '^:DOCKER'; then
  update-alternatives --quiet --set iptables /usr/sbin/iptables-legacy
fi

# Every instance runs the gate (and the daemon the SQLite helper beside it) from a path the engine mounts:
# a copy in the data directory, which is at the same path on the host. Replaced by a rename, so instances
# started from an older image keep the file they were started with.
data=${BOILERHOUSE_DATA_DIR:?}
if [ -z "${BOILERHOUSE_GATE:-}" ]; then
  install -d -m 0700 "$data"
  install -d -m 0755 "$data/bin"
  for helper in boilerhouse-gate boilerhouse-sqlite-backup; do
    if ! cmp -s "$app/packages/boilerhouse/native/build/$helper" "$data/bin/$helper"; then
      install -m 0755 "$app/packages/boilerhouse/native/build/$helper" "$data/bin/.$helper.new"
      mv -f "$data/bin/.$helper.new" "$data/bin/$helper"
    fi
  done
  export BOILERHOUSE_GATE=$data/bin/boilerhouse-gate
fi

# The data and memory directories must come from the host with shared propagation: said here, or never.
node --disable-warning=ExperimentalWarning "$app/images/boilerhouse/host-mounts.ts"
exec "$boilerhouse" "$@"
