#!/usr/bin/env bash
# Build the alloy-mock container image with podman and smoke-test it.
#
#   sudo bash scripts/container/test.sh
#
# Meant for a Debian bookworm machine, as root (CI runs it so). It
#   1. installs podman, runc, debootstrap, curl and python3 with apt-get, if any is missing;
#   2. builds a base image (Debian bookworm minbase + python3 + python3-venv) with debootstrap, unless
#      it exists already: no image registry is needed, only the Debian and PyPI package registries;
#   3. builds the Dockerfile on that base;
#   4. runs the image and checks: the HEALTHCHECK and /health, the warning that /_mock has no admin
#      token, a user created with the dev key and its token, that the prod key cannot see that user,
#      a clean stop (exit code 0), the user and the
#      signing keys again in a new container on the same volume, ALLOY_MOCK_PORT=18123 with the
#      HEALTHCHECK following it, a non-root process, `IMAGE serve --port N` and `IMAGE --version`, no
#      compiler in the image; and prints the image size.
#
# Settings (environment): ALLOY_MOCK_IMAGE (default localhost/alloy-mock:test), ALLOY_MOCK_BASE_IMAGE
# (default localhost/alloy-mock-base:bookworm; any image with python3 and venv will do), DEBIAN_MIRROR,
# ALLOY_MOCK_REBUILD_BASE=1 to debootstrap the base again. PIP_INDEX_URL, PIP_EXTRA_INDEX_URL and
# PIP_TRUSTED_HOST are passed to the build when they are http(s) addresses. Exits non-zero, with a
# line starting "container test FAILED:", on the first check that fails.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IMAGE=${ALLOY_MOCK_IMAGE:-localhost/alloy-mock:test}
BASE_IMAGE=${ALLOY_MOCK_BASE_IMAGE:-localhost/alloy-mock-base:bookworm}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ALT_PORT=18123
RUN_ID=alloy-mock-smoke-$$
VOLUME=$RUN_ID-data
DEV_KEY=smoke-dev-key-$$
PROD_KEY=smoke-prod-key-$$
API_VERSION=2023-12
CONTAINERS=()
WORK=""
START=$SECONDS

log() { printf '==> [%3ds] %s\n' "$((SECONDS - START))" "$*"; }
die() {
    printf 'container test FAILED: %s\n' "$*" >&2
    exit 1
}

[ "$(id -u)" = 0 ] || die "run as root: podman runs rootful here (sudo bash $0)"

# --- tools --------------------------------------------------------------------------------------
missing=()
for tool in podman:podman runc:runc debootstrap:debootstrap curl:curl python3:python3 tar:tar; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done
[ -f /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt_log=$(mktemp)
    { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } >"$apt_log" 2>&1 ||
        {
            cat "$apt_log" >&2
            die "apt-get install ${missing[*]} failed (log above)"
        }
    rm -f "$apt_log"
fi

WORK=$(mktemp -d /var/tmp/alloy-mock-container.XXXXXX)
# Setting ulimits for containers is not allowed on every host (sandboxes, some CI runners).
if [ -z "${CONTAINERS_CONF:-}" ]; then
    printf '[containers]\ndefault_ulimits = []\n' >"$WORK/containers.conf"
    export CONTAINERS_CONF=$WORK/containers.conf
fi

# podman as it runs on hosts without systemd or a cgroup manager (containers, CI runners). Without
# systemd, podman also says on every start and stop of a container with a HEALTHCHECK that it cannot
# schedule the periodic checks: true, harmless (`podman healthcheck run` runs them), and left out.
pm() {
    { podman --cgroup-manager=cgroupfs --runtime runc "$@" 2>&1 1>&3 3>&- |
        { grep -v 'unable to get systemd connection' || true; } >&2; } 3>&1
}

cleanup() {
    local status=$?
    set +e
    for name in "${CONTAINERS[@]}"; do
        pm rm --force --volumes --time 0 "$name" >/dev/null 2>&1
    done
    pm volume rm --force "$VOLUME" >/dev/null 2>&1
    [ -n "$WORK" ] && rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Show a container's output, then fail.
die_with_logs() {
    local name=$1
    shift
    printf -- '--- logs of %s ---\n' "$name" >&2
    pm logs "$name" >&2 2>&1 || true
    printf -- '--- end of logs ---\n' >&2
    die "$*"
}

# --- base image -----------------------------------------------------------------------------------
build_base() {
    local rootfs=$WORK/rootfs
    log "debootstrap bookworm (minbase + python3, python3-venv, ca-certificates) from $DEBIAN_MIRROR"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        bookworm "$rootfs" "$DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
        {
            tail -n 30 "$WORK/debootstrap.log" >&2
            die "debootstrap failed (log above)"
        }
    # What a container never needs: downloaded packages, package lists, documentation, translations.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
        "$rootfs"/usr/share/locale/* "$rootfs"/var/log/apt/* "$rootfs"/var/log/*.log
    log "importing it as $BASE_IMAGE"
    tar -C "$rootfs" -c . | pm import --quiet \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["/usr/bin/python3"]' \
        - "$BASE_IMAGE" >/dev/null || die "podman import of the base image failed"
    rm -rf "$rootfs"
}

if [ "${ALLOY_MOCK_REBUILD_BASE:-0}" != 1 ] && pm image exists "$BASE_IMAGE"; then
    log "base image $BASE_IMAGE exists; not rebuilding it"
else
    build_base
fi

# --- the alloy-mock image ---------------------------------------------------------------------------
build_args=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
# pip in the build checks certificates against the host's bundle (which holds any proxy's CA).
# The host's own pip configuration is not used: it may name mirrors that exist only on this machine.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    build_args+=(--volume /etc/ssl/certs:/etc/ssl/certs:ro --build-arg PIP_CERT=/etc/ssl/certs/ca-certificates.crt)
fi
for name in PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_TRUSTED_HOST; do
    value=${!name:-}
    if [ -n "$value" ] && [[ $value =~ ^https?:// || $name == PIP_TRUSTED_HOST ]]; then
        build_args+=(--build-arg "$name=$value")
    fi
done
old_id=$(pm image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
log "building $IMAGE from $ROOT/Dockerfile"
# --format docker: the OCI image format has no HEALTHCHECK, and podman would drop it.
pm build --format docker --layers --network=host "${build_args[@]}" --tag "$IMAGE" \
    --file "$ROOT/Dockerfile" "$ROOT" >"$WORK/build.log" 2>&1 ||
    {
        cat "$WORK/build.log" >&2
        die "podman build failed (log above)"
    }
new_id=$(pm image inspect --format '{{.Id}}' "$IMAGE") || die "the build made no image $IMAGE"
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
    pm rmi "$old_id" >/dev/null 2>&1 || true # the previous build of this tag; keeps the disk from filling
fi
[ "$(pm image inspect --format '{{.Config.Healthcheck.Test}}' "$IMAGE")" = "[CMD alloy-mock healthcheck]" ] ||
    die "the image has no HEALTHCHECK (was it built with --format docker?)"

# --- smoke test ---------------------------------------------------------------------------------------
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_is_free() {
    # SO_REUSEADDR, as the server binds: connections of an earlier run in TIME_WAIT don't count.
    python3 -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))' "$1" 2>/dev/null
}

# The containers use the host's network (no port mapping is needed, or possible everywhere podman
# runs); the port is therefore chosen free on the host, and given with ALLOY_MOCK_PORT.
start() { # name port [podman run options]
    local name=$1 port=$2
    shift 2
    CONTAINERS+=("$name")
    pm run --detach --name "$name" --network=host "$@" \
        -e "ALLOY_MOCK_PORT=$port" -e "ALLOY_MOCK_DEV_KEY=$DEV_KEY" -e "ALLOY_MOCK_PROD_KEY=$PROD_KEY" \
        --volume "$VOLUME:/data" "$IMAGE" >/dev/null || die "podman run $name failed"
}

# Ready when the image's own HEALTHCHECK passes; bounded, and fails at once if the container exits.
wait_healthy() { # name
    local name=$1 attempt state
    for attempt in $(seq 1 100); do
        if pm healthcheck run "$name" >/dev/null 2>&1; then
            log "$name is healthy (HEALTHCHECK passed at attempt $attempt)"
            return 0
        fi
        state=$(pm inspect --format '{{.State.Status}}' "$name" 2>/dev/null || echo gone)
        [ "$state" = running ] || die_with_logs "$name" "the container stopped before it became healthy ($state)"
        sleep 0.2
    done
    die_with_logs "$name" "the container did not become healthy after 100 health checks"
}

# curl that prints the body to stdout and the status code as the last line.
call() { # method url key [body]
    local args=(-sS -X "$1" -w '\n%{http_code}' -H "Authorization: Bearer $3" --max-time 10)
    [ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data "$4")
    curl "${args[@]}" "$2" || die "curl $1 $2 failed"
}
status_of() { tail -n 1 <<<"$1"; }
body_of() { sed '$d' <<<"$1"; }
json_field() { # json field
    python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2" 2>/dev/null ||
        die "no \"$2\" in the answer: $1"
}

stop_cleanly() { # name
    local name=$1 code
    pm stop --time 15 "$name" >/dev/null || die "podman stop $name failed"
    code=$(pm inspect --format '{{.State.ExitCode}}' "$name") || die "podman inspect $name failed"
    [ "$code" = 0 ] || die_with_logs "$name" "$name exited with $code on SIGTERM, not 0"
    log "$name stopped on SIGTERM with exit code 0"
}

PORT=$(free_port) || die "cannot find a free port"
BASE=http://127.0.0.1:$PORT
FIRST=$RUN_ID-first
log "starting $FIRST on port $PORT with volume $VOLUME"
start "$FIRST" "$PORT"
wait_healthy "$FIRST"
# It listens on 0.0.0.0 with no admin token: it must say that /_mock is open to whoever reaches the port.
pm logs "$FIRST" 2>&1 | grep -q "warning: listening on 0.0.0.0 without an admin token" ||
    die_with_logs "$FIRST" "no start-up warning that the control API is open without an admin token"
log "the server warns that the control API is open without an admin token"

health=$(curl -fsS --max-time 10 "$BASE/health") || die "GET /health failed"
[ "$(json_field "$health" status)" = ok ] || die "GET /health: $health"
[ "$(json_field "$health" persistent)" = True ] || die "the database is not on disk: $health"
log "GET /health: $health"

uid=$(pm exec "$FIRST" cat /proc/1/status | awk '/^Uid:/ {print $2}') || die "podman exec $FIRST failed"
[[ -n $uid && $uid != 0 ]] || die "the server runs as uid '${uid}', not as a non-root user"
log "the server (pid 1) runs as uid $uid"

answer=$(call POST "$BASE/$API_VERSION/users" "$DEV_KEY" '{"username": "smoke@example.com", "fullName": "Smoke Test"}')
[ "$(status_of "$answer")" = 200 ] || die "POST /users with the dev key: $answer"
user_id=$(json_field "$(body_of "$answer")" userId)
log "created user $user_id with the dev key"

answer=$(call GET "$BASE/$API_VERSION/users/$user_id/token" "$DEV_KEY")
[ "$(status_of "$answer")" = 200 ] || die "GET /users/$user_id/token: $answer"
token=$(json_field "$(body_of "$answer")" token)
[[ $token =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]] || die "the user token is not a JWT: $token"
log "got a user token (${#token} characters)"

answer=$(call GET "$BASE/$API_VERSION/users/$user_id" "$PROD_KEY")
[ "$(status_of "$answer")" = 404 ] || die "the prod key should not see the dev user (want 404): $answer"
answer=$(call GET "$BASE/$API_VERSION/users/$user_id" "not-a-key")
[ "$(status_of "$answer")" = 401 ] || die "an unknown key should get 401: $answer"
log "the prod key gets 404 for the dev user, an unknown key 401"
files=$(pm exec "$FIRST" find /data -mindepth 1 -printf '%u:%s:%p\n') || die "cannot list /data in $FIRST"
grep -q ":/data/db.json" <<<"$files" || die "nothing written to /data/db.json*: $files"
others=$(grep -v "^alloy:" <<<"$files" || true)
[ -z "$others" ] || die "files in /data that the alloy user does not own: $others"
log "the data is in the volume: $(tr '\n' ' ' <<<"$files")"
jwks_before=$(curl -fsS --max-time 10 "$BASE/.well-known/jwks.json") || die "GET /.well-known/jwks.json failed"

stop_cleanly "$FIRST"

# A new container on the same volume, on another port given by ALLOY_MOCK_PORT.
port_is_free "$ALT_PORT" || die "port $ALT_PORT is in use on this machine; free it to run this test"
SECOND=$RUN_ID-second
log "starting $SECOND on port $ALT_PORT (ALLOY_MOCK_PORT) with the same volume and a read-only root"
start "$SECOND" "$ALT_PORT" --read-only
wait_healthy "$SECOND"
ALT=http://127.0.0.1:$ALT_PORT
answer=$(call GET "$ALT/$API_VERSION/users/$user_id" "$DEV_KEY")
[ "$(status_of "$answer")" = 200 ] || die "the user is gone after the restart: $answer"
[ "$(json_field "$(body_of "$answer")" username)" = smoke@example.com ] || die "wrong user after the restart: $answer"
[ "$(curl -fsS --max-time 10 "$ALT/.well-known/jwks.json")" = "$jwks_before" ] ||
    die "the token signing keys changed across the restart"
log "the user and the signing keys are still there on port $ALT_PORT"
if pm exec -e ALLOY_MOCK_PORT=1 "$SECOND" alloy-mock healthcheck >/dev/null 2>&1; then
    die "alloy-mock healthcheck passed against port 1: it does not follow ALLOY_MOCK_PORT"
fi
stop_cleanly "$SECOND"

# The command line after the image name goes to alloy-mock: `IMAGE serve --port N`, `IMAGE --version`.
THIRD=$RUN_ID-flags
PORT3=$(free_port) || die "cannot find a free port"
CONTAINERS+=("$THIRD")
pm run --detach --name "$THIRD" --network=host "$IMAGE" serve --port "$PORT3" --db :memory: >/dev/null ||
    die "podman run IMAGE serve --port $PORT3 failed"
for attempt in $(seq 1 100); do
    curl -fsS --max-time 2 "http://127.0.0.1:$PORT3/health" >/dev/null 2>&1 && break
    [ "$(pm inspect --format '{{.State.Status}}' "$THIRD" 2>/dev/null)" = running ] ||
        die_with_logs "$THIRD" "podman run IMAGE serve --port $PORT3: the container stopped"
    [ "$attempt" -lt 100 ] || die_with_logs "$THIRD" "podman run IMAGE serve --port $PORT3: no answer on /health"
    sleep 0.1
done
log "podman run IMAGE serve --port $PORT3 --db :memory: answers on port $PORT3"
stop_cleanly "$THIRD"
version=$(pm run --rm --network=none "$IMAGE" --version) || die "podman run IMAGE --version failed"
log "podman run IMAGE --version: $version"
# No compiler was left in the image.
compilers=$(pm run --rm --network=none --entrypoint sh "$IMAGE" -c 'command -v gcc cc c++ clang || true')
[ -z "$compilers" ] || die "the image holds a compiler: $compilers"

size=$(pm image inspect --format '{{.Size}}' "$IMAGE") || die "podman image inspect $IMAGE failed"
base_size=$(pm image inspect --format '{{.Size}}' "$BASE_IMAGE") || die "podman image inspect $BASE_IMAGE failed"
log "image $IMAGE: $((size / 1000000)) MB ($((base_size / 1000000)) MB of it the base $BASE_IMAGE)"
log "container test passed in $((SECONDS - START)) s"
