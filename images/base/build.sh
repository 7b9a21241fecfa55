#!/usr/bin/env bash
# Builds the local Debian base image without any registry: debootstrap a minimal bookworm from the mirror
# apt already uses, strip what containers never need, and `docker import` the tree.
# Usage: images/base/build.sh IMAGE_TAG RECIPE_HASH
set -euo pipefail
tag=$1
recipe=$2
suite=bookworm

# The mirror in apt's own sources: deb822 files (URIs:) or one-line lists (deb URL suite ...).
mirror=$(
  { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
    grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}'
  } | grep -vE 'security|nodesource|google|docker' | head -n 1
) || true
mirror=${mirror:-http://deb.debian.org/debian}

root=$(mktemp -d /tmp/boilerhouse-base.XXXXXX)
trap 'rm -rf "$root"' EXIT

echo "debootstrap $suite from $mirror"
debootstrap --variant=minbase "$suite" "$root" "$mirror"

# Containers need none of these; dropping them halves the image.
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
  "$root"/usr/share/locale/* "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* \
  "$root"/var/log/* "$root"/tmp/*
# The unprivileged user node:24 images have too (uid 1000), so workloads can run as it on either base.
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid 1000 --create-home --shell /bin/bash node

tar --numeric-owner -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change "LABEL boilerhouse.recipe=$recipe" \
  --change 'CMD ["bash"]' \
  - "$tag"
