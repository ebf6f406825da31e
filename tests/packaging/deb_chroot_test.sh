#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Packaging test 2: the .deb in a clean Debian 12 chroot. Installs it with apt
# (dependencies resolved from the archive), runs the binary, verifies the unit
# with systemd-analyze, upgrades over an edited vigil.yaml (same default, then a
# changed default) and checks the edit survives, removes and purges, and checks
# what the maintainer scripts asked of systemd both without systemd (chroot,
# image build) and with it "running" (a recording systemctl, see
# systemctl-shim.sh).
# Usage: deb_chroot_test.sh PKG_DIR CACHE_DIR VERSION
set -euo pipefail
pkg_dir=$1 cache_dir=$2 version=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
start=$(date +%s)

v1=$version v2=$version.1 v3=$version.2
deb1="$pkg_dir/vigil_${v1}_amd64.deb"
deb2="$pkg_dir/vigil_${v2}_amd64.deb"
require_packages "$deb1" "$deb2"

make_test_root deb
echo "chroot ready in $(( $(date +%s) - start ))s"

# Downloaded dependencies are kept between runs.
archives="$cache_dir/apt-archives"
mkdir -p "$archives"
find "$archives" -name '*.deb' -exec cp -t "$root/var/cache/apt/archives/" {} +
cp "$deb1" "$deb2" "$root/tmp/"

in_root() {
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@" </dev/null
}
wants="$root/etc/systemd/system/multi-user.target.wants/vigil.service"

# ---- 1. first install, systemd not running --------------------------------------
t=$(date +%s)
check "apt installs the .deb and its dependencies" \
  in_root apt-get install -y -q --no-install-recommends "/tmp/vigil_${v1}_amd64.deb"
echo "install: $(( $(date +%s) - t ))s"
find "$root/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -nt "$archives/" {} +
expect_eq "vigil --version" "vigil $v1" "$(in_root vigil --version)"
expect_eq "dpkg status" "install ok installed $v1" "$(in_root dpkg-query -W -f='${Status} ${Version}' vigil)"
expect_eq "dpkg records the conffiles" "/etc/logrotate.d/vigil
/etc/vigil/rules.d/README
/etc/vigil/vigil.yaml" "$(in_root dpkg-query -W -f='${Conffiles}\n' vigil | awk 'NF {print $1}' | sort)"
expect_eq "modes on disk" "640 /etc/vigil/vigil.yaml
750 /var/lib/vigil
750 /var/log/vigil" "$(in_root stat -c '%a %n' /etc/vigil/vigil.yaml /var/lib/vigil /var/log/vigil)"
check "dependency procps installed (/bin/kill for ExecReload)" test -x "$root/bin/kill"
check "unit enabled (multi-user.target.wants symlink)" test -L "$wants"
expect_eq "no start without a running systemd" "" "$(shim_log)"

# The unit, against this system's systemd and the installed binary. --man=no:
# the chroot has no man-db; lintian checks the man page.
verify=$(systemd-analyze verify --root="$root" --man=no /usr/lib/systemd/system/vigil.service 2>&1) \
  || { echo "$verify" >&2; fail "systemd-analyze verify"; }
expect_eq "systemd-analyze verify: no findings" "" "$verify"
security=$(systemd-analyze security --root="$root" --offline=yes vigil.service 2>&1 | tail -n1 || true)
echo "systemd-analyze security: $security"

# The installed configuration and ruleset, as the service will load them.
dry=$(in_root vigil run --dry-run 2>&1) || { echo "$dry" >&2; fail "vigil run --dry-run"; }
expect_match "vigil run --dry-run accepts /etc/vigil/vigil.yaml and its rules" "$dry" \
  "^configuration \(/etc/vigil/vigil.yaml\) and rules are valid; [0-9]+ enforcing rule\(s\)$"
expect_no_match "vigil run --dry-run: no warnings" "$dry" "warn"

# `vigil rules validate` arrives with the rules engine; run it once the binary
# lists it (CLI11 prints the parent's help, status 0, for an unknown command).
if in_root vigil --help | grep -qE '^ +rules( |$)' && in_root vigil rules --help | grep -qE '^ +validate( |$)'; then
  validate=$(in_root vigil rules validate /usr/share/vigil/rules 2>&1) \
    || { echo "$validate" >&2; fail "vigil rules validate /usr/share/vigil/rules"; }
  echo "$validate" | tail -n 1
  expect_match "vigil rules validate: no errors" "$validate" "^0 error\(s\)"
else
  echo "note: this vigil has no 'rules validate' command yet; ruleset validation skipped"
fi

# logrotate (a Recommends): the snippet parses, a forced rotation renames the
# alert file with a date and signals the agent's main process to reopen.
check "apt installs logrotate" in_root apt-get install -y -q --no-install-recommends logrotate
find "$root/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -nt "$archives/" {} +
echo '{"rule":"packaging test"}' >"$root/var/log/vigil/alerts.json"
lr=$(in_root logrotate -d -s /tmp/logrotate.state /etc/logrotate.d/vigil 2>&1) \
  || { echo "$lr" >&2; fail "logrotate -d"; }
expect_no_match "logrotate -d: no errors" "$lr" "^error"
check "logrotate -f rotates" in_root logrotate -f -s /tmp/logrotate.state /etc/logrotate.d/vigil
check "alerts.json renamed with a date (alerts.json-YYYYMMDD)" \
  compgen -G "$root/var/log/vigil/alerts.json-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]"
expect_match "postrotate: SIGHUP to the main process" "$(shim_log)" \
  "^kill --signal=HUP --kill-who=main vigil\.service$"
rm -f "$root/var/log/systemctl-shim.log"

# ---- 2. upgrade over an edited vigil.yaml (default unchanged) -----------------
echo "# local edit by the packaging test" >>"$root/etc/vigil/vigil.yaml"
echo "# a local rule file" >"$root/etc/vigil/rules.d/local.yaml"
check "upgrade to $v2" in_root dpkg -i "/tmp/vigil_${v2}_amd64.deb"
expect_eq "binary still runs after the upgrade (reports the project version)" "vigil $v1" "$(in_root vigil --version)"
expect_eq "dpkg status after upgrade" "install ok installed $v2" \
  "$(in_root dpkg-query -W -f='${Status} ${Version}' vigil)"
check "upgrade keeps the edit to vigil.yaml" grep -qx "# local edit by the packaging test" "$root/etc/vigil/vigil.yaml"
check "no .dpkg-dist when the default did not change" test ! -e "$root/etc/vigil/vigil.yaml.dpkg-dist"
check "upgrade keeps local rules" test -f "$root/etc/vigil/rules.d/local.yaml"
check "upgrade keeps the unit enabled" test -L "$wants"
expect_eq "no restart without a running systemd" "" "$(shim_log)"

# ---- 3. upgrade with a changed default, systemd running -----------------------
# Same package with a new vigil.yaml and version, repacked with dpkg-deb.
repack="$root/tmp/repack"
dpkg-deb -R "$deb2" "$repack"
sed -i "s/^Version: .*/Version: $v3/" "$repack/DEBIAN/control"
echo "# new default shipped by $v3" >>"$repack/etc/vigil/vigil.yaml"
(cd "$repack" && find etc usr var -type f -exec md5sum {} + >DEBIAN/md5sums)
dpkg-deb -b --root-owner-group "$repack" "$root/tmp/vigil_${v3}_amd64.deb" >/dev/null
mkdir -p "$root/run/systemd/system"
check "upgrade to $v3 (--force-confold, as unattended upgrades do)" \
  in_root dpkg -i --force-confold "/tmp/vigil_${v3}_amd64.deb"
check "edit kept when the default changed" grep -qx "# local edit by the packaging test" "$root/etc/vigil/vigil.yaml"
check "new default beside it as vigil.yaml.dpkg-dist" \
  grep -qx "# new default shipped by $v3" "$root/etc/vigil/vigil.yaml.dpkg-dist"
log=$(shim_log)
expect_match "upgrade: daemon-reload" "$log" "(^| )daemon-reload$"
expect_match "upgrade: restart" "$log" "(^| )restart vigil\.service$"
expect_no_match "upgrade: no stop (no gap in coverage)" "$log" "(^| )stop vigil\.service$"
rm -f "$root/var/log/systemctl-shim.log"

# ---- 4. remove, systemd running ---------------------------------------------
check "dpkg -r" in_root dpkg -r vigil
expect_match "remove: stop" "$(shim_log)" "(^| )stop vigil\.service$"
check "binary gone" test ! -e "$root/usr/bin/vigil"
check "remove keeps edited vigil.yaml" grep -qx "# local edit by the packaging test" "$root/etc/vigil/vigil.yaml"
expect_eq "dpkg status after remove" "deinstall ok config-files" "$(in_root dpkg-query -W -f='${Status}' vigil)"
check "unit masked while only config remains" test "$(readlink "$root/etc/systemd/system/vigil.service")" = /dev/null

# ---- 5. purge ------------------------------------------------------------------
check "dpkg -P" in_root dpkg -P vigil
check "purge removes vigil.yaml" test ! -e "$root/etc/vigil/vigil.yaml"
check "purge removes the spool" test ! -e "$root/var/lib/vigil"
check "purge removes the logs" test ! -e "$root/var/log/vigil"
check "purge removes the enablement" test ! -e "$wants" -a ! -L "$wants"
check "purge removes the mask" test ! -L "$root/etc/systemd/system/vigil.service"
check "purge leaves the administrator's own rule files" test -f "$root/etc/vigil/rules.d/local.yaml"

# ---- 6. first install with systemd running ------------------------------------
rm -f "$root/var/log/systemctl-shim.log"
check "install again, systemd running" in_root dpkg -i "/tmp/vigil_${v1}_amd64.deb"
log=$(shim_log)
expect_match "install: start" "$log" "(^| )start vigil\.service$"
expect_no_match "install: no restart" "$log" "(^| )restart vigil\.service$"
check "enabled again after purge and reinstall" test -L "$wants"

echo "deb chroot test: $(( $(date +%s) - start ))s"
finish
