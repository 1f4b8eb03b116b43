#!/usr/bin/env bash
# Make a Docker engine reachable, or stop the one this script started.
#   scripts/docker_engine.sh start   use a running engine; else start Debian's dockerd (installed with
#                                    apt-get when missing; needs root) and wait until it answers
#   scripts/docker_engine.sh stop    stop the engine only if `start` started it (its pid file says so)
#   scripts/docker_engine.sh status  exit 0 when an engine answers
# Idempotent: `start` twice starts one engine. The daemon runs without iptables rules and without the
# default bridge (machines like CI's cannot change the host's firewall); containers talk over networks
# the caller creates (`docker network create`), and images are built with `docker build --network host`.
set -euo pipefail

STATE_DIR=${LABELGATE_ENGINE_STATE:-/var/run/labelgate-engine}
PID_FILE=$STATE_DIR/dockerd.pid
LOG_FILE=${LABELGATE_ENGINE_LOG:-/var/log/labelgate-dockerd.log}

answers() { docker info >/dev/null 2>&1; }

start() {
    if answers; then
        echo "docker engine: reachable ($(docker info --format '{{.ServerVersion}}' 2>/dev/null))"
        return 0
    fi
    if ! command -v docker >/dev/null 2>&1 || ! command -v dockerd >/dev/null 2>&1; then
        [ "$(id -u)" = 0 ] || { echo "docker engine: none reachable and not root: start one (or run as root)" >&2; exit 1; }
        echo "docker engine: installing Debian's docker.io ..."
        { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io; } >"$STATE_DIR.apt.log" 2>&1 \
            || { tail -n 20 "$STATE_DIR.apt.log" >&2; exit 1; }
    fi
    [ "$(id -u)" = 0 ] || { echo "docker engine: dockerd needs root; start it as root or point DOCKER_HOST at one" >&2; exit 1; }
    mkdir -p "$STATE_DIR"
    echo "docker engine: starting dockerd (log: $LOG_FILE) ..."
    dockerd --storage-driver=overlay2 --iptables=false --ip-masq=false --bridge=none \
        --pidfile "$STATE_DIR/dockerd.daemon.pid" >"$LOG_FILE" 2>&1 &
    echo $! >"$PID_FILE"
    for _ in $(seq 1 60); do
        if answers; then
            echo "docker engine: started ($(docker info --format '{{.ServerVersion}}'), pid $(cat "$PID_FILE"))"
            return 0
        fi
        kill -0 "$(cat "$PID_FILE")" 2>/dev/null || break
        sleep 1
    done
    echo "docker engine: dockerd did not answer; last lines of $LOG_FILE:" >&2
    tail -n 20 "$LOG_FILE" >&2
    exit 1
}

stop() {
    if [ ! -f "$PID_FILE" ]; then
        echo "docker engine: not started by this script; left as it is"
        return 0
    fi
    pid=$(cat "$PID_FILE")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
    rm -f "$PID_FILE"
    echo "docker engine: stopped (pid $pid)"
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    status) answers ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
