#!/usr/bin/env bash
# Installs what paceline's test suites use as oracles and real services (Debian packages).
# paceline itself never needs them; the suites that do skip outside CI when they are missing,
# and fail under CI=true. Idempotent: installs only what is missing. Needs root and apt.
set -euo pipefail

packages=(
  pacemaker-cli-utils   # crm_simulate, crm_verify, cibadmin, crm_diff: the Pacemaker 2.1.5 oracle
  resource-agents       # ocf-tester and the real ocf:heartbeat agents
  iproute2              # ip netns, for namespace suites
  libxml2-utils         # xmllint: agents' meta-data checked against the OCF schema
  apache2 nginx         # the httpd agent against both servers
  mariadb-server        # the mysql agent (a private datadir per test, never the system one)
  curl                  # the httpd agent's status URL check
  iputils-arping        # IPaddr's gratuitous ARP
  e2fsprogs util-linux  # Filesystem agent: ext4 on a loop device
  openssh-client        # fence_ssh; the lab's ssh driver
  openssh-server        # lab: the ssh driver's suite runs sshd inside lab namespaces
  pacemaker             # drill --against pacemaker: real pacemakerd beside corosync in the same lab
  procps psmisc         # process inspection in agent suites
  shellcheck            # static check of every shell agent
  openssl               # a throw-away certificate for the director's HTTPS health check
  haproxy               # bench:ipvs runs the userspace director side by side with it
  nftables              # nft: kernel-side loss in the messaging soak; partitions in the lab (bridge rules)
  iputils-ping python3  # lab: the floating-IP watcher (ping every 10 ms, ARP prober)
  corosync              # bench:messaging runs corosync side by side
  tmux                  # the interactive crm shell's tests drive a real pseudo-terminal
  crmsh                 # crm -f as the oracle of the crm shell grammar and generated ids
  faketime              # libfaketime: lab clock-jump fault (one node's wall clock moves, monotonic does not)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  mkdir -p /var/log/crmsh
  echo "test deps: all ${#packages[@]} Debian packages present"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "test deps: missing ${missing[*]}, and cannot install them (needs root and apt-get)" >&2
  exit 1
fi
echo "test deps: installing ${missing[*]} (apt-get; this takes a minute or two)"
export DEBIAN_FRONTEND=noninteractive
# Recommends are installed as on the developers' machines (crmsh recommends pacemaker, whose
# schema files and daemons the crmsh oracle expects). Installing apache2, nginx, mariadb-server
# or pacemaker would start them (port 80 twice, a system mysqld);
# the suites start their own private instances, so keep the packages' services from starting.
policy=/usr/sbin/policy-rc.d
had_policy=0; [ -e "$policy" ] && had_policy=1
if [ $had_policy = 0 ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; trap 'rm -f "$policy"' EXIT; fi
# Several processes may share this machine's dpkg lock: wait for it rather than fail.
flock /tmp/apt.lock apt-get update -qq
flock /tmp/apt.lock apt-get install -y -qq "${missing[@]}" >/tmp/paceline-apt.log 2>&1 \
  || { tail -30 /tmp/paceline-apt.log >&2; exit 1; }
# crmsh logs to /var/log/crmsh and crashes at start when it is missing.
mkdir -p /var/log/crmsh
echo "test deps: installed"
