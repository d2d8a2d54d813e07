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

# venv_ensure REQUIREMENTS_FILE: create .venv if needed and install the file when it changed.
venv_ensure() {
    local req="$ROOT/$1" stamp
    if [ ! -x "$PY" ]; then
        say "creating $VENV"
        if ! "${PYTHON:-python3}" -m venv "$VENV"; then
            # Debian's python3 needs python3-venv for ensurepip.
            rm -rf "$VENV"
            apt_ensure_pkg python3-venv
            "${PYTHON:-python3}" -m venv "$VENV" || die "could not create a virtualenv in $VENV"
        fi
    fi
    # Reinstall only when the requirement files changed since the last successful install.
    stamp="$VENV/.installed-$(basename "$1")"
    local sum
    sum="$(cat "$ROOT"/requirements*.txt | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
        say "installing Python packages from $1"
        # (This machine's pip configuration names index folders that may be absent; drop that noise only.)
        "$PY" -m pip install -q -r "$req" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2) \
            || die "pip install -r $1 failed"
        echo "$sum" > "$stamp"
    fi
    # The `ngc` command-line client (ngc_cli/, pyproject.toml), installed editable as .venv/bin/ngc.
    if ! grep -qs "ngc_cli.main" "$VENV/bin/ngc"; then
        say "installing the ngc command-line client (pip install -e .)"
        "$PY" -m pip install -q --no-deps -e "$ROOT" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2) \
            || die "pip install -e . (the ngc client) failed"
    fi
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
