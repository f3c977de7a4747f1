#!/usr/bin/env bash
# Deletes the Kind cluster "vtp" made by infra/kind/kind-up.sh, with everything in it (databases and buckets
# included). The images stay in Docker: `docker image rm vtp/backend:dev vtp/trainer-ultralytics:dev
# vtp/trainer-timm:dev` removes them.
#
# Usage: infra/kind/kind-down.sh
set -euo pipefail

readonly cluster=vtp

command -v kind >/dev/null 2>&1 || {
  echo "kind-down: kind is not installed, so there is no Kind cluster to delete" >&2
  exit 1
}
# grep reads all of its input (no -q): an early exit would fail the pipe under pipefail.
if ! kind get clusters 2>/dev/null | grep -x "${cluster}" >/dev/null; then
  echo "kind-down: no Kind cluster named ${cluster}: nothing to do"
  exit 0
fi
kind delete cluster --name "${cluster}"
echo "kind-down: deleted the Kind cluster ${cluster}"
