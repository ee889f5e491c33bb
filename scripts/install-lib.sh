# Steps of scripts/install-pi.sh (and install-central.sh) that depend on the machine they run
# on, kept apart so that the tests can run each one against a fake machine (commands on PATH, a
# folder as the root).
# Sourced, not run: it only defines functions. They read ROOT ("" for the real machine, else
# the folder being prepared) and set NEED_REBOOT.
# shellcheck shell=bash

say() { printf 'install: %s\n' "$*"; }
die() {
  printf 'install: %s\n' "$*" >&2
  exit 1
}

# Install a file only when its content or mode differs; says so. Returns 0 if it changed.
put() { # put MODE SOURCE TARGET
  local mode="$1" src="$2" dst="$3"
  if [ -f "$dst" ] && cmp -s "$src" "$dst" && [ "$(stat -c %a "$dst")" = "${mode#0}" ]; then
    return 1
  fi
  install -D -m "$mode" "$src" "$dst"
  say "wrote ${dst#"$ROOT"}"
}

folders_from_tmpfiles() { # folders_from_tmpfiles TMPFILES INSTALLED_NAME OWNERS_SAID_UNDER_ROOT
  # The folders of a tmpfiles file ("d PATH MODE USER GROUP" lines), made now with those modes
  # and owners rather than waiting for systemd-tmpfiles at the next boot; the file itself is
  # installed too. Under --root nothing is chowned (the users are the target's), and that is said.
  local tmpfiles="$1" name="$2" owners="$3" kind path mode user group
  put 0644 "$tmpfiles" "$ROOT/usr/lib/tmpfiles.d/$name" || true
  while read -r kind path mode user group _; do
    [ "$kind" = d ] || continue
    install -d -m "$mode" "$ROOT$path"
    chmod "$mode" "$ROOT$path"
    if [ -z "$ROOT" ]; then
      chown "$user:$group" "$path"
    fi
  done < <(grep -E '^d ' "$tmpfiles")
  if [ -n "$ROOT" ]; then
    say "skipped (--root): chown of $owners"
  fi
}

# The groups the kiosk user is in (doorstep.sysusers has the same list).
KIOSK_GROUPS=(video input render spi gpio)

# -- 0. the architecture ------------------------------------------------------------------------
# The Debian architecture the kiosk will run on: dpkg's (a 64-bit kernel can run a 32-bit
# userland: uname alone would say aarch64 there), else the kernel's. Under --root, the package
# database of the root; nothing when it has none.
target_arch() {
  if [ -n "$ROOT" ]; then
    if [ -f "$ROOT/var/lib/dpkg/status" ]; then
      dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Architecture}' dpkg 2>/dev/null || true
    fi
    return 0
  fi
  dpkg --print-architecture 2>/dev/null || uname -m
}

# Stop at once on a system the kiosk app cannot be installed on, saying why (before anything
# is changed, and before apt or pip spend minutes on it).
require_64bit() {
  local arch
  arch="$(target_arch)"
  case "$arch" in
    "")
      say "skipped (--root): the architecture check (${ROOT} has no dpkg database)"
      ;;
    arm64 | aarch64 | amd64 | x86_64) ;;
    armhf | armel | arm | armv6l | armv7l | armv8l | i386 | i686)
      die "this is a 32-bit system ($arch): Doorstep needs the 64-bit Raspberry Pi OS (Bookworm,
  arm64). Kivy 2.3.1, the touchscreen app's toolkit, has no wheel for 32-bit ARM, and building it
  from source fails after about ten minutes (it needs the desktop OpenGL headers, GL/gl.h).
  Flash 'Raspberry Pi OS (64-bit)' with Raspberry Pi Imager (Pi 3, 4, 5 and Zero 2 W run it;
  older boards cannot run Doorstep), then run this script again. Nothing was changed."
      ;;
    *)
      die "this is a $arch system: Doorstep needs the 64-bit Raspberry Pi OS (arm64), or amd64 for
  trials; Kivy 2.3.1, the touchscreen app's toolkit, has wheels for those only. Nothing was changed."
      ;;
  esac
}

# -- 1. packages --------------------------------------------------------------------------------
# Which of the packages given are not installed: on this machine, or under --root in the
# root's own package database (never the build machine's). Prints nothing and returns 1 when
# the root has no package database, so the caller can say that it cannot tell.
missing_packages() {
  local pkg admindir=()
  if [ -n "$ROOT" ]; then
    [ -f "$ROOT/var/lib/dpkg/status" ] || return 1
    admindir=(--admindir="$ROOT/var/lib/dpkg")
  fi
  for pkg in "$@"; do
    dpkg-query "${admindir[@]}" -W -f='${Status}' "$pkg" 2>/dev/null |
      grep -q "install ok installed" || printf '%s\n' "$pkg"
  done
}

# install_packages WHERE PACKAGE...: apt-get install what is missing of PACKAGE... (WHERE, "the
# device" or "the server", is named when --root cannot tell: the build machine's packages say
# nothing about the image). Under --root nothing is installed, only said.
install_packages() {
  local where="$1" missing_text missing=()
  shift
  if ! missing_text="$(missing_packages "$@")"; then
    say "skipped (--root): ${ROOT} has no dpkg database; on ${where}: apt-get install --no-install-recommends $*"
    missing_text=""
  fi
  mapfile -t missing < <(printf '%s' "$missing_text" | grep -v '^$' || true)
  ((${#missing[@]})) || return 0
  if [ -n "$ROOT" ]; then
    say "skipped (--root): apt-get install --no-install-recommends ${missing[*]}"
  else
    say "installing packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# -- 2. SPI -------------------------------------------------------------------------------------
# spi_step CONFIG_TXT [SPIDEV]: turn SPI on in the Pi's config.txt. A reboot is needed
# (NEED_REBOOT=1) until the running kernel has SPI, i.e. until SPIDEV (default /dev/spidev0.0)
# exists: a second run before the reboot still says so. Under --root the root is not running,
# so only a run that changed the file asks for the (first) boot.
spi_step() {
  local boot_config="$1" spidev="${2:-/dev/spidev0.0}"
  if grep -Eq '^[[:space:]]*dtparam=spi=on' "$boot_config"; then
    :
  elif grep -Eq '^[[:space:]]*#[[:space:]]*dtparam=spi=on' "$boot_config"; then
    sed -i -E 's/^[[:space:]]*#[[:space:]]*(dtparam=spi=on)/\1/' "$boot_config"
    say "turned SPI on in ${boot_config#"$ROOT"}"
    NEED_REBOOT=1
  else
    printf '\n# Doorstep: the RC522 card reader is on SPI0\ndtparam=spi=on\n' >>"$boot_config"
    say "turned SPI on in ${boot_config#"$ROOT"}"
    NEED_REBOOT=1
  fi
  if [ -z "$ROOT" ] && [ ! -e "$spidev" ]; then
    ((NEED_REBOOT)) || say "SPI is on in ${boot_config} but not yet in the running system (no $spidev)"
    NEED_REBOOT=1
  fi
}

# -- 3. the kiosk user --------------------------------------------------------------------------
# Without systemd-sysusers: the same as doorstep.sysusers with the shadow tools. A group the
# system lacks (a plain Debian has no spi or gpio, a minimal one no input or render) is
# created, as systemd-sysusers would.
kiosk_user_without_sysusers() {
  local group
  say "no systemd-sysusers here: adding the kiosk user and its groups with groupadd/useradd"
  for group in "${KIOSK_GROUPS[@]}"; do
    if ! getent group "$group" >/dev/null; then
      groupadd --system "$group"
      say "created the system group $group"
    fi
  done
  if ! id kiosk >/dev/null 2>&1; then
    useradd --system --home-dir / --no-create-home --shell /usr/sbin/nologin \
      --comment "Doorstep kiosk" kiosk
    say "created the system user kiosk"
  fi
  usermod -aG "$(
    IFS=,
    printf '%s' "${KIOSK_GROUPS[*]}"
  )" kiosk
}

# -- 8. systemd ---------------------------------------------------------------------------------
# Whether systemd manages this machine now (as sd_booted() tells): a chroot or a container has
# systemctl but no running systemd to reload or start anything.
systemd_running() { [ -d /run/systemd/system ]; }

# A step that changes the running system: done for real, or only shown (--root; no systemctl;
# systemd not running here). Returns the command's status when it ran, else 0.
run_or_show() {
  if [ -n "$ROOT" ]; then
    say "skipped (--root): $*"
  elif [ "$1" = systemctl ] && ! command -v systemctl >/dev/null; then
    say "skipped (no systemctl here): $*"
  elif [ "$1" = systemctl ] && ! systemd_running; then
    say "skipped (systemd is not running here): $*"
  else
    "$@"
  fi
}
