#!/usr/bin/env bash
# Build the base image micrograde-base:bookworm without any container registry.
#
#   grader/sandbox/image/build-base-image.sh [--force]
#
# It makes a minimal Debian bookworm root file system with debootstrap (from
# the Debian mirror this machine's apt already uses), with Debian's python3
# (3.11) and tini in it, strips documentation and apt caches, and turns it into
# an image with `docker import`. The sandbox Dockerfile then builds on it with
#   docker build --build-arg BASE=micrograde-base:bookworm ...
#
# Skips the work when the image exists already; --force rebuilds it.
# Needs root (debootstrap) and a running engine (scripts/docker-engine.sh).
# Environment:
#   BASE_IMAGE  image name (default micrograde-base:bookworm)
#   MIRROR      Debian mirror URL (default: the first one in apt's sources)
set -euo pipefail

image="${BASE_IMAGE:-micrograde-base:bookworm}"
suite=bookworm
packages=python3,tini
force=0

say() { printf 'build-base-image: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

for arg in "$@"; do
    case "$arg" in
        --force) force=1 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) die "unknown argument: $arg (usage: $0 [--force])" ;;
    esac
done

docker info >/dev/null 2>&1 || die "no Docker engine answers; start one with scripts/docker-engine.sh"

if [ "$force" -eq 0 ] && docker image inspect "$image" >/dev/null 2>&1; then
    say "$image exists already ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')); use --force to rebuild"
    exit 0
fi

[ "$(id -u)" -eq 0 ] || die "debootstrap needs root; re-run as root"

if ! command -v debootstrap >/dev/null 2>&1; then
    say "debootstrap not found: installing it with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends debootstrap >/dev/null \
        || die "apt-get install debootstrap failed"
fi

# The Debian mirror apt uses here: the machine reaches it, and it may be a
# local mirror in an exam room. deb822 files (*.sources, "URIs:") first, then
# the one-line format ("deb URL suite ..."); security/updates entries skipped.
find_mirror() {
    local files url
    files=$(ls /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
    [ -n "$files" ] || return 0
    # shellcheck disable=SC2086
    url=$(awk '
        /^[[:space:]]*#/ { next }
        /^URIs:/ { for (i = 2; i <= NF; i++) print $i }
        $1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { print $i; break } }
    ' $files 2>/dev/null | grep -v -e security -e updates | head -n 1 || true)
    printf '%s' "$url"
}
mirror="${MIRROR:-$(find_mirror)}"
mirror="${mirror:-http://deb.debian.org/debian}"

workdir=$(mktemp -d /var/tmp/micrograde-base.XXXXXX)
rootfs="$workdir/rootfs"
cleanup() {
    # debootstrap mounts /proc and /sys inside the target; a failed run can
    # leave them mounted, and rm -rf must never walk into them.
    local m
    awk -v d="$workdir" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$workdir"
}
trap cleanup EXIT

start=$(date +%s)
say "debootstrap --variant=minbase --include=$packages $suite (mirror $mirror)"
debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" \
    >"$workdir/debootstrap.log" 2>&1 || {
    tail -n 30 "$workdir/debootstrap.log" >&2
    # debootstrap keeps its own detailed log inside the target
    tail -n 30 "$rootfs/debootstrap/debootstrap.log" >&2 2>/dev/null || true
    die "debootstrap failed (see above)"
}
say "debootstrap done in $(( $(date +%s) - start ))s; slimming"

# Keep later package installs slim too (what Docker's official Debian images do).
mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d"
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/micrograde-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
       "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old \
       "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
       "$rootfs"/usr/share/locale/* "$rootfs"/usr/share/lintian/* \
       "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/var/tmp/* \
       "$rootfs"/root/.cache
# Ship the standard library's bytecode: the sandbox root is read-only and
# bytecode writing is off, so anything not compiled here is recompiled, in
# memory, at every start of every container: measured here, a trivial pytest
# run took ~0.3 s with the stdlib bytecode and ~0.8 s without it.
chroot "$rootfs" python3 -m compileall -q -j 0 /usr/lib/python3.11 >/dev/null \
    || die "compileall of the standard library failed"
# Docker gives every container its own /dev, /proc and /sys.
rm -rf "${rootfs:?}"/dev/* "${rootfs:?}"/proc/* "${rootfs:?}"/sys/*

say "importing as $image"
tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    --message "micrograde base: debootstrap --variant=minbase $suite + $packages" \
    - "$image" >/dev/null

docker run --rm --network none "$image" python3 -c 'import sys; print("python", sys.version.split()[0])' >&2 \
    || die "the new image does not run python3"
size=$(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')
say "built $image in $(( $(date +%s) - start ))s, size $size"
