#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Everyday administration, run for real under `vigil run` by vigil_e2e_test:
# no default rule may alert on any of it at WARNING or above (issue 17).
# Usage: benign_workload.sh SCRATCH_DIR  (an empty directory the caller removes)
#
# What touches the host is kept reversible: accounts are made in a private
# mount namespace over overlays of /etc, /home and /var (the host's files are
# only read), the test package is installed and purged, every other file is
# under SCRATCH_DIR. Steps whose tool is absent on this host say so and are
# skipped; a step that fails fails the workload (set -e).
set -eu
s=$1
cd "$s"
say() { echo "benign: $*"; }

# --- accounts: useradd/usermod/chsh/passwd/userdel in a private mount namespace
say "accounts in a private mount namespace"
mkdir -p ovl
unshare -m sh -eu -c '
  mount --make-rprivate /
  for d in /etc /home /var; do
    n=$(echo "$d" | tr / _)
    mkdir -p "ovl/up$n" "ovl/work$n"
    mount -t overlay overlay -o "lowerdir=$d,upperdir=$PWD/ovl/up$n,workdir=$PWD/ovl/work$n" "$d"
  done
  useradd -m -s /bin/bash vigil-e2e-user
  usermod -c "vigil e2e" vigil-e2e-user
  echo "vigil-e2e-user:Correct-Horse-9" | chpasswd
  chsh -s /bin/sh vigil-e2e-user
  passwd -l vigil-e2e-user >/dev/null
  groupadd vigil-e2e-group
  gpasswd -a vigil-e2e-user vigil-e2e-group >/dev/null
  userdel -r vigil-e2e-user 2>/dev/null
  groupdel vigil-e2e-group
'

# --- a package built here, installed and purged with dpkg and apt
say "local .deb install and purge"
pkg=vigil-e2e-benign
# The package exists only for this test: one found installed was left by an
# interrupted run, and is removed rather than failing every run after it.
if dpkg -s "$pkg" >/dev/null 2>&1; then
  echo "benign: $pkg left installed by an interrupted run: purging it first" >&2
  dpkg --purge "$pkg" >/dev/null
fi
mkdir -p deb/DEBIAN deb/usr/share/doc/$pkg
printf 'Package: %s\nVersion: 1.0\nArchitecture: all\nMaintainer: vigil e2e <e2e@localhost>\nDescription: vigil e2e benign workload\n' \
  "$pkg" > deb/DEBIAN/control
printf '#!/bin/sh\nset -e\nmkdir -p /var/lib/%s\necho installed > /var/lib/%s/state\n' "$pkg" "$pkg" > deb/DEBIAN/postinst
printf '#!/bin/sh\nset -e\nrm -rf /var/lib/%s\n' "$pkg" > deb/DEBIAN/postrm
chmod 0755 deb/DEBIAN/postinst deb/DEBIAN/postrm
echo "vigil e2e" > deb/usr/share/doc/$pkg/README
dpkg-deb --build --root-owner-group deb "$pkg.deb" >/dev/null
dpkg -i "$pkg.deb" >/dev/null
dpkg -P "$pkg" >/dev/null
apt-get -o DPkg::Lock::Timeout=30 -y -q install "./$pkg.deb" >/dev/null 2>&1
apt-get -o DPkg::Lock::Timeout=30 -y -q purge "$pkg" >/dev/null 2>&1

# --- services
if [ "$(cat /proc/1/comm)" = systemd ]; then
  say "systemctl daemon-reload"
  systemctl daemon-reload
else
  say "systemctl daemon-reload skipped: PID 1 is not systemd"
fi

# --- interactive bash sessions that exit: the first creates its history file
# (O_CREAT|O_TRUNC), the second appends to it
say "interactive bash sessions"
mkdir -p home
for i in 1 2; do
  printf 'echo session %s\ncd /\nls >/dev/null\nexit\n' "$i" | HOME="$s/home" script -qc "bash -i" /dev/null >/dev/null
done
test -s home/.bash_history

# --- ping (busybox parks its ICMP socket on fd 0; iputils where installed)
say "ping"
busybox ping -c 1 -W 1 127.0.0.1 >/dev/null
if command -v ping >/dev/null; then ping -c 1 -W 1 127.0.0.1 >/dev/null; fi

# --- a compiler build and run, git, tar, ssh-keygen
say "gcc, git, tar, ssh-keygen"
printf '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n' > hello.c
gcc -O2 -o hello hello.c
./hello >/dev/null
mkdir repo
(cd repo && git init -q && git config user.email e2e@localhost && git config user.name e2e &&
  cp ../hello.c . && git add hello.c && git commit -qm init && git log --oneline >/dev/null)
tar -cf repo.tar repo && mkdir untar && tar -xf repo.tar -C untar
if command -v ssh-keygen >/dev/null; then
  ssh-keygen -q -t ed25519 -N '' -f "$s/id_e2e"
else
  say "ssh-keygen skipped: not installed"
fi

# --- logrotate on a scratch log
if command -v logrotate >/dev/null; then
  say "logrotate"
  mkdir -p logs
  echo line > logs/app.log
  printf '%s/logs/app.log {\n  rotate 2\n  compress\n  missingok\n}\n' "$s" > logrotate.conf
  logrotate -f -s "$s/logrotate.state" logrotate.conf
else
  say "logrotate skipped: not installed"
fi

# --- a web server and its client on loopback
say "python http server and client"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$s" >http.log 2>&1 &
srv=$!
port=
for _ in $(seq 1 50); do
  port=$(sed -n 's/.*port \([0-9][0-9]*\).*/\1/p' http.log | head -n 1)
  [ -n "$port" ] && break
  sleep 0.1
done
python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:%s/hello.c' % sys.argv[1]).read()" "$port"
kill "$srv" 2>/dev/null
wait "$srv" || true

cat /etc/passwd >/dev/null
say "done"
