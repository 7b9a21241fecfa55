#!/usr/bin/env bash
# mount(8) as the daemon and its socket host find it in this image (/usr/local/sbin/mount, ahead of
# /usr/bin/mount on PATH). The engine mounts instances' volumes and children's pins from the host's copies
# of the daemon's mounts, which arrive there by propagation (rshared) with the flags each had when it was
# attached. A remount changes this namespace's copy alone: the daemon's `-o remount,bind,nosuid,nodev,ro`
# (pool/volume-mount.ts, proxy/pins.ts) would leave the host's copy writable and without nosuid,nodev.
# So after a remount the mount is attached again: cloned aside onto a private point (a clone keeps the
# flags), detached (the host's copy goes with it), and the clone moved into place (the host gets a copy of
# it, flags and all). Anything else goes straight to mount(8).
set -euo pipefail
/usr/bin/mount "$@"
case " $* " in
*" -o remount,bind,"*) ;;
*) exit 0 ;;
esac
point=${!#}
# On the container's own root, which is private: nothing mounted there propagates, and a mount can only
# be moved from under a mount that is not shared.
aside=$(mktemp -d /run/boilerhouse-remount.XXXXXX)
trap 'rmdir "$aside"' EXIT
/usr/bin/mount --no-canonicalize --bind -- "$point" "$aside"
/usr/bin/mount --make-private -- "$aside"
/usr/bin/umount --lazy -- "$point"
/usr/bin/mount --no-canonicalize --move -- "$aside" "$point"
