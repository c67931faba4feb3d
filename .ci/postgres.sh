#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server for the sealkit-vault migration tests and exports its URL as
# SEALKIT_TEST_POSTGRES_URL. The server accepts TCP clients over TLS only, with a certificate from a
# throw-away CA whose certificate is exported as SEALKIT_TEST_POSTGRES_CA, and the URL says
# sslmode=require, so every PostgreSQL test runs over a verified TLS connection.
#
#   source .ci/postgres.sh      # from .ci/run: exports the variable into the calling shell
#   bash .ci/postgres.sh        # by hand: prints the export line
#
# Idempotent: installs PostgreSQL from Debian's packages only when it is missing, creates the cluster
# only once, and reuses a server that is already running. The server listens on 127.0.0.1 only, on
# its own port, with its data directory under /tmp, so it never touches a system cluster.
#
# Overridable: SEALKIT_PG_PORT (default 54329), SEALKIT_PG_DIR (default /tmp/sealkit-postgres).

sealkit_pg_fail() {
    echo "postgres.sh: $*" >&2
    return 1
}

# The newest installed server's bin directory, or nothing (`|| true`: no match is the normal case on
# a fresh machine, not a failure under pipefail).
sealkit_pg_bindir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true
}

sealkit_pg_main() {
    local port="${SEALKIT_PG_PORT:-54329}"
    local dir="${SEALKIT_PG_DIR:-/tmp/sealkit-postgres}"
    local data="$dir/data"
    local role="sealkit"
    local password="sealkit-test-only"
    local database="sealkit_test"

    # Every step checks its own status: sourced from .ci/run this runs as `sealkit_pg_main ||
    # return 1`, and bash ignores `set -e` inside a function called that way.
    local root=false
    [ "$(id -u)" -eq 0 ] && root=true

    # 1. Install (Debian's packages) when no server binaries are present.
    local bindir=""
    bindir="$(sealkit_pg_bindir)"
    if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
        echo "postgres.sh: installing PostgreSQL from Debian packages" >&2
        local sudo=""
        $root || sudo="sudo"
        $sudo apt-get update -qq || return 1
        # Through env: sudo clears the caller's environment.
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || return 1
        bindir="$(sealkit_pg_bindir)"
        [ -x "$bindir/initdb" ] || { sealkit_pg_fail "no initdb after installing postgresql"; return 1; }
    fi

    # The server refuses to run as root: run it as the `postgres` user the package creates (or the
    # current user when not root).
    local as=()
    if $root; then
        id postgres >/dev/null 2>&1 || { sealkit_pg_fail "user 'postgres' is missing"; return 1; }
        as=(runuser -u postgres --)
    fi

    mkdir -p "$dir" || return 1
    if $root; then chown postgres: "$dir" || return 1; fi

    # 2. Create the cluster once.
    if [ ! -f "$data/PG_VERSION" ]; then
        local pwfile="$dir/superuser.pw"
        printf '%s\n' "$password" >"$pwfile" || return 1
        if $root; then chown postgres: "$pwfile" || return 1; fi
        "${as[@]}" "$bindir/initdb" -D "$data" -U postgres --pwfile="$pwfile" \
            --auth-local=trust --auth-host=scram-sha-256 -E UTF8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; sealkit_pg_fail "initdb failed"; return 1; }
        rm -f "$pwfile" || return 1
    fi

    # TCP clients must use TLS (hostssl only), so a test that connected in plain text would fail
    # rather than pass unnoticed; the local socket serves this script's own setup.
    printf '%s\n' "local all all trust" "hostssl all all 127.0.0.1/32 scram-sha-256" >"$dir/pg_hba.conf" \
        || return 1
    if $root; then chown postgres: "$dir/pg_hba.conf" || return 1; fi

    # 3. A throw-away CA and a server certificate for 127.0.0.1 and localhost, made once.
    local tls="$dir/tls"
    if [ ! -f "$tls/server.pem" ]; then
        mkdir -p "$tls" || return 1
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=sealkit test CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null \
            || { sealkit_pg_fail "could not make the test CA"; return 1; }
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
            -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null \
            || { sealkit_pg_fail "could not make the server key"; return 1; }
        printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
            "extendedKeyUsage=serverAuth" >"$tls/server.ext" || return 1
        openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
            -CAcreateserial -days 3650 -extfile "$tls/server.ext" -out "$tls/server.pem" 2>/dev/null \
            || { sealkit_pg_fail "could not sign the server certificate"; return 1; }
        rm -f "$tls/ca.key" "$tls/server.csr" || return 1
        chmod 600 "$tls/server.key" || return 1
        if $root; then chown postgres: "$tls/server.key" "$tls/server.pem" || return 1; fi
    fi

    # 4. Start it (loopback only, socket in our own directory, TLS on) unless it already runs; a
    # server left from before TLS was set up is restarted with it.
    local options="-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=100 -c fsync=off"
    options+=" -c ssl=on -c ssl_cert_file=$tls/server.pem -c ssl_key_file=$tls/server.key"
    options+=" -c hba_file=$dir/pg_hba.conf"
    if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; then
        if [ "$("${as[@]}" "$bindir/psql" -h "$dir" -p "$port" -U postgres -d postgres -qAt -c "SHOW hba_file")" != "$dir/pg_hba.conf" ]; then
            "${as[@]}" "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null \
                || { sealkit_pg_fail "could not stop the server to turn TLS on"; return 1; }
        fi
    fi
    if ! "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; then
        "${as[@]}" "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 -o "$options" \
            start >/dev/null || { tail -n 20 "$dir/server.log" >&2; sealkit_pg_fail "server did not start"; return 1; }
    fi

    # 5. The test role and database (idempotent).
    local psql=("${as[@]}" "$bindir/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt)
    if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" != "1" ]; then
        "${psql[@]}" -c "CREATE ROLE $role LOGIN PASSWORD '$password'" >/dev/null || return 1
    fi
    if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$database'")" != "1" ]; then
        "${psql[@]}" -c "CREATE DATABASE $database OWNER $role" >/dev/null || return 1
    fi

    export SEALKIT_TEST_POSTGRES_URL="postgres://$role:$password@127.0.0.1:$port/$database?sslmode=require"
    export SEALKIT_TEST_POSTGRES_CA="$tls/ca.pem"
    echo "export SEALKIT_TEST_POSTGRES_URL='$SEALKIT_TEST_POSTGRES_URL'"
    echo "export SEALKIT_TEST_POSTGRES_CA='$SEALKIT_TEST_POSTGRES_CA'"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    sealkit_pg_main
else
    sealkit_pg_main || return 1
fi
