# DynamoDB for the tests: moto's server (a DynamoDB emulator from PyPI), pinned, in a
# venv under $ROOT/.venv that is reused when present. Exports
# OPTIMIST_DYNAMODB_ENDPOINT (read by backend-dynamodb's tests) and
# OPTIMIST_DYNAMODB_SERVER (the name the tests print), and the venv's python, with
# boto3 and PynamoDB, for the interop scripts (OPTIMIST_DYNAMODB_PYTHON).

MOTO_VERSION=5.2.5
# PynamoDB, for the interop test of its own optimistic locking (VersionAttribute).
PYNAMODB_VERSION=6.1.0

# moto's own server handles requests on threads without locking its tables, so two
# conditional writes racing on one item can both pass their condition (lost updates).
# DynamoDB applies each request atomically; to match it, moto's app runs behind one
# lock here: requests still arrive concurrently, but each is applied alone.
MOTO_ATOMIC_SERVER='
import os, sys, threading
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

host, port = sys.argv[1], int(sys.argv[2])
os.environ.setdefault("MOTO_PORT", str(port))
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()

def atomic(environ, start_response):
    with lock:
        return list(app(environ, start_response))

run_simple(host, port, atomic, threaded=True, request_handler=MotoRequestHandler)
'

start_service_dynamodb() {
    local venv="$ROOT/.venv/moto"
    if ! "$venv/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
        log "installing moto[server]==$MOTO_VERSION into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
    fi
    if ! "$venv/bin/python" -c "import pynamodb, sys; sys.exit(pynamodb.__version__ != '$PYNAMODB_VERSION')" 2>/dev/null; then
        log "installing pynamodb==$PYNAMODB_VERSION into $venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "pynamodb==$PYNAMODB_VERSION"
    fi
    local port
    port=$(free_port)
    mkdir -p "$OPTIMIST_TMP"
    "$venv/bin/python" -c "$MOTO_ATOMIC_SERVER" 127.0.0.1 "$port" >"$OPTIMIST_TMP/moto.log" 2>&1 &
    local pid=$!
    CLEANUP+=("kill $pid")
    wait_for_port "$port" 60
    export OPTIMIST_DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
    export OPTIMIST_DYNAMODB_SERVER="moto $MOTO_VERSION (requests applied one at a time)"
    export OPTIMIST_DYNAMODB_PYTHON="$venv/bin/python"
    log "DynamoDB: moto $MOTO_VERSION at $OPTIMIST_DYNAMODB_ENDPOINT (pid $pid)"
}
