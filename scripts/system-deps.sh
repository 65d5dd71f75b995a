#!/usr/bin/env bash
# Install the Debian packages that provide the given commands, if they are missing.
# usage: scripts/system-deps.sh command[=package] ...   e.g. haproxy wrk go=golang-go
#        a command that starts with / is a path that must exist: /usr/share/x=pkg
set -euo pipefail
missing=()
for spec in "$@"; do
  cmd=${spec%%=*}; pkg=${spec#*=}
  if [ "${cmd:0:1}" = / ]; then [ -e "$cmd" ] || missing+=("$pkg")
  else command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg"); fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "kubeship: need Debian packages ${missing[*]}; run as root or install them" >&2; exit 1
  fi
else SUDO=; fi
echo "installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
