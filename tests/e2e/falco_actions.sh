#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Falco's event-generator (github.com/falcosecurity/event-generator,
# Apache-2.0), its host actions in events/syscall/*.go, reproduced here in
# shell: the same system calls, paths, commands, arguments and process names
# (its SpawnAs/SpawnAsWithSymlink helpers run a copy or a symlink of the
# generator under a server's name: here a copy or symlink of python3 or of
# /bin/true under that name). vigil_e2e_test runs this under
# `vigil run -r <Falco's rule files>` and asserts that each action's rule fired
# (the table in falco_actions_table.h, documented in docs/rules.md; the
# container-only actions are falco_container_actions.sh).
# Safety, as technique_actions.sh:
# - writes under /bin, /etc, /lib, /root, /home, /var/lib, /dev go to tmpfs
#   mounts over those directories in a private mount namespace (unshare -m):
#   they vanish with it; reads of /etc/shadow are read-only opens;
# - network actions run in a fresh network namespace with loopback only (the
#   remote addresses the generator uses are put on lo, names come from a
#   bind-mounted /etc/hosts): no packet leaves;
# - tools this host lacks (crontab, nmap, sudoedit, pkexec) are copies of
#   /bin/true under the tool's name: the rules read the name and arguments.
# The generator's random name suffixes are TAG here, so the test finds them.
# Usage: falco_actions.sh DIR TAG
set -u
what="falco action"
. "$(dirname "$0")/actions_lib.sh"
# programs run as the daemon user (runAsUser, becameUser) need to reach DIR/bin
chmod 711 "$d"
mkdir -p "$d/bin"
chmod 755 "$d/bin"
fake() { cp /bin/true "$d/bin/$1"; }
# a per-action temp dir, as os.MkdirTemp(os.TempDir(), "falco-event-generator-syscall-X-")
tmp() { mkdir -p "$d/falco-event-generator-syscall-$1-$t" && echo "$d/falco-event-generator-syscall-$1-$t"; }
# Everything the private-namespace helpers need is imported before any tmpfs
# goes over a system directory.
cat > ns.py <<'EOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def tmpfs(where):
    if libc.mount(b"e2e", where.encode(), b"tmpfs", 0, None) != 0:
        sys.exit("mount tmpfs on %s: %s" % (where, os.strerror(ctypes.get_errno())))
def private():
    if libc.mount(b"none", b"/", None, 0x4000 | 0x40000, None) != 0:  # MS_REC | MS_PRIVATE
        sys.exit("make / private failed")
def create_temp(path):
    # os.CreateTemp: O_RDWR|O_CREAT|O_EXCL, 0600; then removed
    os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    os.remove(path)
EOF

# --- falco_rules.yaml ---

# directory_traversal_monitored_file_read.go
run "$py" -c "import os; os.close(os.open('/etc/../etc/../etc/shadow', os.O_RDONLY))  # e2e-$t"

# read_sensitive_file_untrusted.go
run "$py" -c "import os; os.close(os.open('/etc/shadow', os.O_RDONLY))  # e2e-$t-untrusted"

# read_sensitive_file_trusted_after_startup.go: the same open by "httpd"
# (a symlink) after 6 s; runs in the background while the rest goes on
ln -sf "$py" "$d/bin/httpd"
"$d/bin/httpd" -c "import os, time; time.sleep(6); os.close(os.open('/etc/shadow', os.O_RDONLY))  # e2e-$t" \
  >/dev/null 2>&1 </dev/null &
trusted=$!

# run_shell_untrusted.go: "httpd" runs sh -c "ls > /dev/null"
run "$d/bin/httpd" -c "import subprocess; subprocess.run(['sh', '-c', 'ls > /dev/null'])  # e2e-$t"

# system_user_interactive.go: /bin/login run as daemon (uid, gid, no groups)
run setpriv --reuid=daemon --regid=daemon --clear-groups /bin/login

# search_private_keys_or_passwords.go (os.TempDir() is DIR here)
run find "$d" -maxdepth 1 -iname id_rsa

# clear_log_activities.go: open O_CREAT|O_TRUNC|O_WRONLY of TMP/syslog
x=$(tmp ClearLogActivities)
run "$py" -c "import os; os.close(os.open('$x/syslog', os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o644))  # e2e-$t"

# remove_bulk_data_from_disk.go
echo "bulk data content" > "$d/falco-event-generator-syscall-RemoveBulkDataFromDisk-$t"
run shred -u "$d/falco-event-generator-syscall-RemoveBulkDataFromDisk-$t"

# create_symlink_over_sensitive_files.go: ln -s /etc TMP/etc_link, then list it
x=$(tmp CreateSymlinkOverSensitiveFiles)
run ln -s /etc "$x/etc_link"
run ls "$x/etc_link/"

# create_hardlink_over_sensitive_files.go: ln -v /etc/shadow TMP/shadow_link,
# read it, remove it (DIR is root's, 0711, the link lives for milliseconds)
x=$(tmp CreateHardlinkOverSensitiveFiles)
run ln -v /etc/shadow "$x/shadow_link"
run cat "$x/shadow_link"
rm -f "$x/shadow_link"

# ptrace_attached_to_process.go: PTRACE_ATTACH to a child sleep 3600
run "$py" -c "
import ctypes, os, signal, subprocess
libc = ctypes.CDLL(None, use_errno=True)
p = subprocess.Popen(['sleep', '3600'])
if libc.ptrace(16, p.pid, 0, 0) == 0:  # PTRACE_ATTACH
    os.waitpid(p.pid, 0)
    libc.ptrace(17, p.pid, 0, 0)  # PTRACE_DETACH
p.kill(); p.wait()  # e2e-$t"

# ptrace_anti_debug_attempt.go: a child that asks PTRACE_TRACEME, then execs sleep 3600
run "$py" -c "
import ctypes, os, signal
libc = ctypes.CDLL(None, use_errno=True)
pid = os.fork()
if pid == 0:
    libc.ptrace(0, 0, 0, 0)  # PTRACE_TRACEME
    os.execv('/usr/bin/sleep', ['sleep', '3600'])
os.waitpid(pid, 0)
os.kill(pid, signal.SIGKILL); os.waitpid(pid, 0)  # e2e-$t"

# find_aws_credentials.go
run find "$d" -maxdepth 1 -iname .aws/credentials

# execution_from_dev_shm.go: a script written to /dev/shm (a tmpfs over it,
# private namespace) and run through sh -c
cat > devshm.sh <<EOF
mount --make-rprivate / && mount -t tmpfs e2e /dev/shm || exit 1
f=/dev/shm/falco-event-generator-syscall-ExecutionFromDevShm-$t.sh
printf '#!/bin/sh\n\necho hello world\n' > \$f
chmod 755 \$f
sh -c \$f
EOF
run unshare -m sh devshm.sh

# fileless_execution_via_memfd_create.go: memfd "program" holding a program,
# run as /proc/self/fd/N run helper.DoNothing (here the program is /bin/true)
run "$py" -c "
import os, subprocess
fd = os.memfd_create('program', 0)
os.write(fd, open('/bin/true', 'rb').read())
subprocess.run(['/proc/self/fd/%d' % fd, 'run', 'helper.DoNothing'], pass_fds=(fd,))  # e2e-$t"

# disallowed_ssh_connection_non_standard_port.go: ssh user@example.com -p 443;
# example.com is 192.0.2.80 on lo of a private netns, a listener takes the connect
printf '127.0.0.1 localhost\n192.0.2.80 example.com\n192.0.2.81 example.net\n' > hosts
cat > listen.py <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(4)
s.settimeout(10)
open(sys.argv[3], "w").close()
c, _ = s.accept()
c.close()
EOF
cat > ssh.sh <<EOF
mount --make-rprivate / && mount --bind $d/hosts /etc/hosts || exit 1
ip link set lo up
ip addr add 192.0.2.80/32 dev lo
$py listen.py 192.0.2.80 443 ready-ssh & l=\$!
while [ ! -e ready-ssh ]; do sleep 0.05; done
timeout 5 ssh user@example.com -p 443
wait \$l
EOF
run unshare -m -n sh ssh.sh

# --- falco-incubating_rules.yaml ---

# modify_shell_configuration_file.go: write TMP/.bashrc
x=$(tmp ModifyShellConfigurationFile)
run "$py" -c "open('$x/.bashrc', 'w').write('# written by falco-event-generator\n')  # e2e-$t"

# schedule_cron_jobs.go: crontab -l
fake crontab
run "$d/bin/crontab" -l

# read_ssh_information.go: create /home/falco-event-generator-syscall-SshDirectory-*/.ssh/known_hosts
# adding_ssh_keys_to_authorized_keys.go: write .../.ssh/authorized_keys
cat > home.py <<EOF
exec(open('ns.py').read())
private(); tmpfs('/home')
h = '/home/falco-event-generator-syscall-SshDirectory-$t'
os.mkdir(h, 0o700); os.mkdir(h + '/.ssh', 0o755)
open(h + '/.ssh/known_hosts', 'w+').close()
with open(h + '/.ssh/authorized_keys', 'w') as f:
    f.write('ssh-rsa <ssh_public_key>\n')
EOF
run unshare -m "$py" home.py

# db_program_spawned_process.go: "mysqld" (a symlink) runs /bin/ls
ln -sf "$py" "$d/bin/mysqld"
run "$d/bin/mysqld" -c "import subprocess; subprocess.run(['/bin/ls'])  # e2e-$t"

# change_thread_namespace.go: setns(0, 0) (fails with EBADF, as there)
run "$py" -c "import ctypes; ctypes.CDLL(None).setns(0, 0)  # e2e-$t"

# system_procs_network_activity.go: "sha1sum" (a symlink) connects UDP to 10.2.3.4:8192
ln -sf "$py" "$d/bin/sha1sum"
cat > sysprocs.sh <<EOF
ip link set lo up
ip addr add 10.2.3.4/32 dev lo
$d/bin/sha1sum -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).connect(('10.2.3.4', 8192))  # e2e-$t"
EOF
run unshare -n sh sysprocs.sh

# program_run_with_disallowed_http_proxy_env.go: curl http://example.com with HTTP_PROXY set
run unshare -n env "HTTP_PROXY=http://my.http.proxy.com " curl http://example.com

# non_sudo_setuid.go: "child" (a symlink) setuid(daemon), then setuid(root) (refused)
ln -sf "$py" "$d/bin/child"
run "$d/bin/child" -c "
import os
os.setuid(1)
try:
    os.setuid(0)
except OSError:
    pass  # e2e-$t-setuid"

# unprivileged_delegation_of_page_faults_handling_to_a_userspace_process.go:
# "child" setuid(daemon), then userfaultfd(0)
run "$d/bin/child" -c "
import ctypes, os, platform
os.setuid(1)
ctypes.CDLL(None).syscall({'x86_64': 323, 'aarch64': 282}[platform.machine()], 0)  # e2e-$t-uffd"

# user_mgmt_binaries.go: "vipw" (a symlink) runs /bin/ls
ln -sf "$py" "$d/bin/vipw"
run "$d/bin/vipw" -c "import subprocess; subprocess.run(['/bin/ls'])  # e2e-$t"

# create_files_below_dev.go: a temp file in /dev (a tmpfs over it)
run unshare -m "$py" -c "exec(open('ns.py').read()); private(); tmpfs('/dev'); create_temp('/dev/falco-event-generator-syscall-CreateFilesBelowDev-$t')"

# launch_suspicious_network_tool_on_host.go: nmap -sn 172.17.0.1/32
fake nmap
run unshare -n "$d/bin/nmap" -sn 172.17.0.1/32

# delete_or_rename_shell_history.go: TMP/ash_history created, then removed
x=$(tmp DeleteOrRenameShellHistory)
run "$py" -c "import os; open('$x/ash_history', 'w').close(); os.remove('$x/ash_history')  # e2e-$t"

# set_setuid_or_setgid_bit.go: chmod u+s on a temp file
: > "$d/falco-event-generator-syscall-SetSetuidOrSetgidBit-$t"
run chmod u+s "$d/falco-event-generator-syscall-SetSetuidOrSetgidBit-$t"

# potential_local_privilege_escalation_via_environment_variables_misuse.go
run env GLIBC_TUNABLES=glibc.tune.hwcaps=-WAITED,glibc.tune.secrets=2 sh -c id

# unexpected_udp_traffic.go: nc -u example.com 22. This host's nc (busybox)
# has no -u: "nc" is a symlink to python3 that makes the same calls (a UDP
# socket connected to example.com:22, 192.0.2.80 on lo of a private netns)
# and carries the same arguments after its code.
ln -sf "$py" "$d/bin/nc"
cat > udp.sh <<EOF
mount --make-rprivate / && mount --bind $d/hosts /etc/hosts || exit 1
ip link set lo up
ip addr add 192.0.2.80/32 dev lo
$d/bin/nc -c "import socket, sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).connect((sys.argv[2], int(sys.argv[3])))" -u example.com 22
EOF
run unshare -m -n sh udp.sh

# --- falco-sandbox_rules.yaml ---

# read_shell_configuration_file.go: TMP/.bashrc created, then opened for reading
x=$(tmp ReadShellConfigurationFile)
run "$py" -c "open('$x/.bashrc', 'w').close(); open('$x/.bashrc').close()  # e2e-$t"

# write_below_binary_dir.go, write_below_etc.go, write_below_monitored_dir.go,
# write_below_root.go, write_below_rpm_database.go: a temp file created in
# /bin, /etc, /lib, /root, /var/lib/rpm (tmpfs over each, the rpm dir made as there)
for w in /bin:WriteBelowBinaryDir /etc:WriteBelowEtc /lib:WriteBelowMonitoredDir /root:WriteBelowRoot \
         /var/lib:WriteBelowRpmDatabase; do
  dir=${w%%:*} name=${w#*:}
  target=$dir
  [ "$dir" = /var/lib ] && target=/var/lib/rpm
  run unshare -m "$py" -c "
exec(open('ns.py').read()); private(); tmpfs('$dir')
if '$target' != '$dir': os.mkdir('$target', 0o755)
create_temp('$target/falco-event-generator-syscall-$name-$t')"
done

# modify_binary_dirs.go: rename /bin/true to /bin/true.falco-event-generator-syscall-ModifyBinaryDirs-*
# (a tmpfs over /bin holding its own "true")
run unshare -m "$py" -c "
import shutil
exec(open('ns.py').read()); data = open('/bin/true', 'rb').read(); private(); tmpfs('/bin')
open('/bin/true', 'wb').write(data)
os.rename('/bin/true', '/bin/true.falco-event-generator-syscall-ModifyBinaryDirs-$t')"

# mkdir_binary_dirs.go: a temp directory made in /bin
run unshare -m "$py" -c "
exec(open('ns.py').read()); private(); tmpfs('/bin')
os.mkdir('/bin/falco-event-generator-syscall-MkdirBinaryDirs-$t', 0o700)"

# interpreted_procs_inbound_network_activity.go: a copy named "lua" listens on a
# non-loopback IPv4 address (192.0.2.80 on lo of a private netns)
# interpreted_procs_outbound_network_activity.go: "lua" connects UDP to example.net:53
# java_process_class_file_download.go: a copy named "java" sends CAFEBABE over UDP on localhost:1234
cp "$py" "$d/bin/lua"
cp "$py" "$d/bin/java"
cat > interp.sh <<EOF
mount --make-rprivate / && mount --bind $d/hosts /etc/hosts || exit 1
ip link set lo up
ip addr add 192.0.2.80/32 dev lo
ip addr add 192.0.2.81/32 dev lo
$d/bin/lua -c "import socket; s = socket.socket(); s.bind(('192.0.2.80', 0)); s.listen(1); s.close()  # e2e-$t"
$d/bin/lua -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).connect(('example.net', 53))  # e2e-$t"
$d/bin/java -c "
import socket
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); srv.bind(('localhost', 1234))
cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); cli.connect(('localhost', 1234))
cli.send(bytes([0xCA, 0xFE, 0xBA, 0xBE])); srv.settimeout(5); srv.recvfrom(1024)  # e2e-$t"
EOF
run unshare -m -n sh interp.sh

# create_hidden_files_or_directories.go: a temp directory whose name starts with a dot
run "$py" -c "import os; os.mkdir('$d/.falco-event-generator-syscall-CreateHiddenFilesOrDirectories-$t', 0o700)  # e2e-$t"

# detect_crypto_miners_using_the_stratum_protocol.go
run /bin/echo "-o stratum+tcp" "-u user" "-p pass"

# sudo_potential_privilege_escalaton.go: sudoedit -u daemon -s 'ls\' as daemon
fake sudoedit
run setpriv --reuid=daemon --regid=daemon --clear-groups "$d/bin/sudoedit" -u daemon -s 'ls\'

# polkit_local_privilege_escalation_vulnerability_cve20214034.go: pkexec, no arguments, as daemon
fake pkexec
run setpriv --reuid=daemon --regid=daemon --clear-groups "$d/bin/pkexec"

wait "$trusted"
exit 0
