#!/usr/bin/env bash
# Make this Debian machine able to build, run and push images with podman, without pulling anything:
# packages, a containers.conf that works here, and a local Python base image.
# See ../shared/research/components.md for why each step is needed.
set -euo pipefail
here=$(dirname "$0")
"$here/system-deps.sh" podman buildah skopeo runc docker-registry htpasswd=apache2-utils mmdebstrap \
  /usr/sbin/iptables=iptables slirp4netns newuidmap=uidmap

conf=/etc/containers/containers.conf
if ! grep -qs 'runtime = "runc"' "$conf"; then
  # crun rejects this kernel's hybrid cgroups; podman's default rlimits exceed the hard limits here.
  nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
  [ "$nofile" = unlimited ] && nofile=1048576
  { [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; } && nproc=32768
  mkdir -p /etc/containers
  cat >"$conf" <<CONF
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  echo "wrote $conf" >&2
fi

base=${KUBESHIP_TEST_BASE:-localhost/python:3.11-bookworm}
if ! podman image exists "$base"; then
  # Nothing can be pulled here: make the base from Debian packages (python3 is 3.11 in bookworm).
  echo "making the base image $base with mmdebstrap (about a minute)" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mmdebstrap -q --variant=minbase --include=python3,python3-venv,ca-certificates \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    bookworm "$tmp/rootfs.tar" /etc/apt/sources.list.d/debian.sources
  podman import -q --change 'CMD ["/usr/bin/python3"]' "$tmp/rootfs.tar" "$base" >/dev/null
fi
