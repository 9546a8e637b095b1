#!/usr/bin/env bash
# Everything `make test` needs, on any machine, as root; safe to run again and again:
# each step checks first and only acts when something is missing or not running.
#
#   1. the virtualenv (make install: skipped while .venv/.installed is newer than pyproject.toml)
#   2. Debian packages (scripts/apt-ensure.sh: only the missing ones)
#   3. PostgreSQL answering passwordless (trust) on 127.0.0.1:$PG_PORT as user postgres,
#      and the database $PG_TEST_DB in it
#   4. Redis answering on 127.0.0.1:$REDIS_PORT
#   5. npm packages (axe-core for the browser tests, the design tokens; Uppy and esbuild, with
#      which a test rebuilds static/js/uploader.js to check it has not drifted)
#   6. compiled gettext catalogues
#
# Run a subset with: scripts/test-setup.sh STEP...   (steps: venv apt postgres redis npm messages)
# Environment: PG_PORT (5432); PG_TEST_DB (the database DATABASE_URL names on this server, else
# denshi_test); PG_TRUST_DIR (where a private trust cluster is made if needed:
# /var/lib/postgresql/denshi-trust-$PG_PORT); REDIS_PORT (6379).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

PG_PORT=${PG_PORT:-5432}
# The database to create: the one DATABASE_URL names when it points at this server.
if [ -z "${PG_TEST_DB:-}" ] &&
    [[ "${DATABASE_URL:-}" =~ ^postgres(ql)?://([^@/]*@)?(127\.0\.0\.1|localhost)(:$PG_PORT)?/([A-Za-z0-9_]+)$ ]]; then
    PG_TEST_DB=${BASH_REMATCH[5]}
fi
PG_TEST_DB=${PG_TEST_DB:-denshi_test}
PG_TRUST_DIR=${PG_TRUST_DIR:-/var/lib/postgresql/denshi-trust-$PG_PORT}
REDIS_PORT=${REDIS_PORT:-6379}

APT_PACKAGES=(
    clamav-daemon       # clamd: the malware scan tests start their own (tests/scanning/clamd.py)
    chromium            # browser tests (Playwright drives /usr/bin/chromium; no browser download)
    fonts-noto-cjk      # Japanese glyphs in PDFs and screenshots
    gettext             # msgfmt for compilemessages
    poppler-utils       # pdffonts / pdftoppm to check generated PDFs
    zbar-tools          # zbarimg: the receipt PDF's QR code is decoded from its raster
    libpango-1.0-0      # WeasyPrint
    libpangoft2-1.0-0   # WeasyPrint
    libharfbuzz-subset0 # WeasyPrint font subsetting
    postgresql
    redis-server
    wrk                 # load generator of the benchmark smoke test
)

log() { printf '\n== test-setup: %s\n' "$*"; }
die() {
    printf 'test-setup: ERROR: %s\n' "$*" >&2
    exit 1
}

step_venv() {
    log "python environment"
    make --no-print-directory install
}

step_apt() {
    log "Debian packages"
    local pkgs=("${APT_PACKAGES[@]}")
    # Node.js and npm for axe-core, only if this machine has no npm at all.
    command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
    scripts/apt-ensure.sh "${pkgs[@]}"
}

# --- PostgreSQL ---------------------------------------------------------------------------

pg_trust_ok() {
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -w -Atqc 'select 1' >/dev/null 2>&1
}

pg_answers() {
    # Something answers on the port (it may still want a password).
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" >/dev/null 2>&1
}

pg_bindir() {
    local v
    v=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -1)
    [ -n "$v" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql"
    echo "/usr/lib/postgresql/$v/bin"
}

as_postgres() {
    if [ "$(id -un)" = postgres ]; then
        "$@"
    elif [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        die "need root (or the postgres user) to start PostgreSQL"
    fi
}

pg_start_debian_cluster() {
    # The stock Debian cluster(s), started by hand: there is no systemd here.
    command -v pg_ctlcluster >/dev/null 2>&1 || return 0
    [ -d /etc/postgresql ] || return 0
    local version
    for version in $(ls /etc/postgresql); do
        [ -d "/etc/postgresql/$version/main" ] || continue
        echo "starting Debian cluster $version/main"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>&1 || true
    done
    for _ in $(seq 1 20); do
        pg_answers && return 0
        sleep 0.5
    done
}

pg_debian_cluster_on_port() {
    # Prints "VERSION NAME" of an online Debian cluster listening on $PG_PORT, if any.
    command -v pg_lsclusters >/dev/null 2>&1 || return 0
    pg_lsclusters --no-header 2>/dev/null | awk -v p="$PG_PORT" '$3 == p && $4 ~ /online/ {print $1, $2; exit}'
}

pg_start_private_cluster() {
    local bindir
    bindir=$(pg_bindir)
    id postgres >/dev/null 2>&1 || die "no 'postgres' user (is the postgresql package installed?)"

    if pg_answers; then
        # Something on our port wants a password. Only a Debian cluster we can name is stopped;
        # anything else is left alone and reported.
        local cluster
        cluster=$(pg_debian_cluster_on_port)
        [ -n "$cluster" ] || die "a PostgreSQL server on 127.0.0.1:$PG_PORT refuses passwordless access for user postgres, and it is not a Debian cluster this script may stop. Give it trust auth for 127.0.0.1, or set DATABASE_URL to a server that has it."
        echo "stopping Debian cluster $cluster on port $PG_PORT (it wants a password) to run a trust cluster there"
        # shellcheck disable=SC2086
        pg_ctlcluster --skip-systemctl-redirect $cluster stop
    fi

    mkdir -p "$(dirname "$PG_TRUST_DIR")"
    if [ ! -s "$PG_TRUST_DIR/PG_VERSION" ]; then
        echo "initdb: private trust cluster in $PG_TRUST_DIR"
        rm -rf "$PG_TRUST_DIR"
        install -d -o postgres -g postgres -m 700 "$PG_TRUST_DIR"
        as_postgres "$bindir/initdb" -D "$PG_TRUST_DIR" -U postgres --auth=trust \
            --encoding=UTF8 --locale=C.UTF-8 >"$PG_TRUST_DIR.initdb.log" 2>&1 ||
            {
                cat "$PG_TRUST_DIR.initdb.log" >&2
                die "initdb failed"
            }
    fi
    chown -R postgres:postgres "$PG_TRUST_DIR"
    echo "starting private trust cluster on 127.0.0.1:$PG_PORT"
    # The socket goes into the data directory: /var/run/postgresql may not exist without systemd.
    as_postgres "$bindir/pg_ctl" -D "$PG_TRUST_DIR" -l "$PG_TRUST_DIR/server.log" -w -t 60 \
        -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_TRUST_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start ||
        {
            tail -n 30 "$PG_TRUST_DIR/server.log" >&2 || true
            die "could not start the private PostgreSQL cluster"
        }
}

step_postgres() {
    log "PostgreSQL on 127.0.0.1:$PG_PORT"
    if ! pg_trust_ok; then
        # A private trust cluster of ours, made by an earlier run, comes first.
        if [ -s "$PG_TRUST_DIR/PG_VERSION" ] && ! pg_answers; then
            pg_start_private_cluster
        else
            pg_answers || pg_start_debian_cluster
            pg_trust_ok || pg_start_private_cluster
        fi
    fi
    pg_trust_ok || die "PostgreSQL on 127.0.0.1:$PG_PORT still refuses a passwordless connection as postgres"
    echo "PostgreSQL answers (trust) on 127.0.0.1:$PG_PORT"
    if [ "$(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -w -Atqc \
        "select 1 from pg_database where datname = '$PG_TEST_DB'")" != 1 ]; then
        psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -w -qc "create database \"$PG_TEST_DB\"" ||
            pg_trust_ok # a concurrent run may have created it first
        echo "created database $PG_TEST_DB"
    fi
}

# --- Redis --------------------------------------------------------------------------------

step_redis() {
    log "Redis on 127.0.0.1:$REDIS_PORT"
    if [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" != PONG ]; then
        echo "starting redis-server"
        redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
            --dir /tmp --logfile "/tmp/denshi-redis-$REDIS_PORT.log"
        for _ in $(seq 1 40); do
            [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && break
            sleep 0.25
        done
    fi
    [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] ||
        die "Redis does not answer on 127.0.0.1:$REDIS_PORT"
    echo "Redis answers on 127.0.0.1:$REDIS_PORT"
}

# --- npm ----------------------------------------------------------------------------------

step_npm() {
    log "npm dev packages"
    command -v npm >/dev/null 2>&1 || die "npm not found (scripts/apt-ensure.sh nodejs npm)"
    local marker=node_modules/.package-lock.json
    if [ -f package-lock.json ]; then
        if [ -f "$marker" ] && [ "$marker" -nt package-lock.json ] && [ "$marker" -nt package.json ] &&
            [ -f node_modules/axe-core/axe.min.js ] && [ -f node_modules/esbuild/package.json ]; then
            echo "node_modules up to date"
        else
            npm ci --no-audit --no-fund --loglevel=error
        fi
    else
        npm install --no-audit --no-fund --loglevel=error
    fi
    [ -f node_modules/axe-core/axe.min.js ] || die "node_modules/axe-core/axe.min.js missing after npm"
}

# --- gettext ------------------------------------------------------------------------------

step_messages() {
    log "compile messages"
    make --no-print-directory messages
}

steps=("$@")
[ "${#steps[@]}" -gt 0 ] || steps=(venv apt postgres redis npm messages)
start=$SECONDS
for s in "${steps[@]}"; do
    case "$s" in
    venv | apt | postgres | redis | npm | messages) "step_$s" ;;
    *) die "unknown step '$s' (steps: venv apt postgres redis npm messages)" ;;
    esac
done
printf '\n== test-setup: done in %ss (%s)\n' "$((SECONDS - start))" "$ROOT"
