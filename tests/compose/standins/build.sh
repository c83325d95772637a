#!/usr/bin/env bash
# The base images that compose.yaml and the Dockerfile name (python:3.11-slim, apache/kafka:<version>,
# postgres:<version>), for `make compose-test`: an image the engine already has is used as it is, else it is
# pulled; where no registry answers (this project's CI), a TEST STAND-IN is made here and tagged with that
# name: a Debian bookworm root file system (debootstrap, from the mirror of this machine's apt sources), then
# Debian's Python 3.11, OpenJDK 17 with the Kafka jars from Maven Central, and PostgreSQL 15 (the
# Dockerfiles beside this script). Users always pull the official images: nothing here changes compose.yaml
# or the Dockerfile. The stand-ins carry the label org.owstream.test-stand-in and live in the engine's data
# root (the cache), so a second run only checks them (the classic builder's cache).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
JARS_HOME=${OWSTREAM_TEST_JAR_HOME:-$HOME/.cache/owstream-test}
BASE=owstream-test/debian:bookworm

say() { echo "stand-ins: $*" >&2; }

# The names as compose.yaml and the Dockerfile spell them.
python_image=$(sed -n 's/^FROM \([^ ]*\).*/\1/p' "$ROOT/Dockerfile" | sort -u)
kafka_image=$(sed -n 's/^ *image: *\(apache\/kafka:[^ ]*\).*/\1/p' "$ROOT/compose.yaml")
postgres_image=$(sed -n 's/^ *image: *\(postgres:[^ ]*\).*/\1/p' "$ROOT/compose.yaml")
for name in python_image kafka_image postgres_image; do
    value=${!name}
    if [ -z "$value" ] || [ "$(echo "$value" | wc -l)" != 1 ]; then say "cannot tell $name from compose.yaml / Dockerfile: '$value'"; exit 1; fi
done

is_stand_in() { [ -n "$(docker image inspect -f '{{index .Config.Labels "org.owstream.test-stand-in"}}' "$1" 2>/dev/null)" ]; }

wanted() { # 0 when a stand-in must be (re)built for image $1: it is absent and cannot be pulled, or a stand-in
    local image=$1
    if docker image inspect "$image" >/dev/null 2>&1; then
        is_stand_in "$image"; return
    fi
    if timeout 300 docker pull -q "$image" >/dev/null 2>&1; then
        say "pulled $image"; return 1
    fi
    say "no registry gives $image: making a test stand-in"
}

debian_mirror() { # the Debian mirror of this machine's apt sources
    local uri
    uri=$(grep -hoE '^(URIs:[[:space:]]*|deb[[:space:]]+(\[[^]]*\][[:space:]]+)?)https?://[^[:space:]]+' \
        /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | grep -v security | head -1 | grep -oE 'https?://[^[:space:]]+' || true)
    echo "${uri:-http://deb.debian.org/debian}"
}

base_image() {
    docker image inspect "$BASE" >/dev/null 2>&1 && return
    local rootfs mirror
    rootfs=$(mktemp -d)
    mirror=$(debian_mirror)
    say "debootstrap of Debian bookworm (minbase) from $mirror"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
        || { tail -20 "$rootfs.log" >&2; rm -rf "$rootfs" "$rootfs.log"; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import -c 'CMD ["bash"]' -m "test stand-in base (debootstrap)" - "$BASE" >/dev/null
    rm -rf "$rootfs" "$rootfs.log"
}

build() { # build IMAGE CONTEXT
    say "building $1"
    local log; log=$(mktemp)
    if ! docker build --network host -q -t "$1" "$2" >"$log" 2>&1; then tail -30 "$log" >&2; rm -f "$log"; exit 1; fi
    rm -f "$log"
}

python_stand_in() {
    local ctx; ctx=$(mktemp -d)
    cp "$HERE/python/Dockerfile" "$ctx/"
    cp "${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}" "$ctx/host-ca.crt"
    build "$python_image" "$ctx"
    rm -rf "$ctx"
}

kafka_stand_in() {
    local version jars ctx
    version=$("$PYTHON" -c 'from owstream.localkafka.jars import KAFKA_VERSION; print(KAFKA_VERSION)')
    if [ "${kafka_image#apache/kafka:}" != "$version" ]; then
        say "compose.yaml runs $kafka_image but the pinned jars are Kafka $version: keep the two versions equal"
        exit 1
    fi
    jars=$("$PYTHON" -c 'import sys; from pathlib import Path; from owstream.localkafka.jars import ensure_jars; print(ensure_jars(Path(sys.argv[1])))' "$JARS_HOME")
    ctx=$(mktemp -d)
    cp -r "$HERE/kafka/." "$ctx/"
    mkdir "$ctx/libs"
    cp "$jars"/*.jar "$ctx/libs/"
    build "$kafka_image" "$ctx"
    rm -rf "$ctx"
}

postgres_stand_in() {
    build "$postgres_image" "$HERE/postgres"
}

todo=()
wanted "$python_image" && todo+=(python_stand_in)
wanted "$kafka_image" && todo+=(kafka_stand_in)
wanted "$postgres_image" && todo+=(postgres_stand_in)
if [ ${#todo[@]} -gt 0 ]; then
    base_image
    pids=()
    for job in "${todo[@]}"; do "$job" & pids+=($!); done  # side by side: mostly package downloads
    failed=0
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    exit "$failed"
fi
