#!/usr/bin/env bash
# Update the Doorstep kiosk safely: build the new version beside the running one, check it, then
# switch to it; if anything fails, the old version keeps running.
#
#   sudo scripts/update.sh --pull              git pull this checkout, then update from it
#   sudo scripts/update.sh                     update from this checkout as it is
#   sudo scripts/update.sh --wheel FILE.whl    update from a wheel (built elsewhere)
#   sudo scripts/update.sh --rollback          go back to the version before
#
# Layout (under --root DIR when given):
#   /opt/doorstep/releases/<version>-<hash>/venv   one virtual environment per version
#   /opt/doorstep/current  -> releases/...          what the systemd units run
#   /opt/doorstep/previous -> releases/...          the version before (for --rollback)
#
# Steps: (1) build the release's venv (pip install "SOURCE[ui,pi,sync]"), unless a release with
# the same source hash is already built, which makes a second run change nothing; (2) self-check
# it: `kiosk-admin doctor --self-check` (code imports, commands present, config valid) with the
# new venv; (3) switch the `current` symlink atomically (rename); (4) restart the units that
# were running and check that they still are after a while; if not, switch back and restart
# again. Old releases beyond current and previous are deleted.
#
# Options:
#   --source DIR          the checkout to install (default: the one this script is in)
#   --pull                git pull --ff-only in --source first
#   --wheel FILE          install this wheel instead of the source
#   --prebuilt-venv DIR   do not build: use this existing environment (it must already hold this
#                         version; for CI and offline tests) - it is linked, not copied
#   --no-venv             do not build or check anything, only lay out the release (CI)
#   --extras LIST         the package's extras to install (default ui,pi,sync; a box without
#                         the touchscreen app or reader could use: sync)
#   --root DIR            work inside DIR instead of /: no systemctl, no root needed
#   --no-restart          switch, but do not restart the units
#   --health-wait SECONDS how long units must stay up after the restart (default 15)
#   --rollback            switch back to the previous release and restart
set -euo pipefail

ROOT=""
SOURCE=""
WHEEL=""
PULL=0
PREBUILT=""
NO_VENV=0
RESTART=1
ROLLBACK=0
HEALTH_WAIT=15
EXTRAS="ui,pi,sync"
UNITS=(doorstep-sync.service doorstep-kiosk.service)

say() { printf 'update: %s\n' "$*"; }
die() {
  printf 'update: %s\n' "$*" >&2
  exit 1
}

while (($#)); do
  case "$1" in
    --root) ROOT="${2:?--root needs a folder}"; shift 2 ;;
    --source) SOURCE="${2:?--source needs a folder}"; shift 2 ;;
    --wheel) WHEEL="${2:?--wheel needs a file}"; shift 2 ;;
    --pull) PULL=1; shift ;;
    --prebuilt-venv) PREBUILT="${2:?--prebuilt-venv needs a folder}"; shift 2 ;;
    --no-venv) NO_VENV=1; shift ;;
    --extras) EXTRAS="${2:?--extras needs a list like ui,pi,sync}"; shift 2 ;;
    --no-restart) RESTART=0; shift ;;
    --health-wait) HEALTH_WAIT="${2:?--health-wait needs seconds}"; shift 2 ;;
    --rollback) ROLLBACK=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

ROOT="${ROOT%/}"
if [ -n "$ROOT" ]; then
  mkdir -p "$ROOT"
  ROOT="$(cd "$ROOT" && pwd)"
elif [ "$(id -u)" != 0 ]; then
  die "run as root (sudo), or with --root DIR for a trial run"
fi
OPT="$ROOT/opt/doorstep"
RELEASES="$OPT/releases"
CONFIG="$ROOT/etc/doorstep/kiosk.toml"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SOURCE="${SOURCE:-$HERE}"
SOURCE="$(cd "$SOURCE" && pwd)"

systemd_live() { [ -z "$ROOT" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

release_of() { # the release a symlink points to (its name), or nothing
  local target
  target="$(readlink "$1" 2>/dev/null || true)"
  printf '%s' "${target##*/}"
}

switch_to() { # point $OPT/current at releases/$1, atomically (rename over the old link)
  ln -sfn "releases/$1" "$OPT/.current.new"
  mv -Tf "$OPT/.current.new" "$OPT/current"
}

restart_units() {
  if ! systemd_live; then
    say "skipped (--root or no systemd): systemctl daemon-reload; systemctl try-restart ${UNITS[*]}"
    return 0
  fi
  systemctl daemon-reload
  systemctl try-restart "${UNITS[@]}"
}

units_active() { # which of the units are active now
  local unit
  for unit in "${UNITS[@]}"; do
    if systemctl is-active --quiet "$unit"; then printf '%s ' "$unit"; fi
  done
}

# -- rollback ---------------------------------------------------------------------------------------
if ((ROLLBACK)); then
  previous="$(release_of "$OPT/previous")"
  current="$(release_of "$OPT/current")"
  if [ -z "$previous" ] || [ ! -d "$RELEASES/$previous" ]; then
    die "there is no previous release to go back to"
  fi
  switch_to "$previous"
  ln -sfn "releases/$current" "$OPT/.previous.new" && mv -Tf "$OPT/.previous.new" "$OPT/previous"
  say "switched back from $current to $previous"
  if ((RESTART)); then
    restart_units
  fi
  exit 0
fi

# -- what to install ---------------------------------------------------------------------------------
if ((PULL)); then
  [ -d "$SOURCE/.git" ] || die "$SOURCE is not a git checkout: cannot --pull"
  say "git pull in $SOURCE"
  # As the checkout's owner: git refuses to work as root in someone else's repository, and
  # root-owned files would then block the owner's own pulls.
  owner="$(stat -c %U "$SOURCE")"
  if [ "$(id -un)" != "$owner" ]; then
    sudo -u "$owner" -- git -C "$SOURCE" pull --ff-only
  else
    git -C "$SOURCE" pull --ff-only
  fi
fi

if [ -n "$WHEEL" ]; then
  [ -f "$WHEEL" ] || die "no wheel $WHEEL"
  WHEEL="$(cd "$(dirname "$WHEEL")" && pwd)/$(basename "$WHEEL")"
  name="$(basename "$WHEEL" .whl)"
  version="$(printf '%s' "$name" | cut -d- -f2)"
  hash="$(sha256sum "$WHEEL" | cut -c1-12)"
  INSTALL_SPEC="${WHEEL}[${EXTRAS}]"
else
  [ -f "$SOURCE/setup.cfg" ] || die "$SOURCE has no setup.cfg: is it the Doorstep checkout?"
  version="$(sed -n 's/^version *= *//p' "$SOURCE/setup.cfg" | head -n1)"
  # The hash of every file that goes into the package: the same source gives the same release.
  hash="$(
    cd "$SOURCE" &&
      find setup.cfg pyproject.toml kiosk sync central -type f \
        ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 2>/dev/null |
      LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12
  )"
  INSTALL_SPEC="" # set when building: a copy of the source, see below
fi
[ -n "$version" ] || die "cannot tell the version to install"
ID="${version}-${hash}"
NEW="$RELEASES/$ID"
CURRENT="$(release_of "$OPT/current")"

# -- 1. build ------------------------------------------------------------------------------------------
install -d -m 0755 "$OPT" "$RELEASES"
if [ -f "$NEW/.complete" ]; then
  say "release $ID is already built"
else
  rm -rf "$NEW"
  install -d -m 0755 "$NEW"
  if ((NO_VENV)); then
    say "skipped (--no-venv): python3 -m venv $NEW/venv; pip install '${WHEEL:-$SOURCE}[$EXTRAS]'"
  elif [ -n "$PREBUILT" ]; then
    [ -d "$PREBUILT/bin" ] || die "--prebuilt-venv $PREBUILT has no bin/ folder"
    ln -s "$(cd "$PREBUILT" && pwd)" "$NEW/venv"
    say "release $ID uses the prebuilt environment $PREBUILT"
  else
    say "building release $ID in $NEW/venv (a few minutes on a Pi)"
    if [ -z "$WHEEL" ]; then
      # Build from a copy: pip builds in the source folder, and root-owned build/ and
      # *.egg-info folders must not be left in the admin's checkout.
      BUILD="$(mktemp -d)"
      trap 'rm -rf "$BUILD"' EXIT
      tar -C "$SOURCE" --exclude=__pycache__ --exclude='*.egg-info' -cf - \
        setup.cfg pyproject.toml README.md kiosk sync central | tar -C "$BUILD" -xf -
      INSTALL_SPEC="${BUILD}[${EXTRAS}]"
    fi
    python3 -m venv "$NEW/venv"
    "$NEW/venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip wheel
    if ! "$NEW/venv/bin/pip" install --quiet --disable-pip-version-check "$INSTALL_SPEC"; then
      rm -rf "$NEW"
      die "pip could not install ${WHEEL:-$SOURCE}; still running ${CURRENT:-nothing}"
    fi
  fi
  {
    printf 'release: %s\n' "$ID"
    printf 'source: %s\n' "${WHEEL:-$SOURCE}"
    if [ -z "$WHEEL" ] && [ -d "$SOURCE/.git" ] && command -v git >/dev/null; then
      printf 'commit: %s\n' "$(git -C "$SOURCE" rev-parse HEAD 2>/dev/null || echo unknown)"
    fi
  } >"$NEW/release.txt"
fi

# -- 2. self-check ---------------------------------------------------------------------------------------
if ((NO_VENV)); then
  say "skipped (--no-venv): $NEW/venv/bin/kiosk-admin --config $CONFIG doctor --self-check"
else
  check_args=()
  [ -f "$CONFIG" ] && check_args=(--config "$CONFIG")
  imports='import kiosk, sync'
  case ",$EXTRAS," in *,ui,*) imports="$imports, kivy" ;; esac
  if ! out="$("$NEW/venv/bin/kiosk-admin" "${check_args[@]}" doctor --self-check 2>&1)" ||
    ! "$NEW/venv/bin/python" -c "$imports" >/dev/null 2>&1; then
    printf '%s\n' "$out" >&2
    if [ "$ID" != "$CURRENT" ]; then
      rm -rf "$NEW"
    else
      rm -f "$NEW/.complete"
    fi
    die "release $ID failed its self-check (above); still running ${CURRENT:-nothing}"
  fi
  printf '%s\n' "$out" | sed 's/^/update: self-check: /'
fi
touch "$NEW/.complete"

# -- 3. switch ---------------------------------------------------------------------------------------------
if [ "$CURRENT" = "$ID" ]; then
  say "release $ID is already the current one"
  exit 0
fi
was_active=""
systemd_live && was_active="$(units_active)"
switch_to "$ID"
if [ -n "$CURRENT" ]; then
  ln -sfn "releases/$CURRENT" "$OPT/.previous.new" && mv -Tf "$OPT/.previous.new" "$OPT/previous"
fi
say "switched to $ID${CURRENT:+ (was $CURRENT)}"

# -- 4. restart, and roll back if the units do not stay up --------------------------------------------
if ((RESTART)); then
  restart_units
  if systemd_live && [ -n "$was_active" ]; then
    sleep "$HEALTH_WAIT"
    now_active="$(units_active)"
    if [ "$now_active" != "$was_active" ]; then
      say "after the restart only '${now_active}' of '${was_active}' are running" >&2
      if [ -n "$CURRENT" ]; then
        switch_to "$CURRENT"
        restart_units
        die "rolled back to $CURRENT; see journalctl -u doorstep-sync -u doorstep-kiosk"
      fi
      die "the new release does not stay up; see journalctl -u doorstep-sync -u doorstep-kiosk"
    fi
    say "units running: $now_active"
  fi
fi

# -- 5. tidy: keep current and previous ---------------------------------------------------------------------
keep_prev="$(release_of "$OPT/previous")"
for dir in "$RELEASES"/*; do
  [ -d "$dir" ] || continue
  name="${dir##*/}"
  if [ "$name" != "$ID" ] && [ "$name" != "$keep_prev" ]; then
    rm -rf "$dir"
    say "deleted old release $name"
  fi
done
