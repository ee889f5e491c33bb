#!/bin/sh
# /usr/local/bin/kiosk-central (installed by scripts/install-central.sh): runs the installed
# kiosk-central as the doorstep-central user, who owns the database and its backups, so that
# files it makes (a -wal, a backup) are never root's, and it reads
# /etc/doorstep-central/central.toml like the server does. An admin types
# `kiosk-central doctor` or `kiosk-central device add ...` (sudo asks for the admin's password).
# Files to import must be readable by that user: copy them to /tmp first.
CENTRAL=/opt/doorstep-central/venv/bin/kiosk-central
if [ "$(id -un)" = doorstep-central ]; then
  exec "$CENTRAL" "$@"
fi
exec sudo -u doorstep-central -- "$CENTRAL" "$@"
