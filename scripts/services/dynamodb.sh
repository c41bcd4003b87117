# DynamoDB for the tests: moto's server (a DynamoDB emulator from PyPI), pinned, in a
# venv under $ROOT/.venv that is reused when present. Exports
# OPTIMIST_DYNAMODB_ENDPOINT (read by backend-dynamodb's tests) and
# OPTIMIST_DYNAMODB_SERVER (the name the tests print), plus dummy credentials for
# the boto3 interop script.

MOTO_VERSION=5.2.5

start_service_dynamodb() {
    local venv="$ROOT/.venv/moto"
    if ! "$venv/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
        log "installing moto[server]==$MOTO_VERSION into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
    fi
    local port
    port=$(free_port)
    mkdir -p "$OPTIMIST_TMP"
    "$venv/bin/python" -m moto.server -H 127.0.0.1 -p "$port" >"$OPTIMIST_TMP/moto.log" 2>&1 &
    local pid=$!
    CLEANUP+=("kill $pid")
    wait_for_port "$port" 60
    export OPTIMIST_DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
    export OPTIMIST_DYNAMODB_SERVER="moto $MOTO_VERSION"
    export OPTIMIST_DYNAMODB_PYTHON="$venv/bin/python"
    log "DynamoDB: moto $MOTO_VERSION at $OPTIMIST_DYNAMODB_ENDPOINT (pid $pid)"
}
