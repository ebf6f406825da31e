# SPDX-License-Identifier: Apache-2.0
# Actions for a local run of vigil_sigma_e2e_test against SigmaHQ's Linux
# process_creation and file_event rules (their files are not in this tree):
#   VIGIL_SIGMA_E2E_RULES=$SIGMA/rules/linux/process_creation:$SIGMA/rules/linux/file_event \
#   VIGIL_SIGMA_E2E_ACTIONS=tests/e2e/sigmahq_actions.sh VIGIL_SIGMA_E2E_MIN_FIRED=10 \
#   flock /tmp/vigil-root.lock build/tests/e2e/vigil_sigma_e2e_test
# Run by sh with {dir} (a scratch directory under /tmp) and {tag} substituted.
# Every write lands in {dir}, or in a private mount namespace on a tmpfs over
# the real directory (gone with the child). Each line is commented with the
# behaviour it shows; which SigmaHQ rule fires is what the test prints.
set -u
cd '{dir}'
echo aGkK | base64 -d >/dev/null                                  # decode base64
sh -c 'echo ZWNobyBoaQo= | base64 -d | sh -s' >/dev/null           # base64 text piped into a shell
bash -i -c true </dev/null >/dev/null 2>&1                         # interactive bash
cat /etc/group >/dev/null                                          # local groups read
echo x86_64 | grep x86_64 >/dev/null                               # architecture discovery with grep
env /bin/sh -c true                                                # env starting a shell
nice /bin/sh </dev/null                                            # nice starting a shell
find . -maxdepth 0 -exec /bin/sh -c true \;                        # find -exec a shell
env http_proxy=http://127.0.0.1:9 /bin/true                        # proxy set on a command line
/bin/echo stratum+tcp://pool.invalid:3333 >/dev/null               # miner pool URL on a command line
cp /etc/passwd '{dir}/passwd-{tag}'                                # passwd copied to /tmp
chmod 600 '{dir}/passwd-{tag}'                                     # chmod under /tmp
mkfifo '{dir}/fifo-{tag}'                                          # named pipe in /tmp
nohup /bin/true '{dir}/nohup-{tag}' >/dev/null 2>&1                # nohup with a /tmp path
dd if=/dev/zero of='{dir}/zero-{tag}' bs=1 count=1 2>/dev/null     # dd overwriting from /dev/zero
echo x > '{dir}/.bash_history' && rm -f '{dir}/.bash_history'     # shell history removed
curl --version >/dev/null                                          # curl run
touch '{dir}/ebpfbackdoor'                                         # rootkit persistence file name
touch '{dir}/{echo,aGkK}'                                          # file name embedding a base64 command
[ -e /tmp/rootlog ] || { : > /tmp/rootlog; rm -f /tmp/rootlog; }   # rootkit lock file in /tmp
unshare -m --propagation private sh -c 'mount -t tmpfs e2e /etc/cron.d && echo "# e2e" > /etc/cron.d/e2e-{tag}'
unshare -m --propagation private sh -c 'mount -t tmpfs e2e /etc/profile.d && echo ": e2e" > /etc/profile.d/e2e-{tag}.sh'
unshare -m --propagation private sh -c 'mount -t tmpfs e2e /etc && mkdir /etc/sudoers.d &&
  echo "# e2e" > /etc/sudoers.d/e2e-{tag} && echo "# e2e" > /etc/doas.conf'
exit 0
