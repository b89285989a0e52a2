#!/bin/sh
# The unit is new or changed: tell systemd. The service is not enabled or
# started: the hub's URL and credentials need to be set first
# (/etc/hubgw/hubgw.yaml, or hub-xmlrpc-api's /etc/hub/hub.conf), then
# `systemctl enable --now hubgw`. On Debian, an upgrade restarts a running
# service here (on RPM systems, posttrans.sh does).
set -e
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null 2>&1 || true
    if [ "$1" = configure ] && [ -n "$2" ] && command -v deb-systemd-invoke >/dev/null 2>&1; then
        deb-systemd-invoke try-restart hubgw.service >/dev/null 2>&1 || true
    fi
fi
exit 0
