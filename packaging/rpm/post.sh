# SPDX-License-Identifier: Apache-2.0
# vigil %post ($1: number of vigil packages installed after this step; 1 on a
# first install, 2 or more on an upgrade). Enables the unit on a first install
# and starts it when systemd is running; an upgrade's restart happens in the
# old package's %postun, after its files are gone. systemctl also works offline
# (chroot, image build): enable then only writes the symlinks.
if command -v systemctl >/dev/null 2>&1; then
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload >/dev/null 2>&1 || :
	fi
	if [ "$1" -eq 1 ]; then
		systemctl --no-reload enable vigil.service >/dev/null 2>&1 || :
		if [ -d /run/systemd/system ]; then
			systemctl start vigil.service >/dev/null 2>&1 || :
		fi
	fi
fi
