#!/bin/sh
# The hubgw user and group must exist before the files owned by its group
# are unpacked (/etc/hubgw), so this creates them from the definition the
# package installs as /usr/lib/sysusers.d/hubgw.conf (packaging/main.go puts
# that file's line here).
set -e
echo '@SYSUSERS@' | systemd-sysusers --replace=/usr/lib/sysusers.d/hubgw.conf -
