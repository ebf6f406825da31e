#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Packaging test 1: builds the .deb and .rpm with CPack from the build tree
# (release version and a version-bumped copy for the upgrade tests), then checks
# their contents, configuration-file marking, metadata and dependencies, and
# runs lintian and rpmlint.
# Usage: build_packages.sh BUILD_DIR OUT_DIR VERSION SOURCE_DIR
set -euo pipefail
build_dir=$1 out_dir=$2 version=$3 src_dir=$4
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

# The upgrade tests need a newer version of the same build; .1 sorts after the
# release in both dpkg and rpm ordering.
bumped="$version.1"
rm -rf "$out_dir"
mkdir -p "$out_dir"
start=$(date +%s)
for v in "$version" "$bumped"; do
  for g in DEB RPM; do
    cpack --config "$build_dir/CPackConfig.cmake" -G "$g" -B "$out_dir/build-$v" \
      -D CPACK_PACKAGE_VERSION="$v" >"$out_dir/cpack-$g-$v.log" 2>&1 \
      || { cat "$out_dir/cpack-$g-$v.log" >&2; fail "cpack -G $g (version $v)"; }
  done
  mv "$out_dir/build-$v"/*.deb "$out_dir/build-$v"/*.rpm "$out_dir/"
  rm -rf "$out_dir/build-$v"
done
echo "cpack: 4 packages in $(( $(date +%s) - start ))s"

deb="$out_dir/vigil_${version}_amd64.deb"
rpm="$out_dir/vigil-${version}-1.x86_64.rpm"
check "deb built" test -s "$deb"
check "rpm built" test -s "$rpm"
check "bumped deb built" test -s "$out_dir/vigil_${bumped}_amd64.deb"
check "bumped rpm built" test -s "$out_dir/vigil-${bumped}-1.x86_64.rpm"
echo "sizes: $(stat -c '%n %s' "$deb" "$rpm" | sed "s|$out_dir/||g" | tr '\n' ' ')"

# ---- contents -------------------------------------------------------------
# Default ruleset: every *.yaml under rules/ and nothing else.
expected_rules=$(cd "$src_dir/rules" && find . -name '*.yaml' -type f | sed 's|^\./||' | sort)

deb_listing=$(dpkg-deb -c "$deb")
deb_files=$(awk '{print substr($1,1,1) " " $1 " " $NF}' <<<"$deb_listing" | sed 's| \./| /|')
deb_rules=$(awk '$1 != "d" && $3 ~ "^/usr/share/vigil/rules/" {sub("^/usr/share/vigil/rules/", "", $3); print $3}' \
  <<<"$deb_files" | sort)
expect_eq "deb: default ruleset = rules/**/*.yaml" "$expected_rules" "$deb_rules"
deb_other=$(awk '$1 != "d" && $3 !~ "^/usr/share/vigil/rules/" {print $2 " " $3}' <<<"$deb_files" | sort -k2)
expect_eq "deb: files and modes" "$(sort -k2 <<'LIST'
-rw-r--r-- /etc/logrotate.d/vigil
-rw-r--r-- /etc/vigil/rules.d/README
-rw-r----- /etc/vigil/vigil.yaml
-rwxr-xr-x /usr/bin/vigil
-rw-r--r-- /usr/lib/systemd/system/vigil.service
-rw-r--r-- /usr/share/doc/vigil/changelog.gz
-rw-r--r-- /usr/share/doc/vigil/copyright
-rw-r--r-- /usr/share/man/man1/vigil.1.gz
LIST
)" "$deb_other"
deb_dirs=$(awk '$1 == "d" {print $2 " " $3}' <<<"$deb_files")
for d in "drwxr-x--- /var/lib/vigil/" "drwxr-x--- /var/log/vigil/" "drwxr-xr-x /etc/vigil/rules.d/" \
         "drwxr-xr-x /usr/share/vigil/rules/"; do
  expect_contains "deb: folder $d" "$deb_dirs" "$d"
done
expect_eq "deb: conffiles" "/etc/logrotate.d/vigil
/etc/vigil/rules.d/README
/etc/vigil/vigil.yaml" "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | sort)"
for s in postinst prerm postrm; do
  check "deb: $s is executable" sh -c "dpkg-deb --ctrl-tarfile '$deb' | tar -tv ./$s | grep -q '^-rwxr-xr-x'"
done

rpm_files=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm" | grep -v ' /usr/lib/.build-id')
rpm_rules=$(awk '$1 !~ /^d/ && $2 ~ "^/usr/share/vigil/rules/" {sub("^/usr/share/vigil/rules/", "", $2); print $2}' \
  <<<"$rpm_files" | sort)
expect_eq "rpm: default ruleset = rules/**/*.yaml" "$expected_rules" "$rpm_rules"
rpm_other=$(awk '$1 !~ /^d/ && $2 !~ "^/usr/share/vigil/rules/"' <<<"$rpm_files" | sort -k2)
expect_eq "rpm: files and modes (same as deb)" "$deb_other" "$rpm_other"
for d in "drwxr-x--- /var/lib/vigil" "drwxr-x--- /var/log/vigil" "drwxr-xr-x /etc/vigil" \
         "drwxr-xr-x /etc/vigil/rules.d" "drwxr-xr-x /usr/share/vigil/rules"; do
  expect_contains "rpm: owns folder $d" "$rpm_files" "$d"
done
# Folders of the base system must stay owned by the filesystem/systemd packages.
for d in /etc /etc/logrotate.d /usr/lib/systemd/system /var /var/lib /var/log /usr/share/man/man1; do
  expect_not_contains "rpm: does not own $d" "$(awk '{print $2}' <<<"$rpm_files")" "$d"
done
# %config(noreplace): rpm's file flags c (config) and n (noreplace).
rpm_config=$(rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$rpm" | awk '$2 ~ /c/')
expect_eq "rpm: %config(noreplace) files" "/etc/logrotate.d/vigil cn
/etc/vigil/rules.d/README cn
/etc/vigil/vigil.yaml cn" "$(sort <<<"$rpm_config")"
expect_eq "rpm: --configfiles" "/etc/logrotate.d/vigil
/etc/vigil/rules.d/README
/etc/vigil/vigil.yaml" "$(rpm -qp --configfiles "$rpm" | sort)"
rpm_scripts=$(rpm -qp --scripts "$rpm")
for s in "postinstall scriptlet" "preuninstall scriptlet" "postuninstall scriptlet"; do
  check "rpm: has $s" grep -q "^$s" <<<"$rpm_scripts"
done

# ---- metadata ---------------------------------------------------------------
expect_eq "deb: Version" "$version" "$(dpkg-deb -f "$deb" Version)"
expect_eq "deb: bumped Version" "$bumped" "$(dpkg-deb -f "$out_dir/vigil_${bumped}_amd64.deb" Version)"
expect_eq "rpm: version-release" "$version-1" "$(rpm -qp --qf '%{VERSION}-%{RELEASE}' "$rpm")"
expect_eq "deb: changelog names this version" "vigil ($version) unstable; urgency=medium" \
  "$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/vigil/changelog.gz | gzip -dc | head -n1)"
check "rpm: changelog names this version" \
  sh -c "rpm -qp --changelog '$rpm' | head -n1 | grep -q -- '- $version-1\$'"

# Dependencies: each shared library the binary needs must be covered, by the
# package that provides it on this system (deb) or by an autoreq (rpm).
bin_dir=$(mktemp -d)
trap 'rm -rf "$bin_dir"' EXIT
dpkg-deb -x "$deb" "$bin_dir"
needed=$(readelf -d "$bin_dir/usr/bin/vigil" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
check "vigil binary needs shared libraries" test -n "$needed"
depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//')
rpm_requires=$(rpm -qp --requires "$rpm")
for lib in $needed; do
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ && !p {p = $NF} END {print p}')
  [ -n "$path" ] || fail "$lib (needed by vigil) not found by ldconfig"
  # dpkg knows the path it installed, which usrmerge may have moved under /usr.
  owner=$(dpkg -S "$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null) \
    || fail "no package owns $path ($lib)"
  pkg=$(awk -F: 'NR == 1 {print $1}' <<<"$owner")
  # The dependency may name the package or a virtual package it provides
  # (libspdlog1.10 provides libspdlog1.10-fmt9).
  names=$(dpkg-query -W -f='${Package}\n${Provides}\n' "$pkg" | tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep .)
  covered=$(grep -xF -f <(printf '%s\n' "$names") <<<"$depends" || true)
  [ -n "$covered" ] || { echo "Depends: $depends" >&2; fail "deb: no dependency covers $lib (package $pkg)"; }
  pass_count=$((pass_count + 1))
  echo "ok: deb: Depends covers $lib ($covered)"
  expect_contains "rpm: Requires covers $lib" "$rpm_requires" "$lib()(64bit)"
done
expect_contains "deb: Depends procps (/bin/kill for ExecReload)" "$depends" procps
expect_contains "deb: Recommends logrotate" "$(dpkg-deb -f "$deb" Recommends)" logrotate
expect_contains "rpm: Requires logrotate" "$rpm_requires" logrotate

# ---- linters ------------------------------------------------------------------
# No errors; warnings only from the recorded list (docs/install.md says why),
# so a new one fails here instead of going unnoticed.
start=$(date +%s)
lintian_out=$(lintian --pedantic --display-info --fail-on none "$deb" 2>&1) \
  || { echo "$lintian_out" >&2; fail "lintian did not run"; }
echo "lintian ($(( $(date +%s) - start ))s):"
echo "$lintian_out"
expect_eq "lintian: no errors" "" "$(grep '^E:' <<<"$lintian_out" || true)"
expect_eq "lintian: only the recorded warnings" \
  "$(grep -v '^#' "$here/lintian-warnings.txt" | sort)" \
  "$(grep '^W:' <<<"$lintian_out" | sort || true)"

rpmlint_out=$(rpmlint -c "$src_dir/packaging/rpm/rpmlint.toml" "$rpm" 2>&1) \
  || { echo "$rpmlint_out" >&2; fail "rpmlint reported errors"; }
echo "$rpmlint_out"
expect_eq "rpmlint: no errors" "" "$(grep ': E: ' <<<"$rpmlint_out" || true)"
expect_eq "rpmlint: only the recorded warnings" \
  "$(grep -v '^#' "$here/rpmlint-warnings.txt" | sort)" \
  "$(grep ': W: ' <<<"$rpmlint_out" | sort || true)"
finish
