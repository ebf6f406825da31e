#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs everything vigil needs to build, run and test, from Debian 12's archive.
# Idempotent; run as root.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (apt-get needs it)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
packages=(
  # build
  build-essential cmake ninja-build pkg-config git ccache
  clang llvm libclang-rt-14-dev bpftool libbpf-dev libelf-dev zlib1g-dev
  libre2-dev libyaml-cpp-dev librdkafka-dev libspdlog-dev libfmt-dev catch2
  # container runtimes for the container tests (podman with runc: crun refuses cgroup v1 hybrid);
  # rootful podman with --network none needs none of its recommends (uidmap, slirp4netns,
  # fuse-overlayfs are for rootless use)
  podman runc busybox-static
  # docker.io (dockerd with containerd and ctr) for container_docker_test, which starts its own
  # dockerd on private paths; none of its recommends (git, xz-utils, apparmor...) is needed;
  # container_cri_test starts its own containerd (with the CRI plugin) from the same package
  docker.io containerd
  nlohmann-json3-dev rapidjson-dev libcli11-dev libcpp-httplib-dev libsystemd-dev
  # the CRI v1 client (containerd, CRI-O): protoc, the gRPC C++ plugin and libraries
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  # tests, benchmarks, packaging
  kcat libbpf-tools stress-ng iproute2 util-linux procps
  # the e2e benign workload (everyday administration that must not alert)
  passwd logrotate openssh-client iputils-ping python3
  # the e2e technique actions (issue 17: downloads piped to a shell, firewall flush, gcore, setcap)
  curl wget gdb iptables nftables libcap2-bin
  rpm lintian rpmlint debootstrap dpkg-dev file systemd-container
  qemu-system-x86 busybox-static cpio
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
