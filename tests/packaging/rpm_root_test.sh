#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Packaging test 3: the .rpm's scriptlets and %config(noreplace) handling, run
# by the real rpm into a clean Debian 12 root (rpm --root). The libraries are
# named the RPM way (libspdlog.so.1.10()(64bit)) and the Debian root has no rpm
# database of them, so dependencies are not resolved here (--nodeps): that is
# checked on the package metadata by build_packages.sh. What the scriptlets ask
# of systemd is recorded by systemctl-shim.sh.
# Usage: rpm_root_test.sh PKG_DIR CACHE_DIR VERSION
set -euo pipefail
pkg_dir=$1 cache_dir=$2 version=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
start=$(date +%s)

v1=$version v2=$version.1
rpm1="$pkg_dir/vigil-${v1}-1.x86_64.rpm"
rpm2="$pkg_dir/vigil-${v2}-1.x86_64.rpm"
require_packages "$rpm1" "$rpm2"

make_test_root rpm

rpm_root() {
  rpm --root "$root" --nodeps \
    --define '_install_script_path /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "$@" 2>&1 \
    | grep -v -e '^rpm: RPM should not be used directly' -e '^rpm: However assuming you know'
  return "${PIPESTATUS[0]}"
}
wants="$root/etc/systemd/system/multi-user.target.wants/vigil.service"

# ---- 1. first install, systemd not running --------------------------------------
check "rpm -i" rpm_root -i "$rpm1"
expect_eq "rpm -q" "vigil-$v1-1.x86_64" "$(rpm --root "$root" -q vigil)"
check "binary installed" test -x "$root/usr/bin/vigil"
expect_eq "config files marked" "/etc/logrotate.d/vigil
/etc/vigil/rules.d/README
/etc/vigil/vigil.yaml" "$(rpm --root "$root" -qc vigil | sort)"
expect_eq "modes on disk" "640 /etc/vigil/vigil.yaml
750 /var/lib/vigil
750 /var/log/vigil" "$(cd "$root" && stat -c '%a /%n' etc/vigil/vigil.yaml var/lib/vigil var/log/vigil)"
check "unit enabled (offline systemctl enable)" test -L "$wants"
expect_eq "no start without a running systemd" "" "$(shim_log)"
check "rpm -V: installed files match the package" rpm_root -V vigil

# ---- 2. upgrade over an edited vigil.yaml, systemd running ---------------------
echo "# local edit by the packaging test" >>"$root/etc/vigil/vigil.yaml"
echo "# a local rule file" >"$root/etc/vigil/rules.d/local.yaml"
mkdir -p "$root/run/systemd/system"
check "rpm -U to $v2" rpm_root -U "$rpm2"
expect_eq "rpm -q after upgrade" "vigil-$v2-1.x86_64" "$(rpm --root "$root" -q vigil)"
check "upgrade keeps the edit to vigil.yaml" grep -qx "# local edit by the packaging test" "$root/etc/vigil/vigil.yaml"
check "no .rpmnew when the default did not change" test ! -e "$root/etc/vigil/vigil.yaml.rpmnew"
check "upgrade keeps local rules" test -f "$root/etc/vigil/rules.d/local.yaml"
check "upgrade keeps the unit enabled" test -L "$wants"
log=$(shim_log)
expect_match "upgrade: daemon-reload" "$log" "(^| )daemon-reload$"
expect_match "upgrade: try-restart" "$log" "(^| )try-restart vigil\\.service$"
expect_no_match "upgrade: no stop" "$log" "(^| )stop vigil\\.service$"
rm -f "$root/var/log/systemctl-shim.log"

# ---- 3. erase, systemd running ----------------------------------------------------
check "rpm -e" rpm_root -e vigil
expect_match "erase: stop" "$(shim_log)" "(^| )stop vigil\\.service$"
check "erase disables the unit" test ! -e "$wants" -a ! -L "$wants"
check "binary gone" test ! -e "$root/usr/bin/vigil"
check "edited vigil.yaml saved as .rpmsave" \
  grep -qx "# local edit by the packaging test" "$root/etc/vigil/vigil.yaml.rpmsave"
check "erase leaves the administrator's own rule files" test -f "$root/etc/vigil/rules.d/local.yaml"

# ---- 4. first install with systemd running --------------------------------------
rm -f "$root/var/log/systemctl-shim.log"
check "rpm -i again, systemd running" rpm_root -i "$rpm1"
log=$(shim_log)
expect_match "install: start" "$log" "(^| )start vigil\\.service$"
expect_no_match "install: no restart" "$log" "restart vigil\\.service$"

echo "rpm root test: $(( $(date +%s) - start ))s"
finish
