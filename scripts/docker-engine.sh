#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine; start one if not.
#
# Idempotent: when `docker info` already succeeds it does nothing. Otherwise it
# installs Debian's docker.io (when `dockerd` is missing), starts
#   dockerd --bridge=none --iptables=false
# in the background and waits until the engine answers.
#
# Why those flags: the sandbox never needs a network (containers run with
# --network none), and the machines this runs on (CI, exam rooms) have no
# container registry and may not allow iptables changes. With --bridge=none
# no docker0 bridge is made, so containers only ever get a loopback interface.
#
# Must run as root (it installs packages and starts a daemon).
# Environment:
#   DOCKERD_LOG      log file for dockerd (default /var/log/micrograde-dockerd.log)
#   DOCKERD_TIMEOUT  seconds to wait for the engine (default 60)
set -euo pipefail

log_file="${DOCKERD_LOG:-/var/log/micrograde-dockerd.log}"
timeout="${DOCKERD_TIMEOUT:-60}"

say() { printf 'docker-engine: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

engine_up() { docker info >/dev/null 2>&1; }

# PIDs of running dockerd processes, read from /proc so that this works on a
# minimal system without procps (pgrep).
dockerd_pids() {
    local comm pid
    for comm in /proc/[0-9]*/comm; do
        pid="${comm#/proc/}"; pid="${pid%/comm}"
        [ "$(cat "$comm" 2>/dev/null)" = dockerd ] && printf '%s ' "$pid"
    done
    return 0
}

if command -v docker >/dev/null 2>&1 && engine_up; then
    say "engine already running ($(docker info --format '{{.ServerVersion}}, storage driver {{.Driver}}'))"
    exit 0
fi

[ "$(id -u)" -eq 0 ] || die "no Docker engine answers and starting one needs root; re-run as root"

if ! command -v dockerd >/dev/null 2>&1; then
    say "dockerd not found: installing Debian's docker.io with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends docker.io >/dev/null \
        || die "apt-get install docker.io failed"
    command -v dockerd >/dev/null 2>&1 || die "docker.io installed but dockerd is still not on PATH"
fi
command -v docker >/dev/null 2>&1 || die "the docker client is missing (install docker.io or docker-ce-cli)"

# Two runs at once (two CI jobs, a user and a script) must not start two
# daemons: they fight over containerd and both fail. Serialise on a lock held
# until the engine answers; whoever waited then finds it up and leaves.
lock_file=/run/micrograde-docker-engine.lock
exec 9>"$lock_file"
flock -w "$timeout" 9 || die "another run of this script held $lock_file for ${timeout}s"
if engine_up; then
    say "engine started meanwhile by another run ($(docker info --format '{{.ServerVersion}}, storage driver {{.Driver}}'))"
    exit 0
fi

if [ -n "$(dockerd_pids)" ]; then
    # Started outside this script (or still shutting down): wait for it.
    say "a dockerd process exists already (pid $(dockerd_pids)); waiting for it"
else
    # A dockerd killed hard leaves its pid file behind; drop it when its
    # process is gone (dockerd itself refuses to start over a live one).
    if [ -f /var/run/docker.pid ] && ! [ -d "/proc/$(cat /var/run/docker.pid 2>/dev/null || echo none)" ]; then
        say "removing stale /var/run/docker.pid"
        rm -f /var/run/docker.pid
    fi
    mkdir -p "$(dirname "$log_file")"
    say "starting dockerd (log: $log_file)"
    # setsid + nohup: the daemon must outlive this script and its terminal;
    # fd 9 (the lock) is closed for it so the lock ends with this script.
    setsid nohup dockerd --bridge=none --iptables=false >>"$log_file" 2>&1 </dev/null 9>&- &
fi

start=$(date +%s.%N)
deadline=$(( $(date +%s) + timeout ))
until engine_up; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        say "the engine did not answer within ${timeout}s; last lines of $log_file:"
        tail -n 20 "$log_file" >&2 2>/dev/null || true
        die "Docker engine failed to start"
    fi
    # (after a grace second: the background job takes a moment to exec dockerd)
    if [ "$(date +%s)" -gt $(( deadline - timeout + 1 )) ] && [ -z "$(dockerd_pids)" ]; then
        say "dockerd exited; last lines of $log_file:"
        tail -n 20 "$log_file" >&2 2>/dev/null || true
        die "Docker engine failed to start"
    fi
    sleep 0.2
done
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
say "engine up after ${elapsed}s ($(docker info --format '{{.ServerVersion}}, storage driver {{.Driver}}'))"
