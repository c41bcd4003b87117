# PostgreSQL for optimist-postgres's tests and benches: a throwaway cluster under
# "$OPTIMIST_TMP/pg" on a free loopback port, with a password (so the tests cover a URL
# that holds one), exported as OPTIMIST_POSTGRES_URL.
#
# PostgreSQL refuses to run as root, so as root the cluster is owned and run by the
# system user `postgres` (created when missing); as anyone else it runs as that user.

# Prints the directory holding initdb, pg_ctl and postgres: PATH first, then Debian's
# versioned folders (newest first). Prints nothing when there is none.
_pg_bindir() {
    local initdb dir
    if initdb=$(command -v initdb 2>/dev/null) && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$initdb")"
        return 0
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
            echo "$dir"
            return 0
        fi
    done
}

start_service_postgres() {
    local bindir
    bindir=$(_pg_bindir)
    if [ -z "$bindir" ]; then
        ensure_debian_package /usr/lib/postgresql/bin/initdb postgresql
        bindir=$(_pg_bindir)
    fi
    if [ -z "$bindir" ]; then
        log "postgres: no initdb/pg_ctl found, even after installing Debian's postgresql"
        return 1
    fi

    # Who runs the server: ourselves, or `postgres` when we are root.
    local -a as_owner=()
    local owner
    owner=$(id -un)
    if [ "$(id -u)" -eq 0 ]; then
        owner=postgres
        if ! id -u "$owner" >/dev/null 2>&1; then
            log "postgres: creating system user $owner (PostgreSQL refuses to run as root)"
            useradd --system --no-create-home --shell /usr/sbin/nologin "$owner"
        fi
        as_owner=(runuser -u "$owner" --)
    fi

    local data="$OPTIMIST_TMP/pg"
    # A cluster left by an earlier run: stop it if it still runs, then start afresh.
    if [ -f "$data/cluster/postmaster.pid" ]; then
        "${as_owner[@]}" "$bindir/pg_ctl" stop -D "$data/cluster" -m immediate >/dev/null 2>&1 || true
    fi
    rm -rf "$data"
    mkdir -p "$data"
    [ "$(id -u)" -ne 0 ] || chown "$owner" "$data"
    if ! "${as_owner[@]}" test -w "$data"; then
        # The tmp folder's parents are closed to the server's user (a home folder, say).
        data=$(mktemp -d /tmp/optimist-pg.XXXXXX)
        CLEANUP+=("rm -rf '$data'")
        [ "$(id -u)" -ne 0 ] || chown "$owner" "$data"
        log "postgres: $OPTIMIST_TMP is not reachable by $owner; using $data"
    fi
    # Unix socket paths are limited to about 100 bytes.
    local sockets="$data/run"
    if [ "${#sockets}" -gt 90 ]; then
        sockets=$(mktemp -d /tmp/optimist-pg-run.XXXXXX)
        CLEANUP+=("rm -rf '$sockets'")
        [ "$(id -u)" -ne 0 ] || chown "$owner" "$sockets"
    else
        "${as_owner[@]}" mkdir -p "$sockets"
    fi

    local user=optimist db=optimist port password
    password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    printf '%s\n' "$password" >"$data/pwfile"
    [ "$(id -u)" -ne 0 ] || chown "$owner" "$data/pwfile"
    chmod 600 "$data/pwfile"
    "${as_owner[@]}" "$bindir/initdb" -D "$data/cluster" -U "$user" --pwfile="$data/pwfile" \
        --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 \
        --no-sync >"$data/initdb.log" 2>&1 || {
        cat "$data/initdb.log" >&2
        return 1
    }
    rm -f "$data/pwfile"

    port=$(free_port)
    # Durability is worthless for a throwaway test cluster; speed is not.
    "${as_owner[@]}" "$bindir/pg_ctl" start -D "$data/cluster" -l "$data/server.log" -w -t 60 \
        -o "-p $port -h 127.0.0.1 -k $sockets -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=128MB" \
        >/dev/null || {
        cat "$data/server.log" >&2
        return 1
    }
    CLEANUP+=("${as_owner[*]} $bindir/pg_ctl stop -D $data/cluster -m fast >/dev/null")
    wait_for_port "$port" 60
    local psql="$bindir/psql"
    [ -x "$psql" ] || psql=psql
    "${as_owner[@]}" "$psql" -h "$sockets" -p "$port" -U "$user" -d postgres -qAt \
        -c "CREATE DATABASE $db" >/dev/null
    export OPTIMIST_POSTGRES_URL="postgres://$user:$password@127.0.0.1:$port/$db"
    log "postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $data)"
}
