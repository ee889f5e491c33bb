#!/bin/sh
# /usr/local/bin/kiosk-admin (installed by scripts/install-pi.sh): runs the installed
# kiosk-admin as the kiosk user, who owns the data folder, so that an admin logged in over SSH
# can type `kiosk-admin status` (sudo asks for the admin's password). Files to import must be
# readable by the kiosk user: copy them to /tmp first (e.g. risk import /tmp/council-list.csv).
ADMIN=/opt/doorstep/current/venv/bin/kiosk-admin
if [ "$(id -un)" = kiosk ]; then
  exec "$ADMIN" "$@"
fi
exec sudo -u kiosk -- "$ADMIN" "$@"
