#!/usr/bin/env bash
# The appliance on the Pi's own architecture: a Debian bookworm arm64 root (debootstrap, run
# under qemu-user-static through binfmt_misc), the real scripts/install-pi.sh inside it, then
# `kiosk-admin doctor --self-check`, a scripted term through kiosk-admin and one
# `kiosk-sync --once` against a central server on this machine's loopback, all under emulation.
#
#   sudo bash scripts/ci-arm64.sh            # .ci/run runs it under `timeout 10m`
#   sudo bash scripts/ci-arm64.sh --prepare  # only build and cache the arm64 root, no time limit
#
# What it proves, in order:
#   - the install with systemd's tools present (as on Raspberry Pi OS): exit 0, venv built by
#     pip on arm64 (Kivy, lgpio, pydantic-core wheels; spidev and evdev compiled), self-checked;
#   - the same install again without systemd-sysusers, systemctl and the input, render, spi and
#     gpio groups (a minimal Debian): exit 0, groups created, skipped steps named;
#   - doctor --self-check, a term of taps recorded through kiosk-admin as the kiosk user, the
#     kiosk's status, and a sync pass whose counts are checked against the server's database.
# Prints the time taken, the doctor's lines and the synced counts.
#
# Needs root (debootstrap, chroot) and binfmt_misc: it installs debootstrap, qemu-user-static
# and binfmt-support with apt, mounts binfmt_misc if it is not, and first runs a tiny arm64
# program; where any of that cannot work (an unprivileged container, no network) it prints
# "ci-arm64: SKIPPED: why" and exits 0. Any failure after that exits non-zero.
#
# Time: ARM64_BUDGET seconds in all (default 570, inside .ci/run's 10 minutes). Building the
# root is the slow part (every package is unpacked by an emulated dpkg); without a cached root
# it gets the budget less ARM64_REST (default 270 s, what the install, term and sync need). A
# root that does not build in time, or leaves too little for the rest, is a skip that says so
# (and a root that did build is cached for the next run); `--prepare` builds it with no limit.
#
# Cache (DOORSTEP_CI_CACHE, default /var/cache/doorstep-ci): the debootstrapped root as a
# tarball (keyed by the suite, the packages and this script's root recipe) and pip's cache for
# arm64, so a second run neither debootstraps nor downloads wheels again. Environment:
# DEBIAN_MIRROR (default: this machine's Debian mirror from /etc/apt, else deb.debian.org),
# PYTHON (the host's Python with the server installed; default .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.." || exit 2
SRC="$PWD"
T0=$SECONDS

# Its own lines go to the script's stdout/stderr even from a command whose output is logged.
exec 3>&1 4>&2
say() { printf 'ci-arm64: %s\n' "$*" >&3; }
skip() {
  say "SKIPPED: $*"
  exit 0
}
fail() {
  printf 'ci-arm64: FAILED: %s\n' "$*" >&4
  exit 1
}
took() { printf '%d s' $((SECONDS - ${1:-$T0})); }

PREPARE=0
case "${1:-}" in
  --prepare) PREPARE=1 ;;
  "") ;;
  *) fail "unknown option $1 (--prepare, or nothing)" ;;
esac
BUDGET="${ARM64_BUDGET:-570}"
REST="${ARM64_REST:-270}"
SUITE=bookworm
ARCH=arm64
CACHE="${DOORSTEP_CI_CACHE:-/var/cache/doorstep-ci}"
DEVICE=kiosk-arm64-ci
SITE=ci-site
# What a Raspberry Pi OS Lite image has, plus install-pi.sh's own packages but one (libmtdev1,
# small) so that its apt step runs for real too.
BASE_PACKAGES=(systemd sudo passwd python3 ca-certificates)
mapfile -t INSTALL_PACKAGES < <(
  sed -n '/^APT_PACKAGES=(/,/^)/p' scripts/install-pi.sh | sed '1d;$d' | tr ' ' '\n' | grep -v '^$'
)
PREINSTALLED=()
for pkg in "${INSTALL_PACKAGES[@]}"; do
  [ "$pkg" = libmtdev1 ] || PREINSTALLED+=("$pkg")
done

PY="${PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || PY=python3
BIN="$(dirname "$PY")"
CENTRAL=("$PY" -m central.cli)
[ -x "$BIN/kiosk-central" ] && CENTRAL=("$BIN/kiosk-central")

# -- 0. can this machine run arm64 programs? ------------------------------------------------------
[ "$(id -u)" = 0 ] || skip "needs root (debootstrap and chroot); run it with sudo"
"$PY" -c "import central.app" 2>/dev/null || skip "no central server for $PY (pip install -e '.[server]')"
tools=()
command -v debootstrap >/dev/null || tools+=(debootstrap)
[ -x /usr/bin/qemu-aarch64-static ] || tools+=(qemu-user-static)
command -v update-binfmts >/dev/null || tools+=(binfmt-support)
if ((${#tools[@]})); then
  say "installing ${tools[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${tools[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 &&
      apt-get install -y -qq --no-install-recommends "${tools[@]}" >/dev/null 2>&1; } ||
    skip "cannot install ${tools[*]} with apt here"
fi
if ! [ -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null ||
    skip "binfmt_misc is not mounted and cannot be (a container without the privilege?)"
fi
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] ||
  skip "no qemu-aarch64 entry in binfmt_misc (update-binfmts --display qemu-aarch64)"

# An earlier run stopped before its clean-up (killed by a timeout) left its root behind.
for stale in /var/tmp/doorstep-arm64.*; do
  [ -d "$stale" ] || continue
  grep -qF " $stale/" /proc/mounts || rm -rf --one-file-system "$stale"
done
WORK="$(mktemp -d /var/tmp/doorstep-arm64.XXXXXX)"
ROOT="$WORK/root"
SERVER_PID=""
MOUNTS=()
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  local i
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    umount -l "${MOUNTS[$i]}" 2>/dev/null || true
  done
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
trap "exit 143" TERM INT # so that the cleanup runs when timeout stops this script

# A static aarch64 program of 132 bytes that exits with status 42: exit(42) by svc #0.
base64 -d >"$WORK/exit42" <<'EOF'
f0VMRgIBAQAAAAAAAAAAAAIAtwABAAAAeABAAAAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAEAAOAABAAAAAAAAAAEAAAAF
AAAAAAAAAAAAAAAAAEAAAAAAAAAAQAAAAAAAhAAAAAAAAACEAAAAAAAAAAAQAAAAAAAAQAWA0qgLgNIBAADU
EOF
chmod 0755 "$WORK/exit42"
status=0
"$WORK/exit42" 2>/dev/null || status=$?
[ "$status" = 42 ] || skip "an arm64 program does not run here (exit $status): binfmt_misc/qemu cannot work in this machine"
say "arm64 programs run here (qemu-aarch64 through binfmt_misc)"

# -- 1. the arm64 root (cached) ---------------------------------------------------------------
mirror="${DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror="$(grep -hoE '^URIs: *[^ ]+/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null |
    head -n1 | sed 's/^URIs: *//')" || true
fi
if [ -z "$mirror" ]; then
  mirror="$(grep -hoE '^deb +(\[[^]]*\] +)?[^ ]+/debian/? +bookworm' /etc/apt/sources.list 2>/dev/null |
    head -n1 | awk '{print $(NF-1)}')" || true
fi
mirror="${mirror:-http://deb.debian.org/debian}"
RECIPE="v1 $SUITE $ARCH minbase unsafe-io ${BASE_PACKAGES[*]} ${PREINSTALLED[*]}"
key="$(printf '%s' "$RECIPE" | sha256sum | cut -c1-12)"
TARBALL="$CACHE/$SUITE-$ARCH-$key.tar.gz"
mkdir -p "$CACHE" "$ROOT"
t=$SECONDS
if [ -f "$TARBALL" ]; then
  tar -C "$ROOT" -xzf "$TARBALL"
  say "arm64 root from the cache ($TARBALL): $(took "$t")"
else
  # dpkg without fsync for every file: the root is thrown away, and emulated dpkg is slow.
  mkdir -p "$ROOT/etc/dpkg/dpkg.cfg.d"
  echo force-unsafe-io >"$ROOT/etc/dpkg/dpkg.cfg.d/doorstep-ci-unsafe-io"
  include="$(
    IFS=,
    printf '%s' "${BASE_PACKAGES[*]},${PREINSTALLED[*]}"
  )"
  limit=$((BUDGET - REST - (SECONDS - T0)))
  ((PREPARE)) && limit=0 # no limit
  ((PREPARE)) || ((limit > 60)) || skip "no cached arm64 root and no time to build one (ARM64_BUDGET)"
  if ((PREPARE)); then within="no time limit"; else within="at most $limit s"; fi
  say "debootstrap $SUITE $ARCH from $mirror (no cache yet; $within)"
  status=0
  timeout --kill-after=10 "$limit" debootstrap --arch="$ARCH" --variant=minbase \
    --include="$include" "$SUITE" "$ROOT" "$mirror" >"$WORK/debootstrap.log" 2>&1 || status=$?
  if [ "$status" = 124 ] || [ "$status" = 137 ]; then
    skip "building the arm64 root did not finish in $limit s on this machine (every package is" \
      "unpacked by an emulated dpkg); build the cache once with: sudo bash scripts/ci-arm64.sh --prepare"
  fi
  if [ "$status" != 0 ]; then
    tail -n 20 "$WORK/debootstrap.log" >&2
    if ! grep -q "^I: Retrieving" "$WORK/debootstrap.log"; then
      skip "debootstrap could not reach $mirror (set DEBIAN_MIRROR)"
    fi
    fail "debootstrap failed (log above)"
  fi
  rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*
  tar -C "$ROOT" -czf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
  say "arm64 root built and cached ($TARBALL): $(took "$t")"
fi
if ((PREPARE)); then
  say "prepared: $TARBALL"
  exit 0
fi
left=$((BUDGET - (SECONDS - T0)))
((left >= REST)) || skip "only $left s of ARM64_BUDGET ($BUDGET s) are left after the arm64 root" \
  "($(took "$t")), fewer than ARM64_REST ($REST s) for the install, term and sync (the root is" \
  "cached: the next run starts from it)"
PHASE="the set-up"
# A command inside the root, stopped when ARM64_BUDGET runs out: that is a skip which says
# where the time went (this machine runs arm64 code too slowly for the budget), not a failure.
in_root() {
  local rc=0 left=$((BUDGET - (SECONDS - T0)))
  ((PREPARE)) && left=0 # no limit
  ((left >= 0)) || left=1
  timeout --kill-after=10 "$left" chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
    TERM=dumb PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@" || rc=$?
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    skip "ARM64_BUDGET ($BUDGET s) ran out during $PHASE, after $(took): this machine runs" \
      "arm64 code too slowly for it (raise ARM64_BUDGET and .ci/run's timeout together)"
  fi
  return "$rc"
}
say "inside: uname -m $(in_root uname -m), dpkg $(in_root dpkg --print-architecture)," \
  "$(in_root python3 --version)"

# The machine's view a Pi has: /proc, /sys, /dev, name resolution for apt and pip. /run stays
# the root's own: no systemd runs it (systemctl says it is offline, as in any chroot).
for fs in proc sys dev dev/pts; do
  mkdir -p "$ROOT/$fs"
  mount --bind "/$fs" "$ROOT/$fs"
  MOUNTS+=("$ROOT/$fs")
done
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
# This machine's certificate authorities (e.g. a TLS-inspecting proxy's own), so that apt, pip
# and git inside reach what this machine reaches; pip told to use them, not its own bundle.
cp -L /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"
printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$ROOT/etc/pip.conf"
mkdir -p "$CACHE/pip-$ARCH" "$ROOT/root/.cache/pip"
mount --bind "$CACHE/pip-$ARCH" "$ROOT/root/.cache/pip"
MOUNTS+=("$ROOT/root/.cache/pip")
printf 'doorstep-arm64\n' >"$ROOT/etc/hostname"
# A chroot shares this machine's host name: sudo inside wants to resolve it.
grep -qw "$(hostname)" "$ROOT/etc/hosts" 2>/dev/null || printf '127.0.1.1\t%s\n' "$(hostname)" >>"$ROOT/etc/hosts"
# A Pi's boot configuration with SPI still off, as Raspberry Pi OS ships it.
mkdir -p "$ROOT/boot/firmware"
printf '# For more options see config.txt(5)\n#dtparam=spi=on\ndtparam=audio=on\n' \
  >"$ROOT/boot/firmware/config.txt"

# The checkout, as an admin would have cloned it (tracked and new files, not .venv or caches).
mkdir -p "$ROOT/root/doorstep"
git ls-files -z --cached --others --exclude-standard |
  tar --null -T - -cf - 2>/dev/null | tar -C "$ROOT/root/doorstep" -xf -

# -- 2. the central server on this machine's loopback ----------------------------------------
PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT"
DB="sqlite:///$WORK/central.sqlite3"
export PYTHONPATH="$SRC${PYTHONPATH:+:$PYTHONPATH}"
"${CENTRAL[@]}" --db "$DB" org add ci-org >/dev/null 2>&1
"${CENTRAL[@]}" --db "$DB" site add ci-org "$SITE" >/dev/null 2>&1
"${CENTRAL[@]}" --db "$DB" device add ci-org "$SITE" "$DEVICE" >"$WORK/token" 2>/dev/null
"${CENTRAL[@]}" --db "$DB" serve --host 127.0.0.1 --port "$PORT" --log-level warning \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 150); do
  if "$PY" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)" \
    "$URL/healthz" 2>/dev/null; then
    break
  fi
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; fail "the server did not start"; }
  sleep 0.2
done
say "central server at $URL"

# -- 3. the real install, with systemd's tools --------------------------------------------------
install_pi() { # LOG ARGS...: install-pi.sh inside the root; its output in LOG
  local log="$1"
  shift
  if ! in_root bash /root/doorstep/scripts/install-pi.sh "$@" >"$log" 2>&1; then
    cat "$log" >&2
    fail "install-pi.sh $* exited non-zero inside the arm64 root"
  fi
}
t=$SECONDS
PHASE="install-pi.sh with systemd's tools"
install_pi "$WORK/install-1.log" --device-id "$DEVICE" --site "$SITE" --endpoint "$URL"
grep -E '^install: (installing packages|turned|wrote /etc/doorstep/kiosk.toml)|^update: (self-check|switched)|^Doorstep is installed' \
  "$WORK/install-1.log" | sed 's/^/ci-arm64:   /'
grep -q '^update: self-check: ok' "$WORK/install-1.log" || fail "no self-check ok in the install"
say "install-pi.sh with systemd's tools: exit 0 in $(took "$t")"

# -- 4. again, on a system without systemd-sysusers, systemctl or the device groups ------------
t=$SECONDS
PHASE="install-pi.sh without systemd's tools"
hidden="$ROOT/root/hidden-tools"
mkdir -p "$hidden"
for tool in /usr/bin/systemctl /usr/bin/systemd-sysusers; do
  mv "$ROOT$tool" "$hidden/"
done
in_root userdel kiosk
for group in input render spi gpio; do
  in_root groupdel "$group" 2>/dev/null || true
done
install_pi "$WORK/install-2.log" --device-id "$DEVICE" --site "$SITE" --endpoint "$URL"
mv "$hidden"/* "$ROOT/usr/bin/"
# The SPI reboot is still to do (no /dev/spidev0.0 here): the reminder stays.
for expected in "created the system group input" "created the system group render" \
  "skipped (no systemctl here): systemctl enable" "is already the current one" "sudo reboot"; do
  grep -qF "$expected" "$WORK/install-2.log" ||
    { cat "$WORK/install-2.log" >&2; fail "the second install did not say: $expected"; }
done
grep -E 'created|skipped \(no systemctl' "$WORK/install-2.log" | sed 's/^/ci-arm64:   /'
say "install-pi.sh without systemd-sysusers/systemctl/groups: exit 0 in $(took "$t")"

# The device token, as the install's "left to do" says.
in_root install -m 0640 -o root -g kiosk /dev/stdin /etc/doorstep/token <"$WORK/token"

# -- 5. the doctor's self-check, under emulation -------------------------------------------------
t=$SECONDS
PHASE="kiosk-admin doctor --self-check"
in_root /usr/local/bin/kiosk-admin doctor --self-check >"$WORK/doctor.log" 2>&1 ||
  { cat "$WORK/doctor.log" >&2; fail "kiosk-admin doctor --self-check failed on arm64"; }
sed 's/^/ci-arm64: doctor: /' "$WORK/doctor.log"
say "doctor --self-check: $(took "$t")"

# -- 6. a scripted term through kiosk-admin, as the kiosk user ---------------------------------
t=$SECONDS
PHASE="the term through kiosk-admin"
admin() { in_root /usr/local/bin/kiosk-admin "$@"; }
WEEKS="${ARM64_WEEKS:-6}"
printf 'postcode\nWS7 1\nWS12\n' >"$ROOT/tmp/risk.csv"
admin risk import /tmp/risk.csv >/dev/null
admin session add --name "Stay and Play" --weekday mon --start 09:30 --end 11:30 >/dev/null
admin family add --name Sarah --postcode "WS7 1AA" --child Mia:2023-04 --card 04A23B1C >/dev/null
admin family add --name Tom --postcode "WS13 6YY" --child Alfie --child Isla --card 04C1D2E3 >/dev/null
# The last WEEKS Mondays before today (the server takes synchronised events up to 400 days old).
mondays="$(
  "$PY" - "$WEEKS" <<'EOF'
import sys
from datetime import date, timedelta

today = date.today()
last = today - timedelta(days=today.weekday() or 7)
print(" ".join(str(last - timedelta(weeks=n)) for n in range(int(sys.argv[1]))))
EOF
)"
welcomes=0
for day in $mondays; do
  for card in 04A23B1C 04C1D2E3; do
    admin tap "$card" --at "${day}T10:00" >"$WORK/tap.out"
    case "$(cat "$WORK/tap.out")" in welcome*) welcomes=$((welcomes + 1)) ;; esac
  done
done
admin status >"$WORK/status-before.log"
admin export attendance >"$WORK/attendance.csv"
attendance=$(($(wc -l <"$WORK/attendance.csv") - 1))
say "term: $WEEKS sessions, $welcomes welcome taps, $attendance attendance rows" \
  "($(grep -E '^(device|site|waiting):' "$WORK/status-before.log" | paste -sd' ' -)): $(took "$t")"
[ "$welcomes" = $((2 * WEEKS)) ] || fail "expected $((2 * WEEKS)) welcomes, got $welcomes"
grep -qx "device: $DEVICE" "$WORK/status-before.log" || fail "status does not name $DEVICE"

# -- 7. one sync pass to the server on the host's loopback --------------------------------------
t=$SECONDS
PHASE="kiosk-sync --once"
in_root sudo -u kiosk -- /opt/doorstep/current/venv/bin/python -m kiosk.config \
  --config /etc/doorstep/kiosk.toml exec sync --once >"$WORK/sync.log" 2>&1 ||
  { cat "$WORK/sync.log" >&2; fail "kiosk-sync --once failed"; }
sed 's/^/ci-arm64: sync: /' "$WORK/sync.log"
admin status >"$WORK/status-after.log"
waiting="$(sed -n 's/^waiting: //p' "$WORK/status-after.log")"
held="$("$PY" - "$WORK/central.sqlite3" "$DEVICE" <<'EOF'
import sqlite3
import sys

db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT count(*) FROM events WHERE device_id = ?", (sys.argv[2],)).fetchone()[0])
EOF
)"
sent="$(grep -oE 'sent [0-9]+ event' "$WORK/sync.log" | grep -oE '[0-9]+' | tail -n1)"
rejected="$(grep -oE '[0-9]+ rejected' "$WORK/sync.log" | grep -oE '[0-9]+' | tail -n1)"
say "synced: sent ${sent:-?}, rejected ${rejected:-?}; the server holds $held event(s) from" \
  "$DEVICE; $waiting waiting on the kiosk: $(took "$t")"
[ "$waiting" = 0 ] || fail "$waiting event(s) still waiting after kiosk-sync --once"
[ "${rejected:-x}" = 0 ] || fail "the server refused events (see the sync lines)"
[ "$held" = "${sent:-none}" ] || fail "sent ${sent:-?} event(s) but the server holds $held"
if grep -q Traceback "$WORK/server.log"; then
  cat "$WORK/server.log" >&2
  fail "the server logged a traceback"
fi
say "ok: arm64 install, doctor, term and sync in $(took)"
