#!/usr/bin/env bash
# Installs what paceline's test suites use as oracles and real services (Debian packages).
# paceline itself never needs them; the suites that do skip outside CI when they are missing,
# and fail under CI=true. Idempotent: installs only what is missing. Needs root and apt.
set -euo pipefail

packages=(
  pacemaker-cli-utils   # crm_simulate, crm_verify, cibadmin, crm_diff: the Pacemaker 2.1.5 oracle
  resource-agents       # ocf-tester and the real ocf:heartbeat agents
  iproute2              # ip netns, for namespace suites
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "test deps: all ${#packages[@]} Debian packages present"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "test deps: missing ${missing[*]}, and cannot install them (needs root and apt-get)" >&2
  exit 1
fi
echo "test deps: installing ${missing[*]} (apt-get; this takes a minute or two)"
export DEBIAN_FRONTEND=noninteractive
# Several processes may share this machine's dpkg lock: wait for it rather than fail.
flock /tmp/apt.lock apt-get update -qq
flock /tmp/apt.lock apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/paceline-apt.log 2>&1 \
  || { tail -30 /tmp/paceline-apt.log >&2; exit 1; }
echo "test deps: installed"
