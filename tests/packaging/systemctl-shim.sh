#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Stand-in for systemctl inside the test chroot, placed first in PATH. Requests
# to a running systemd (start, stop, restart, daemon-reload, ...) are recorded
# in /var/log/systemctl-shim.log and succeed, so the tests can see what the
# maintainer scripts ask of systemd. Everything else (enable, preset,
# is-enabled, ...) goes to the real systemctl in offline mode, which edits the
# unit symlinks on disk as it would on a live host.
verb=
for arg in "$@"; do
	case "$arg" in
		-*) ;;
		*) verb=$arg; break ;;
	esac
done
case "$verb" in
	daemon-reload|daemon-reexec|start|stop|restart|try-restart|reload|reload-or-restart|kill|is-active|list-units)
		echo "$*" >>/var/log/systemctl-shim.log
		exit 0
		;;
esac
SYSTEMD_OFFLINE=1 exec /usr/bin/systemctl "$@"
