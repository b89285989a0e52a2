#!/bin/sh
# The unit is gone (or replaced, on upgrade): tell systemd. The hubgw user
# stays, as files it owned may remain.
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
