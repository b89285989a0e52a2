#!/bin/sh
# RPM: after an upgrade, a running hubgw restarts with the new binary.
if [ -d /run/systemd/system ]; then
    systemctl try-restart hubgw.service >/dev/null 2>&1 || true
fi
exit 0
