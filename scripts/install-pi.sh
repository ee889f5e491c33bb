#!/usr/bin/env bash
# Install the Doorstep kiosk on a fresh Raspberry Pi OS (Bookworm; Pi 3, 4 or 5), or upgrade it
# in place: run it again at any time, it changes only what is not as it should be.
#
#   git clone <doorstep repository> ~/doorstep && cd ~/doorstep
#   sudo scripts/install-pi.sh --device-id kiosk-hall-1 --site hall \
#        --endpoint https://central.example.org
#
# What it does (each step is skipped when already done):
#   1. apt packages: Python, a compiler for spidev/evdev, the GPU and touch libraries Kivy uses
#   2. SPI on (dtparam=spi=on in /boot/firmware/config.txt; a reboot makes it take effect)
#   3. the `kiosk` system user and its groups (/usr/lib/sysusers.d/doorstep.conf)
#   4. folders with tight permissions (/usr/lib/tmpfiles.d/doorstep.conf): /etc/doorstep 0750
#      root:kiosk, /var/lib/doorstep and /var/backups/doorstep 0750 kiosk:kiosk
#   5. /etc/doorstep/kiosk.toml, only if there is none (an existing one is checked, not touched)
#   6. the systemd units, the journald size limits, and /usr/local/bin/kiosk-admin
#   7. the program itself: scripts/update.sh builds a venv in /opt/doorstep/releases/, checks
#      it and switches /opt/doorstep/current to it
#   8. enables the units (kiosk app on tty1, sync daemon, nightly backup timer) and starts them
# and finally prints what is left to do (the device token, a reboot for SPI...).
#
# It needs a 64-bit OS (Raspberry Pi OS 64-bit, arm64): on a 32-bit one it stops at once and says
# why (Kivy has no wheel there, and its source build fails). Without systemd-sysusers it adds the
# user and groups with useradd/groupadd; without systemctl, or with systemd not running (a chroot,
# a container), it says which systemctl steps it skipped.
#
# Options:
#   --device-id ID, --site SITE, --endpoint URL, --reader rc522|usb|fake
#                        values for a new /etc/doorstep/kiosk.toml (ignored if it exists)
#   --journal volatile|persistent
#                        where the journal keeps logs (default volatile: RAM, no SD wear)
#   --root DIR           install into DIR instead of / (CI, or preparing an image): no apt, no
#                        useradd, no systemctl start; prints what it would have done instead.
#                        Nothing comes from the machine it runs on: the default device id is
#                        made from DIR/etc/hostname, packages are checked in DIR's dpkg database
#   --no-venv, --prebuilt-venv DIR, --wheel FILE
#                        passed to scripts/update.sh (see there)
#   --no-start           install and enable, but do not start or restart anything
set -euo pipefail

ROOT=""
DEVICE_ID=""
SITE=""
ENDPOINT=""
READER="rc522"
JOURNAL="volatile"
START=1
UPDATE_ARGS=()

APT_PACKAGES=(
  python3 python3-venv python3-dev gcc libc6-dev git ca-certificates
  libegl1 libgles2 libgl1 libgl1-mesa-dri libgbm1 libdrm2 libmtdev1 fonts-dejavu-core
)

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# say, die, and the steps that depend on the machine (tests run them on fake machines).
# shellcheck source=scripts/install-lib.sh
. "$HERE/scripts/install-lib.sh"

while (($#)); do
  case "$1" in
    --root) ROOT="${2:?--root needs a folder}"; shift 2 ;;
    --device-id) DEVICE_ID="${2:?}"; shift 2 ;;
    --site) SITE="${2:?}"; shift 2 ;;
    --endpoint) ENDPOINT="${2:?}"; shift 2 ;;
    --reader) READER="${2:?}"; shift 2 ;;
    --journal) JOURNAL="${2:?}"; shift 2 ;;
    --no-start) START=0; shift ;;
    --no-venv) UPDATE_ARGS+=(--no-venv); shift ;;
    --prebuilt-venv | --wheel) UPDATE_ARGS+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

case "$READER" in rc522 | usb | fake) ;; *) die "--reader must be rc522, usb or fake" ;; esac
case "$JOURNAL" in volatile | persistent) ;; *) die "--journal must be volatile or persistent" ;; esac
[[ "$DEVICE_ID$SITE" =~ ^[A-Za-z0-9._-]*$ ]] || die "--device-id and --site: letters, digits, . _ - only"
# The server's URL gets the one check kiosk.toml and kiosk-sync use (sync/endpoint.py, standard
# library only): https unless it is this machine, no user name or password, no query. Refused
# here, it is refused before anything is written, not when doorstep-sync first starts.
if [ -n "$ENDPOINT" ] && command -v python3 >/dev/null; then
  WHY="$(cd "$HERE" && python3 -c 'import sys
from sync.endpoint import EndpointError, check_endpoint
try:
    check_endpoint(sys.argv[1])
except EndpointError as exc:
    print(exc)' "$ENDPOINT" 2>&1)" || die "--endpoint could not be checked: $WHY"
  [ -z "$WHY" ] || die "--endpoint: $WHY"
fi
# What is written into kiosk.toml between quotes: nothing that could end the string.
[[ "$ENDPOINT" =~ ^[A-Za-z0-9.:/_-]*$ ]] || die "--endpoint must be a plain URL like https://central.example.org"

ROOT="${ROOT%/}"
if [ -n "$ROOT" ]; then
  mkdir -p "$ROOT"
  ROOT="$(cd "$ROOT" && pwd)"
fi
# A 32-bit OS is refused before anything else (even before asking for root).
require_64bit
if [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then
  die "run as root: sudo $0 $*"
fi
UNITS_SRC="$HERE/systemd"
LEFT=() # what the admin still has to do, printed at the end
NEED_REBOOT=0

# -- 0. is this the right machine? ---------------------------------------------------------------------
if [ -z "$ROOT" ] && [ -r /etc/os-release ]; then
  # shellcheck source=/dev/null
  codename="$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")"
  case "$codename" in
    bookworm | trixie) ;;
    *) say "warning: made for Raspberry Pi OS Bookworm; this is '${codename:-unknown}'" ;;
  esac
fi

# -- 1. packages ------------------------------------------------------------------------------------------
install_packages "the device" "${APT_PACKAGES[@]}"

# -- 2. SPI ----------------------------------------------------------------------------------------------
boot_config=""
for candidate in "$ROOT/boot/firmware/config.txt" "$ROOT/boot/config.txt"; do
  if [ -f "$candidate" ]; then
    boot_config="$candidate"
    break
  fi
done
if [ -z "$boot_config" ]; then
  say "no /boot/firmware/config.txt: not a Raspberry Pi? SPI left alone"
else
  spi_step "$boot_config"
fi

# -- 3. the kiosk user ------------------------------------------------------------------------------------
put 0644 "$UNITS_SRC/doorstep.sysusers" "$ROOT/usr/lib/sysusers.d/doorstep.conf" || true
if [ -n "$ROOT" ]; then
  say "skipped (--root): systemd-sysusers doorstep.conf (user kiosk; groups video input render spi gpio)"
elif command -v systemd-sysusers >/dev/null; then
  systemd-sysusers doorstep.conf
else
  kiosk_user_without_sysusers
fi

# -- 4. folders ---------------------------------------------------------------------------------------------
folders_from_tmpfiles "$UNITS_SRC/doorstep.tmpfiles" doorstep.conf \
  "/etc/doorstep (root:kiosk), /var/lib/doorstep and /var/backups/doorstep (kiosk:kiosk)"
install -d -m 0755 "$ROOT/opt/doorstep"

# -- 5. the configuration -------------------------------------------------------------------------------------
CONFIG="$ROOT/etc/doorstep/kiosk.toml"
if [ ! -f "$CONFIG" ]; then
  if [ -n "$ROOT" ]; then
    # The image's own name, never the build machine's.
    host="$(head -n1 "$ROOT/etc/hostname" 2>/dev/null || true)"
    host="${host:-unnamed}"
  else
    host="$(hostname 2>/dev/null || echo kiosk)"
  fi
  host="${host//[^A-Za-z0-9._-]/-}"
  device="${DEVICE_ID:-kiosk-${host:0:50}}"
  tmp="$(mktemp)"
  cat >"$tmp" <<EOF
# Doorstep kiosk configuration. Every key is checked at start: a wrong one stops the service
# with a message naming it (journalctl -u doorstep-kiosk). Check it with:
#   kiosk-admin config check
# docs/appliance.md describes every key.

[device]
id = "$device"
site = "${SITE:-unassigned}"

[store]
data = "/var/lib/doorstep"
retention_days = 90

[sync]
# The central server; empty until there is one (check-ins are kept on the kiosk meanwhile).
endpoint = "$ENDPOINT"
# The device token printed by 'kiosk-central device add' (root:kiosk, mode 0640).
token_file = "/etc/doorstep/token"
# ca_file = "/etc/doorstep/ca.pem"   # only for a server with a certificate of its own CA
batch_size = 200
interval = 30

[reader]
# rc522 (SPI), usb (keyboard-style reader) or fake; pins are BCM GPIO numbers.
kind = "$READER"
spi_bus = 0
spi_device = 0
reset_pin = 25
# usb_device = "/dev/input/by-id/usb-...-event-kbd"

[feedback]
enabled = true
led_pin = 17
buzzer_pin = 27
buzzer_active_high = true

[backup]
folder = "/var/backups/doorstep"
keep_days = 14
EOF
  install -m 0640 "$tmp" "$CONFIG"
  rm -f "$tmp"
  say "wrote /etc/doorstep/kiosk.toml for device $device"
  if [ -z "$DEVICE_ID" ]; then
    LEFT+=("check [device] id and site in /etc/doorstep/kiosk.toml (id is now $device)")
  fi
else
  say "kept the existing /etc/doorstep/kiosk.toml"
fi
chmod 0640 "$CONFIG"
if [ -z "$ROOT" ]; then
  chown root:kiosk "$CONFIG"
fi

# -- 6. units, journald, the admin command ---------------------------------------------------------------------
units_changed=0
for unit in doorstep-kiosk.service doorstep-sync.service doorstep-backup.service doorstep-backup.timer; do
  put 0644 "$UNITS_SRC/$unit" "$ROOT/etc/systemd/system/$unit" && units_changed=1
done
journald_conf="$(mktemp)"
sed "s/^Storage=.*/Storage=$JOURNAL/" "$UNITS_SRC/journald-doorstep.conf" >"$journald_conf"
journald_changed=0
put 0644 "$journald_conf" "$ROOT/etc/systemd/journald.conf.d/doorstep.conf" && journald_changed=1
rm -f "$journald_conf"
put 0755 "$HERE/scripts/kiosk-admin-wrapper.sh" "$ROOT/usr/local/bin/kiosk-admin" || true

# -- 7. the program ----------------------------------------------------------------------------------------------
update=("$HERE/scripts/update.sh" --source "$HERE" --no-restart)
[ -n "$ROOT" ] && update+=(--root "$ROOT")
"${update[@]}" "${UPDATE_ARGS[@]}"

# -- 8. enable and start ------------------------------------------------------------------------------------------
enable=(doorstep-kiosk.service doorstep-sync.service doorstep-backup.timer)
if ! command -v systemctl >/dev/null; then
  say "skipped (no systemctl here): systemctl enable ${enable[*]}; systemctl disable getty@tty1.service"
  LEFT+=("enable the units where systemd runs: systemctl enable ${enable[*]}")
elif [ -n "$ROOT" ]; then
  systemctl --root="$ROOT" --quiet enable "${enable[@]}" 2>/dev/null
  say "enabled in $ROOT: ${enable[*]}"
  say "skipped (--root): systemctl disable getty@tty1.service"
else
  run_or_show systemctl daemon-reload
  # enable and disable only write symlinks: they work with systemd not running (a chroot).
  systemctl --quiet enable "${enable[@]}"
  # The app takes over tty1 from the login prompt (Conflicts= in its unit); keep it that way.
  systemctl --quiet disable getty@tty1.service 2>/dev/null || true
fi

if ((journald_changed)); then
  run_or_show systemctl restart systemd-journald
fi
if ((START)); then
  if ((units_changed)); then
    run_or_show systemctl daemon-reload
  fi
  run_or_show systemctl start doorstep-backup.timer
  run_or_show systemctl restart doorstep-kiosk.service ||
    LEFT+=("the kiosk app did not start: journalctl -u doorstep-kiosk -b")
  if [ -s "$ROOT/etc/doorstep/token" ] && grep -Eq '^[[:space:]]*endpoint[[:space:]]*=[[:space:]]*"https?://' "$CONFIG"; then
    run_or_show systemctl restart doorstep-sync.service ||
      LEFT+=("the sync daemon did not start: journalctl -u doorstep-sync -b")
  else
    say "not starting doorstep-sync yet: it needs the endpoint and the token (below)"
  fi
fi

# -- what is left to do ------------------------------------------------------------------------------------------
if [ ! -s "$ROOT/etc/doorstep/token" ]; then
  LEFT+=("put this kiosk's token (from 'kiosk-central device add' on the server) in /etc/doorstep/token:
     sudo install -m 0640 -g kiosk /dev/stdin /etc/doorstep/token   (paste it, then Ctrl+D)
     sudo systemctl restart doorstep-sync")
fi
if ! grep -Eq '^[[:space:]]*endpoint[[:space:]]*=[[:space:]]*"https?://' "$CONFIG"; then
  LEFT+=("set [sync] endpoint in /etc/doorstep/kiosk.toml, then: sudo systemctl restart doorstep-sync")
fi
if ((NEED_REBOOT)); then
  LEFT+=("reboot, so that SPI is switched on: sudo reboot")
fi
LEFT+=("check the box: kiosk-admin doctor   (every line should start with ok)")

echo
release="$(readlink "$ROOT/opt/doorstep/current" 2>/dev/null || true)"
echo "Doorstep is installed (${release##*/})."
echo "Left to do:"
n=1
for item in "${LEFT[@]}"; do
  printf '  %d. %s\n' "$n" "$item"
  n=$((n + 1))
done
