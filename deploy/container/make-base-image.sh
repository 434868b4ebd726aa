#!/usr/bin/env bash
# Makes the base image the Rendezvous image is built on, without a registry: a jlink'd Java 17 runtime plus
# the host's C/C++ runtime libraries (found with ldd), imported into podman from a root file system tar and
# saved as a docker-archive tar that Jib reads with <from><image>tar://...</image></from>.
#
# Usage: deploy/container/make-base-image.sh [--if-missing] [OUT_TAR]   (default: target/container/base.tar)
# --if-missing leaves an existing OUT_TAR alone (the Maven images profile calls it so).
# Needs: a JDK 17 (jlink), podman; podman runs here with --runtime runc, which this script does not need.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if_missing=false
if [ "${1:-}" = "--if-missing" ]; then
  if_missing=true
  shift
fi
out="${1:-$root/target/container/base.tar}"
if $if_missing && [ -s "$out" ]; then
  echo "base image tar $out exists; not rebuilt"
  exit 0
fi
image="${RDV_BASE_IMAGE:-localhost/rendezvous-base:jre17}"
for tool in jlink podman ldd ldconfig; do
  command -v "$tool" >/dev/null 2>&1 || { echo "make-base-image.sh needs $tool (podman: apt-get install -y podman runc)" >&2; exit 1; }
done
work="$(mktemp -d "${TMPDIR:-/tmp}/rdv-base.XXXXXX")"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{opt,tmp,etc,app} "$(dirname "$out")"
chmod 1777 "$rootfs/tmp"

# Modules: what Kafka, Vert.x, ONNX Runtime, DJL and log4j use (jdeps cannot read every multi-release jar).
modules=java.base,java.desktop,java.instrument,java.logging,java.management,java.naming,java.net.http
modules=$modules,java.scripting,java.security.jgss,java.security.sasl,java.sql,java.xml,jdk.crypto.ec
modules=$modules,jdk.management,jdk.unsupported,jdk.zipfs,jdk.jfr,jdk.net
jlink --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=2 \
  --output "$rootfs/opt/java"

# Every shared library the runtime needs, plus what the native inference libraries unpacked at run time need
# (ONNX Runtime and libtorch link libstdc++, libgcc_s, libm, libgomp; zip needs libz), with the loader.
libs=$( (find "$rootfs/opt/java" -name '*.so' -exec ldd {} \; 2>/dev/null; \
  for l in libstdc++.so.6 libgcc_s.so.1 libz.so.1 libgomp.so.1 libdl.so.2 libpthread.so.0 librt.so.1 libm.so.6; do
    ldconfig -p | awk -v l="$l" '$1 == l && /x86-64/ {print "x => " $NF}' | head -1; done) \
  | awk '/=>/ && $3 ~ /^\// {print $3} /^\t\/lib/ {print $1}' | sort -u)
for lib in $libs /lib64/ld-linux-x86-64.so.2; do
  [ -e "$lib" ] || continue
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
echo "root:x:0:0:root:/root:/bin/false" > "$rootfs/etc/passwd"
echo "nobody:x:65534:65534:nobody:/nonexistent:/bin/false" >> "$rootfs/etc/passwd"
echo "root:x:0:" > "$rootfs/etc/group"
echo "nogroup:x:65534:" >> "$rootfs/etc/group"

tar -C "$rootfs" -cf "$work/rootfs.tar" .
podman import \
  --change 'ENV JAVA_HOME=/opt/java' \
  --change 'ENV PATH=/opt/java/bin:/usr/bin:/bin' \
  --change 'ENV LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu' \
  "$work/rootfs.tar" "$image" >/dev/null
rm -f "$out"
podman save --format docker-archive -o "$out" "$image" >/dev/null
echo "base image $image saved to $out ($(du -h "$out" | cut -f1))"
