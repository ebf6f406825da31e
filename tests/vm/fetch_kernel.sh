#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fetch_kernel.sh CACHE_DIR VERSION
#
# Makes sure CACHE_DIR/<VERSION>/vmlinuz exists (a Debian cloud kernel with BPF LSM and BTF) and
# prints its path. VERSION is one of: 5.10 (bullseye), 6.1 (bookworm), 6.12 (trixie).
#
# Downloads once: the kernel package is fetched with apt-get using a PRIVATE apt state under
# CACHE_DIR/apt (its own sources file, lists and cache), so the host's apt configuration and
# lists stay untouched. The archive URI is the one the host's own apt sources already use for its
# release (read through `apt-get indextargets`), never a hard-coded host. A later call with the
# kernel already in the cache makes no network access. Concurrent callers serialise on a lock.
set -euo pipefail

cache=${1:?usage: fetch_kernel.sh CACHE_DIR VERSION}
version=${2:?usage: fetch_kernel.sh CACHE_DIR VERSION}

case "$version" in
  5.10) suite=bullseye; pattern='^linux-image-5\.10\.0-32-cloud-amd64$' ;;
  6.1)  suite=bookworm; pattern='^linux-image-6\.1\.0-[0-9]+-cloud-amd64$' ;;
  6.12) suite=trixie;   pattern='^linux-image-6\.12\.[0-9]+\+deb13-cloud-amd64$' ;;
  *) echo "fetch_kernel: unknown kernel version '$version' (known: 5.10 6.1 6.12)" >&2; exit 2 ;;
esac

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
dest="$cache/$version"
if [ -s "$dest/vmlinuz" ]; then
  echo "$dest/vmlinuz"
  exit 0
fi

exec 9>"$cache/.lock"
flock 9
if [ -s "$dest/vmlinuz" ]; then  # another caller fetched it while we waited
  echo "$dest/vmlinuz"
  exit 0
fi

# The host's main archive: the deb repository whose codename is the host's own release.
host_codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
archive=$(apt-get indextargets --format '$(TARGET_OF) $(CODENAME) $(REPO_URI)' 2>/dev/null |
          awk -v c="$host_codename" '$1 == "deb" && $2 == c { print $3; exit }')
if [ -z "$archive" ]; then
  # The host has no package lists yet: read its sources files (one-line and deb822 formats).
  archive=$( { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
               sed 's/\[[^]]*\]//' |
               awk -v c="$host_codename" '$1 == "deb" && $3 == c { print $2; exit }'
             } || true)
fi
if [ -z "$archive" ]; then
  archive=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
            awk -v c="$host_codename" '
              /^[ \t]*$/ { if (deb && suite && uri) { print uri; exit } deb = suite = 0; uri = "" }
              /^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
              /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == c) suite = 1 }
              /^URIs:/ { uri = $2 }
              END { if (deb && suite && uri) print uri }' | head -n1)
fi
if [ -z "$archive" ]; then
  echo "fetch_kernel: no deb repository for '$host_codename' in the host's apt sources" >&2
  exit 1
fi

apt_dir="$cache/apt/$suite"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
echo "deb $archive $suite main" > "$apt_dir/sources.list"
apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=/dev/null
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
          -o APT::Sandbox::User=root -o Debug::NoLocking=1)

echo "fetch_kernel: $version: apt-get update ($archive $suite main)" >&2
apt-get "${apt_opts[@]}" -qq update >&2
package=$(apt-cache "${apt_opts[@]}" pkgnames linux-image- | grep -E "$pattern" | sort -V | tail -n1)
if [ -z "$package" ]; then
  echo "fetch_kernel: no package matching $pattern in $suite" >&2
  exit 1
fi

work=$(mktemp -d "$cache/.fetch-$version.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "fetch_kernel: $version: apt-get download $package" >&2
(cd "$work" && apt-get "${apt_opts[@]}" -qq download "$package" >&2)
deb=$(ls "$work"/*.deb)
dpkg-deb -x "$deb" "$work/root"
vmlinuz=$(ls "$work"/root/boot/vmlinuz-* | head -n1)
config=$(ls "$work"/root/boot/config-* | head -n1)
rm -rf "$dest"
mkdir -p "$dest"
cp "$config" "$dest/config"
cp "$vmlinuz" "$dest/vmlinuz.tmp"
echo "$package $(stat -c %s "$deb")" > "$dest/package"
mv "$dest/vmlinuz.tmp" "$dest/vmlinuz"
rm -rf "$apt_dir"  # the package lists are only needed to resolve the name once
rmdir "$cache/apt" 2>/dev/null || true
echo "$dest/vmlinuz"
