#!/usr/bin/env bash
# Docker engine for `sam local` on a Debian machine with no init system (CI, dev sandboxes).
#
#   local/sam/install_docker.sh [start]   install docker.io + debootstrap if missing, start dockerd if
#                                         no engine answers, wait until `docker info` works
#   local/sam/install_docker.sh stop      stop the dockerd that *this script* started (pid file), nothing else
#   local/sam/install_docker.sh status    say whether an engine answers and whether we started it
#
# Idempotent: an engine that already answers is used as it is and never stopped by `stop`.
# Needs root (apt-get, dockerd). Settings (environment):
#   DOCKER_STATE_DIR      where the pid file and log go            (default /tmp/batchops-docker)
#   DOCKER_START_TIMEOUT  seconds to wait for `docker info`        (default 60)
#   DOCKER_STOP_TIMEOUT   seconds to wait for dockerd to exit      (default 30)
#   APT_TIMEOUT           seconds apt-get may take, each call      (default 600)
set -euo pipefail
# dockerd, debootstrap and chroot live in sbin, which a non-login shell may lack.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

STATE_DIR="${DOCKER_STATE_DIR:-/tmp/batchops-docker}"
PID_FILE="$STATE_DIR/dockerd.pid"
LOG_FILE="$STATE_DIR/dockerd.log"
START_TIMEOUT="${DOCKER_START_TIMEOUT:-60}"
STOP_TIMEOUT="${DOCKER_STOP_TIMEOUT:-30}"
APT_TIMEOUT="${APT_TIMEOUT:-600}"

log() { echo "install_docker: $*" >&2; }
die() { echo "install_docker: ERROR: $*" >&2; exit 1; }

engine_up() { timeout 10 docker info >/dev/null 2>&1; }

our_pid() {
    # The pid in our pid file, if that process is still a dockerd.
    [[ -f "$PID_FILE" ]] || return 1
    local pid
    pid="$(cat "$PID_FILE")"
    [[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dockerd ]] || return 1
    echo "$pid"
}

install_packages() {
    local missing=()
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    command -v docker >/dev/null 2>&1 || missing+=(docker.io)
    # shellcheck disable=SC2207
    missing=($(printf '%s\n' "${missing[@]}" | sort -u))
    ((${#missing[@]} == 0)) && return 0
    [[ "$(id -u)" == 0 ]] || die "need root to apt-get install ${missing[*]}"
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install ${missing[*]} by hand"
    log "installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    timeout "$APT_TIMEOUT" apt-get update -qq || die "apt-get update failed (or took over ${APT_TIMEOUT}s)"
    timeout "$APT_TIMEOUT" apt-get install -y -qq "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
    command -v dockerd >/dev/null 2>&1 || die "dockerd still missing after installing docker.io"
}

start() {
    install_packages
    if engine_up; then
        if pid="$(our_pid)"; then log "dockerd already running (pid $pid, started by this script)"
        else log "a Docker engine already answers; using it"; fi
        return 0
    fi
    [[ "$(id -u)" == 0 ]] || die "dockerd must run as root"
    if pgrep -x dockerd >/dev/null 2>&1; then
        die "a dockerd is running but \`docker info\` fails; see its log (ours: $LOG_FILE) or stop it first"
    fi
    mkdir -p "$STATE_DIR"
    log "starting dockerd (log: $LOG_FILE)"
    # setsid: dockerd gets its own session, so it survives the caller's shell and can be stopped by pid.
    setsid dockerd >>"$LOG_FILE" 2>&1 </dev/null &
    echo $! >"$PID_FILE"
    local pid waited=0
    pid="$(cat "$PID_FILE")"
    until engine_up; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PID_FILE"
            tail -n 20 "$LOG_FILE" >&2 || true
            die "dockerd exited during start-up (last lines of $LOG_FILE above)"
        fi
        if ((waited >= START_TIMEOUT)); then
            tail -n 20 "$LOG_FILE" >&2 || true
            die "no answer from \`docker info\` after ${START_TIMEOUT}s (dockerd pid $pid still running; stop it with: $0 stop)"
        fi
        sleep 1
        waited=$((waited + 1))
    done
    log "Docker engine up after ${waited}s (dockerd pid $pid; stop it with: $0 stop)"
}

stop() {
    local pid
    if ! pid="$(our_pid)"; then
        rm -f "$PID_FILE"
        log "no dockerd started by this script is running; nothing to stop"
        return 0
    fi
    log "stopping dockerd (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true  # it may have exited since the check
    local waited=0
    while kill -0 "$pid" 2>/dev/null; do
        if ((waited >= STOP_TIMEOUT)); then
            log "dockerd did not exit after ${STOP_TIMEOUT}s: sending KILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 1
        waited=$((waited + 1))
    done
    rm -f "$PID_FILE"
    log "dockerd stopped"
}

status() {
    if engine_up; then echo "engine: up"; else echo "engine: down"; fi
    if pid="$(our_pid)"; then echo "started by this script: pid $pid (log $LOG_FILE)"; else echo "started by this script: no"; fi
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
status) status ;;
*) die "usage: $0 [start|stop|status]" ;;
esac
