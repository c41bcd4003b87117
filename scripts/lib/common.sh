# Helpers shared by scripts/test, scripts/bench-report, scripts/instructions and
# scripts/services/*.sh.

log() { printf '[scripts/test] %s\n' "$*" >&2; }

# Commands run when the script exits, the last added first: each server started adds
# the command that stops it.
CLEANUP=()
cleanup() {
    local i
    for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do
        eval "${CLEANUP[i]}" || true
    done
}
trap cleanup EXIT

# Starts the server each named backend's tests and benches need
# (scripts/services/NAME.sh), for those that need one.
start_services_of() {
    local backend service
    for backend in "$@"; do
        service="scripts/services/$backend.sh"
        [ -e "$service" ] || continue
        # shellcheck source=/dev/null
        source "$service"
        log "starting $backend"
        "start_service_$backend"
    done
}

# A TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits until something accepts TCP connections on 127.0.0.1:$1, for at most $2 seconds.
wait_for_port() {
    local port=$1 deadline=$((SECONDS + ${2:-60}))
    until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do
        if ((SECONDS > deadline)); then
            log "nothing listens on 127.0.0.1:$port after ${2:-60}s"
            return 1
        fi
        sleep 0.2
    done
}

APT_UPDATED=0
# Installs Debian package $2 unless command $1 (a name on PATH or an absolute path) exists.
ensure_debian_package() {
    local command=$1 package=$2
    if command -v "$command" >/dev/null 2>&1 || [ -x "$command" ]; then
        return 0
    fi
    log "installing Debian package $package (for $command)"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    if [ "$APT_UPDATED" -eq 0 ]; then
        $sudo apt-get update -qq
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$package" >/dev/null
}
