# A Redis Cluster for optimist-redis's cluster tests: three throwaway redis-server
# primaries in cluster mode (Debian's package, installed when missing) on free loopback
# ports, no persistence, no replicas, one random password, joined by
# `redis-cli --cluster create`. Exports OPTIMIST_REDIS_CLUSTER_URL
# (redis+cluster://default:PASSWORD@127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3).

start_service_redis_cluster() {
    local bin cli
    bin=$(command -v redis-server 2>/dev/null || echo /usr/bin/redis-server)
    if [ ! -x "$bin" ]; then
        ensure_debian_package redis-server redis-server
        bin=$(command -v redis-server 2>/dev/null || echo /usr/bin/redis-server)
    fi
    cli=$(command -v redis-cli 2>/dev/null || echo /usr/bin/redis-cli)
    if [ ! -x "$cli" ]; then
        ensure_debian_package redis-cli redis-tools
        cli=$(command -v redis-cli 2>/dev/null || echo /usr/bin/redis-cli)
    fi
    local root="$OPTIMIST_TMP/redis-cluster" password i port bus dir
    rm -rf "$root"
    mkdir -p "$root"
    password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    local ports=() nodes=()
    for i in 1 2 3; do
        port=$(free_port)
        # The cluster bus port, set explicitly: the default (port + 10000) may be taken.
        bus=$(free_port)
        dir="$root/$i"
        mkdir -p "$dir"
        "$bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
            --cluster-enabled yes --cluster-port "$bus" --cluster-config-file nodes.conf \
            --cluster-node-timeout 5000 --requirepass "$password" --masterauth "$password" \
            --daemonize no >"$dir/redis.log" 2>&1 &
        local pid=$!
        CLEANUP+=("kill $pid")
        if ! wait_for_port "$port" 30; then
            log "redis-server (cluster node $i) did not start; its log:"
            cat "$dir/redis.log" >&2
            return 1
        fi
        ports+=("$port")
        nodes+=("127.0.0.1:$port")
    done
    if ! REDISCLI_AUTH="$password" "$cli" --cluster create "${nodes[@]}" \
        --cluster-replicas 0 --cluster-yes >"$root/create.log" 2>&1; then
        log "redis-cli --cluster create failed; its output:"
        cat "$root/create.log" >&2
        return 1
    fi
    # Every node must see the whole cluster served before a test starts.
    local deadline=$((SECONDS + 60))
    for port in "${ports[@]}"; do
        until REDISCLI_AUTH="$password" "$cli" -p "$port" cluster info 2>/dev/null |
            grep -q '^cluster_state:ok'; do
            if ((SECONDS > deadline)); then
                log "the Redis Cluster is not ok after 60s:"
                REDISCLI_AUTH="$password" "$cli" -p "$port" cluster info >&2 || true
                return 1
            fi
            sleep 0.2
        done
    done
    export OPTIMIST_REDIS_CLUSTER_URL="redis+cluster://default:$password@$(IFS=,; echo "${nodes[*]}")"
    log "Redis Cluster: 3 primaries at 127.0.0.1:${ports[*]} (password hidden)"
}
