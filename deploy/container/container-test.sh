#!/usr/bin/env bash
# Builds the image offline and runs the container test: a runner in a podman container against a broker,
# rendezvous and proxy on the host. Installs podman and runc when missing (Debian, as root).
# Usage: deploy/container/container-test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if ! command -v podman >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq podman runc >/dev/null
fi
rm -f target/container/base.tar launcher/target/rendezvous-image.tar
# The images profile makes the base image (jlink + host libraries), builds the image tar with Jib before the
# tests, and the test loads and runs it.
mvn -B -Pimages verify -pl common,model-runners,rendezvous -Dtest=ContainerRunnerIT \
  -Dsurefire.failIfNoSpecifiedTests=false
ls -la target/container/base.tar launcher/target/rendezvous-image.tar
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep rendezvous
