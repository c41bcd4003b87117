# Redis for optimist-redis's tests and benches: a throwaway redis-server (Debian's
# package, installed when missing) on a free loopback port, no persistence, with a
# random password so the tests cover a URL that holds one. Exports OPTIMIST_REDIS_URL.

start_service_redis() {
    local bin
    bin=$(command -v redis-server 2>/dev/null || echo /usr/bin/redis-server)
    if [ ! -x "$bin" ]; then
        ensure_debian_package redis-server redis-server
        bin=$(command -v redis-server 2>/dev/null || echo /usr/bin/redis-server)
    fi
    # Debian's package starts its own server on 6379 where systemd runs; ours is
    # separate and stops with the tests.
    local dir="$OPTIMIST_TMP/redis" port password
    mkdir -p "$dir"
    port=$(free_port)
    password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    "$bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
        --requirepass "$password" --daemonize no >"$dir/redis.log" 2>&1 &
    local pid=$!
    CLEANUP+=("kill $pid")
    if ! wait_for_port "$port" 30; then
        log "redis-server did not start; its log:"
        cat "$dir/redis.log" >&2
        return 1
    fi
    export OPTIMIST_REDIS_URL="redis://default:$password@127.0.0.1:$port"
    log "Redis: $("$bin" --version | awk '{print $3}') at redis://***@127.0.0.1:$port (pid $pid)"
}
