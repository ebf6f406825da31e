# SPDX-License-Identifier: Apache-2.0
# vigil %preun ($1: packages left after this step; 0 means removal, not
# upgrade). On removal: disable the unit and stop the sensor.
if [ "$1" -eq 0 ] && command -v systemctl >/dev/null 2>&1; then
	systemctl --no-reload disable vigil.service >/dev/null 2>&1 || :
	if [ -d /run/systemd/system ]; then
		systemctl stop vigil.service >/dev/null 2>&1 || :
	fi
fi
