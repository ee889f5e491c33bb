#!/usr/bin/env bash
# Install the Doorstep central server on a Debian 12 (bookworm) or 13 (trixie) server, or
# upgrade it in place: run it again at any time, it changes only what is not as it should be.
#
#   git clone <doorstep repository> /srv/doorstep && cd /srv/doorstep
#   sudo scripts/install-central.sh
#
# What it does (each step is skipped when already done):
#   1. apt packages: Python and its venv module (and postgresql-client for a PostgreSQL URL)
#   2. the `doorstep-central` system user (/usr/lib/sysusers.d/doorstep-central.conf)
#   3. folders (/usr/lib/tmpfiles.d/doorstep-central.conf): /etc/doorstep-central 0750
#      root:doorstep-central, /var/lib/doorstep-central and /var/backups/doorstep-central 0700
#   4. the program: a venv with this checkout's server extra, /opt/doorstep-central/venv-<hash>
#      (built only when the source changed), and the symlink /opt/doorstep-central/venv to it
#   5. /etc/doorstep-central/central.toml (0640), only if there is none, with a new random
#      secret; an existing one is kept. Either way it is checked, and a bad one stops here.
#   6. the systemd units (server, nightly backup and its timer), /usr/local/bin/kiosk-central
#   7. the database schema (kiosk-central migrate, as the server's user)
#   8. enables the server and the backup timer, and (re)starts the server
# and finally prints what is left to do (Caddy in front, kiosks to enrol, the doctor).
# docs/central.md tells the whole story (TLS, PostgreSQL, backups, restore, upgrade, monitoring).
#
# Options:
#   --database-url URL    [database] url for a new central.toml (default: the SQLite file
#                         /var/lib/doorstep-central/central.sqlite3)
#   --host ADDR, --port N where the server listens, for a new central.toml (default
#                         127.0.0.1 and 8700: behind a reverse proxy on this machine)
#   --trusted-proxies L   comma-separated proxies for a new central.toml (default 127.0.0.1,::1)
#   --root DIR            install into DIR instead of / (CI, or preparing an image): no apt, no
#                         useradd, no systemctl start; prints what it would have done instead
#   --prebuilt-venv DIR   do not build: link this existing environment (CI and offline tests)
#   --no-venv             do not build the venv (nor check the config with it)
#   --no-start            install and enable, but do not migrate, start or restart anything
set -euo pipefail

ROOT=""
DATABASE_URL="sqlite:////var/lib/doorstep-central/central.sqlite3"
HOST="127.0.0.1"
PORT="8700"
PROXIES="127.0.0.1,::1"
PREBUILT=""
NO_VENV=0
START=1

APT_PACKAGES=(python3 python3-venv ca-certificates)

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# say, die, put, missing_packages, run_or_show (shared with install-pi.sh).
# shellcheck source=scripts/install-lib.sh
. "$HERE/scripts/install-lib.sh"

while (($#)); do
  case "$1" in
    --root) ROOT="${2:?--root needs a folder}"; shift 2 ;;
    --database-url) DATABASE_URL="${2:?}"; shift 2 ;;
    --host) HOST="${2:?}"; shift 2 ;;
    --port) PORT="${2:?}"; shift 2 ;;
    --trusted-proxies) PROXIES="${2:?}"; shift 2 ;;
    --prebuilt-venv) PREBUILT="${2:?--prebuilt-venv needs a folder}"; shift 2 ;;
    --no-venv) NO_VENV=1; shift ;;
    --no-start) START=0; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

# What goes into TOML strings: nothing that could end the string or the line.
[[ "$DATABASE_URL" =~ ^[A-Za-z0-9+.:/@%_?=\&~-]+$ ]] || die "--database-url: a plain URL like postgresql://user:pass@host/db"
[[ "$HOST" =~ ^[A-Za-z0-9.:-]+$ ]] || die "--host must be an address like 127.0.0.1"
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || ((PORT < 1 || PORT > 65535)); then
  die "--port must be 1-65535"
fi
[[ "$PROXIES" =~ ^[A-Za-z0-9.:/,*]*$ ]] || die "--trusted-proxies: addresses like 127.0.0.1,::1"

ROOT="${ROOT%/}"
if [ -n "$ROOT" ]; then
  mkdir -p "$ROOT"
  ROOT="$(cd "$ROOT" && pwd)"
elif [ "$(id -u)" != 0 ]; then
  die "run as root: sudo $0 $*"
fi
UNITS_SRC="$HERE/systemd"
OPT="$ROOT/opt/doorstep-central"
VENV="$OPT/venv"
CONFIG="$ROOT/etc/doorstep-central/central.toml"
LEFT=() # what the admin still has to do, printed at the end

# -- 0. is this the right machine? ----------------------------------------------------------------
if [ -z "$ROOT" ] && [ -r /etc/os-release ]; then
  # shellcheck source=/dev/null
  codename="$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")"
  case "$codename" in
    bookworm | trixie) ;;
    *) say "warning: made for Debian 12 (bookworm) or 13 (trixie); this is '${codename:-unknown}'" ;;
  esac
fi

# -- 1. packages ----------------------------------------------------------------------------------
case "$DATABASE_URL" in postgres*) APT_PACKAGES+=(postgresql-client) ;; esac
install_packages "the server" "${APT_PACKAGES[@]}"

# -- 2. the server's user -------------------------------------------------------------------------
put 0644 "$UNITS_SRC/doorstep-central.sysusers" "$ROOT/usr/lib/sysusers.d/doorstep-central.conf" || true
if [ -n "$ROOT" ]; then
  say "skipped (--root): systemd-sysusers doorstep-central.conf (user doorstep-central)"
elif command -v systemd-sysusers >/dev/null; then
  systemd-sysusers doorstep-central.conf
elif ! id doorstep-central >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/doorstep-central --no-create-home \
    --shell /usr/sbin/nologin --comment "Doorstep central server" --user-group doorstep-central
  say "created the system user doorstep-central"
fi

# -- 3. folders -----------------------------------------------------------------------------------
folders_from_tmpfiles "$UNITS_SRC/doorstep-central.tmpfiles" doorstep-central.conf \
  "/etc/doorstep-central (root:doorstep-central), /var/lib/doorstep-central and /var/backups/doorstep-central (doorstep-central)"

# -- 4. the program -------------------------------------------------------------------------------
install -d -m 0755 "$OPT"
# The hash of every file that goes into the package: the same source, the same venv.
hash="$(
  cd "$HERE" &&
    find setup.cfg pyproject.toml kiosk sync central -type f \
      ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 2>/dev/null |
    LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12
)"
# One venv per source, venv-<hash>, and the symlink venv -> the one in use: a venv's scripts name
# the path they were built at, so it is never moved; switching is one rename.
BUILT="venv-$hash"
target=""
if ((NO_VENV)); then
  say "skipped (--no-venv): python3 -m venv ${OPT#"$ROOT"}/$BUILT; pip install '${HERE}[server]'"
elif [ -n "$PREBUILT" ]; then
  [ -x "$PREBUILT/bin/python" ] || die "--prebuilt-venv $PREBUILT has no bin/python"
  target="$(cd "$PREBUILT" && pwd)"
elif [ -f "$OPT/$BUILT/.complete" ]; then
  target="$BUILT"
else
  say "building ${OPT#"$ROOT"}/$BUILT (a few minutes)"
  BUILD="$(mktemp -d)"
  trap 'rm -rf "$BUILD"' EXIT
  # Build from a copy: root-owned build/ and *.egg-info must not be left in the checkout.
  tar -C "$HERE" --exclude=__pycache__ --exclude='*.egg-info' -cf - \
    setup.cfg pyproject.toml README.md kiosk sync central | tar -C "$BUILD" -xf -
  rm -rf "${OPT:?}/$BUILT"
  python3 -m venv "$OPT/$BUILT"
  "$OPT/$BUILT/bin/pip" install --quiet --disable-pip-version-check --upgrade pip wheel
  if ! "$OPT/$BUILT/bin/pip" install --quiet --disable-pip-version-check "${BUILD}[server]"; then
    rm -rf "${OPT:?}/$BUILT"
    die "pip could not install $HERE; the installed program (if any) is unchanged"
  fi
  touch "$OPT/$BUILT/.complete"
  target="$BUILT"
fi
if [ -n "$target" ] && [ "$(readlink "$VENV" 2>/dev/null || true)" != "$target" ]; then
  [ -L "$VENV" ] || rm -rf "$VENV"
  ln -sfn "$target" "$VENV.switch"
  mv -T "$VENV.switch" "$VENV"
  say "the program is now ${target#"$OPT/"}"
fi
if [ -n "$target" ]; then # older builds go once the new one is in use
  for old in "$OPT"/venv-*; do
    if [ -e "$old" ] && [ "${old##*/}" != "$target" ]; then
      rm -rf "$old"
    fi
  done
fi

# -- 5. the configuration -------------------------------------------------------------------------
if [ ! -f "$CONFIG" ]; then
  secret="$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  proxies=""
  if [ -n "$PROXIES" ]; then
    proxies="\"${PROXIES//,/\", \"}\""
  fi
  tmp="$(mktemp)"
  cat >"$tmp" <<EOF
# Doorstep central server configuration (kiosk-central reads it at every start; a wrong key
# stops it with a message naming the key: journalctl -u doorstep-central). Check the server
# with: kiosk-central doctor. docs/central.md describes every key.

[database]
# SQLite (the default) or PostgreSQL: postgresql://doorstep:PASSWORD@localhost/doorstep
url = "$DATABASE_URL"

[server]
# Where kiosk-central serve listens: loopback, behind Caddy on this machine (docs/central.md).
host = "$HOST"
port = $PORT
# The reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed.
trusted_proxies = [$proxies]
# Prometheus sends this as a bearer token to read /metrics. Keep it secret.
secret = "$secret"
# Without a proxy, the server can speak HTTPS itself:
# tls_certfile = "/etc/doorstep-central/tls/server.pem"
# tls_keyfile = "/etc/doorstep-central/tls/server.key"

[backup]
# Nightly backups (doorstep-central-backup.timer), kept this many days (the newest always).
folder = "/var/backups/doorstep-central"
keep_days = 14
EOF
  install -m 0640 "$tmp" "$CONFIG"
  rm -f "$tmp"
  say "wrote /etc/doorstep-central/central.toml (with a new secret)"
else
  say "kept the existing /etc/doorstep-central/central.toml"
fi
chmod 0640 "$CONFIG"
if [ -z "$ROOT" ]; then
  chown root:doorstep-central "$CONFIG"
fi
if ((NO_VENV)); then
  say "skipped (--no-venv): checking central.toml"
elif ! problem="$("$VENV/bin/python" -c '
import sys
from pathlib import Path
from central.config import ConfigError, load_config
try:
    load_config(Path(sys.argv[1]))
except ConfigError as exc:
    sys.exit(str(exc))
' "$CONFIG" 2>&1)"; then
  die "the configuration is not right: ${problem}
  fix it, then run this again"
else
  say "checked /etc/doorstep-central/central.toml: ok"
fi

# -- 6. units and the admin command ---------------------------------------------------------------
units_changed=0
for unit in doorstep-central.service doorstep-central-backup.service doorstep-central-backup.timer; do
  put 0644 "$UNITS_SRC/$unit" "$ROOT/etc/systemd/system/$unit" && units_changed=1
done
put 0755 "$HERE/scripts/kiosk-central-wrapper.sh" "$ROOT/usr/local/bin/kiosk-central" || true

# -- 7, 8. schema, enable, start ------------------------------------------------------------------
enable=(doorstep-central.service doorstep-central-backup.timer)
if ! command -v systemctl >/dev/null; then
  say "skipped (no systemctl here): systemctl enable ${enable[*]}"
  LEFT+=("enable the units where systemd runs: systemctl enable ${enable[*]}")
elif [ -n "$ROOT" ]; then
  systemctl --root="$ROOT" --quiet enable "${enable[@]}" 2>/dev/null
  say "enabled in $ROOT: ${enable[*]}"
else
  systemctl --quiet enable "${enable[@]}"
fi
if ((START)); then
  if [ -n "$ROOT" ]; then
    say "skipped (--root): kiosk-central migrate (as doorstep-central)"
  elif ((!NO_VENV)); then
    runuser -u doorstep-central -- "$VENV/bin/kiosk-central" --config /etc/doorstep-central/central.toml migrate ||
      die "kiosk-central migrate failed (above): the server was not restarted"
  fi
  if ((units_changed)); then
    run_or_show systemctl daemon-reload
  fi
  run_or_show systemctl start doorstep-central-backup.timer
  run_or_show systemctl restart doorstep-central.service ||
    LEFT+=("the server did not start: journalctl -u doorstep-central -b")
fi

# -- what is left to do ---------------------------------------------------------------------------
LEFT+=("put Caddy in front for HTTPS (docs/central.md, \"TLS\"); the server listens on $HOST:$PORT")
LEFT+=("add organisations, sites and kiosks: kiosk-central org add ...; kiosk-central device add ...")
LEFT+=("check the server: kiosk-central doctor   (every line should start with ok)")

echo
echo "The Doorstep central server is installed (source $hash)."
echo "Left to do:"
n=1
for item in "${LEFT[@]}"; do
  printf '  %d. %s\n' "$n" "$item"
  n=$((n + 1))
done
