# SPDX-License-Identifier: Apache-2.0
# vigil %postun ($1: packages left; 1 or more on upgrade). Reloads systemd's
# view of the unit; on upgrade restarts the sensor if it was running, so the new
# binary takes over.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload >/dev/null 2>&1 || :
	if [ "$1" -ge 1 ]; then
		systemctl try-restart vigil.service >/dev/null 2>&1 || :
	fi
fi
