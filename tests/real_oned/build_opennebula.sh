#!/usr/bin/env bash
# Builds a real OpenNebula front-end (oned, monitord, the scheduler, the CLI and the drivers) from
# OpenNebula's own source, unpatched, into a cache outside the checkout, for the real-OpenNebula
# suite (tests/real_oned/). Idempotent: a release already built is left as it is (seconds).
#
# Usage: tests/real_oned/build_opennebula.sh RELEASE [--source GIT_DIR | --tarball FILE]
#   RELEASE    6.10.0, 7.4.0, 5.12.0, ... (the git tag is release-RELEASE)
#   --source   a git copy of OpenNebula/one (default: $ONE_SOURCE, else /work/.mirror/OpenNebula+one/repo)
#   --tarball  a tar archive of the release's source tree instead
# Cache: $ONE_HYBRID_ONED_CACHE, else ~/.cache/one-hybrid/opennebula; the front-end goes to
# CACHE/RELEASE/ (OpenNebula's install.sh -d: a self-contained ONE_LOCATION tree) and CACHE/RELEASE/.built
# marks it whole. Needs root for apt-get (Debian 12 packages) when they are missing.
set -euo pipefail

release=${1:-}
[[ $release =~ ^[0-9]+\.[0-9]+\.[0-9]+(\.[0-9]+)?$ ]] || {
  echo "usage: $0 RELEASE [--source GIT_DIR | --tarball FILE] (RELEASE like 6.10.0)" >&2
  exit 2
}
shift
source_dir=${ONE_SOURCE:-/work/.mirror/OpenNebula+one/repo}
tarball=
while [[ $# -gt 0 ]]; do
  case $1 in
  --source) source_dir=$2; shift 2 ;;
  --tarball) tarball=$2; shift 2 ;;
  *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

cache=${ONE_HYBRID_ONED_CACHE:-$HOME/.cache/one-hybrid/opennebula}
prefix=$cache/$release
if [[ -f $prefix/.built ]]; then
  echo "OpenNebula $release is built in $prefix"
  exit 0
fi

build_packages=(scons g++ pkg-config libxmlrpc-c++8-dev libsqlite3-dev libxml2-dev libssl-dev
  libcurl4-openssl-dev)
# Without ruby-parse-cron every Ruby driver fails to load and oned never opens its API.
run_packages=(ruby ruby-xmlrpc ruby-nokogiri ruby-sqlite3 ruby-ffi-rzmq ruby-parse-cron
  ruby-ipaddress)
missing=()
for p in "${build_packages[@]}" "${run_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "Installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

src=$cache/src-$release
rm -rf "$src" "$prefix"
mkdir -p "$src"
if [[ -n $tarball ]]; then
  tar -xf "$tarball" -C "$src" --strip-components=1
else
  [[ -d $source_dir ]] || {
    echo "no OpenNebula source: $source_dir is missing (give --source or --tarball)" >&2
    exit 1
  }
  git --git-dir="$source_dir" archive "release-$release" 2>/dev/null | tar -x -C "$src" ||
    git -C "$source_dir" archive "release-$release" | tar -x -C "$src"
fi

options=(sqlite=yes mysql=no postgresql=no new_xmlrpc=yes systemd=no sunstone=no fireedge=no
  svncterm=no docker_machine=no context=no rubygems=no parsers=no download=no)
major=${release%%.*}
# 7.x added a gRPC API, which needs grpc++ and protobuf; the suite uses XML-RPC.
[[ $major -lt 7 ]] || options+=(grpc=no)
echo "Building OpenNebula $release in $src (scons ${options[*]})"
start=$(date +%s)
(cd "$src" && scons -j "$(nproc)" "${options[@]}" >"$cache/build-$release.log" 2>&1) || {
  tail -30 "$cache/build-$release.log" >&2
  exit 1
}
(cd "$src" && ./install.sh -d "$prefix" -u "$(id -un)" -g "$(id -gn)" >>"$cache/build-$release.log" 2>&1) || {
  tail -30 "$cache/build-$release.log" >&2
  exit 1
}
mkdir -p "$prefix/var/vms"
if [[ $major -ge 7 ]]; then
  # 7.x's Ruby programs start with `require 'load_opennebula_paths'` (lib/ruby, which the
  # environment's RUBYLIB must name) and then use only the gems of $ONE_LOCATION/share/gems, which
  # a build with rubygems=no does not fill: it becomes a view of the system's gem directories
  # (Debian's ruby-* packages), their specifications, gems and built extensions.
  gems=$prefix/share/gems
  mkdir -p "$gems/specifications" "$gems/gems"
  for dir in $(ruby -e 'puts Gem.path'); do
    for spec in "$dir"/specifications/*.gemspec; do
      [[ -e $spec ]] && ln -sf "$spec" "$gems/specifications/"
    done
    for gem in "$dir"/gems/*; do
      [[ -e $gem ]] && ln -sfn "$gem" "$gems/gems/"
    done
    for ext in "$dir"/extensions/*/*; do
      [[ -d $ext ]] || continue
      mkdir -p "$gems/${ext#"$dir"/}"
      for built in "$ext"/*; do ln -sfn "$built" "$gems/${ext#"$dir"/}/"; done
    done
  done
fi
echo "$release built in $(($(date +%s) - start)) s" >"$prefix/.built"
rm -rf "$src"
echo "OpenNebula $release is built in $prefix ($(cat "$prefix/.built"))"
