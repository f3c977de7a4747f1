#!/usr/bin/env bash
# The whole platform on a local Kind cluster, proven by one real training:
#   1. creates the Kind cluster "vtp" (infra/kind/kind-config.yaml), or reuses it;
#   2. builds the three images (vtp/<service>:dev) and loads them into the cluster's nodes;
#   3. applies the kind overlay (infra/k8s/overlays/kind) and waits until every part is ready;
#   4. smoke test: creates an API key, uploads a generated dataset, trains one model as a Kubernetes Job (a YOLO
#      detector unless --framework timm) and waits for it to succeed.
#
# Usage: infra/kind/kind-up.sh [--no-smoke] [--framework ultralytics|timm]
# Needs: docker (running), kind >= 0.24, kubectl, and `npm ci` done in the repository (Node 24 runs the dataset
# generator and the smoke test). kubectl is always called with --context kind-vtp: other clusters are not touched.
set -euo pipefail

readonly cluster=vtp
readonly context="kind-${cluster}"
readonly backend_url=http://127.0.0.1:30800
# Each one is built from services/<name>/Dockerfile as vtp/<name>:dev, the names the kind overlay uses.
readonly services=(backend trainer-ultralytics trainer-timm)

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
readonly repo_root
readonly overlay="${repo_root}/infra/k8s/overlays/kind"
readonly node24="${repo_root}/node_modules/.bin/node"

smoke=true
framework=ultralytics

say() { printf '\n==> %s\n' "$*"; }
fail() {
  printf 'kind-up: %s\n' "$*" >&2
  exit 1
}
kube() { kubectl --context "${context}" "$@"; }

# The header comment above, as help.
usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-smoke) smoke=false ;;
    --framework)
      [[ $# -ge 2 ]] || fail "--framework needs a value: ultralytics or timm"
      framework=$2
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) fail "unknown argument '$1' (try --help)" ;;
  esac
  shift
done
case "${framework}" in
  ultralytics) dataset_format=yolo ;;
  timm) dataset_format=imagefolder ;;
  *) fail "--framework must be ultralytics or timm, got '${framework}'" ;;
esac

require() {
  command -v "$1" >/dev/null 2>&1 || fail "$1 is not installed: $2"
}
require docker "https://docs.docker.com/get-docker/"
require kind "https://kind.sigs.k8s.io/docs/user/quick-start/#installation (0.24 or newer)"
require kubectl "https://kubernetes.io/docs/tasks/tools/"
docker info >/dev/null 2>&1 || fail "the Docker daemon does not answer: start Docker first"
[[ -x "${node24}" ]] || fail "${node24} is missing: run 'npm ci' in ${repo_root} first"

# Wait until a URL answers 2xx, or give up after $2 seconds.
wait_for_url() {
  local url=$1 seconds=$2
  local deadline=$((SECONDS + seconds))
  until "${node24}" -e "fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" "${url}"; do
    [[ "${SECONDS}" -lt "${deadline}" ]] || fail "${url} did not answer within ${seconds}s"
    sleep 2
  done
}

# What the cluster says when something does not come up, once it has something deployed.
deployed=false
workdir=""
on_exit() {
  local status=$?
  if [[ "${status}" -ne 0 ]] && [[ "${deployed}" = true ]]; then
    printf '\n--- pods\n' >&2
    kube get pods --namespace platform --output wide >&2 || true
    kube get jobs,pods --namespace training --output wide >&2 || true
    printf '\n--- backend log (last 40 lines)\n' >&2
    kube logs --namespace platform deployment/backend --tail 40 >&2 || true
  fi
  if [[ -n "${workdir}" ]]; then rm -rf "${workdir}"; fi
}
trap on_exit EXIT

say "cluster ${cluster}"
reused=false
# grep reads all of its input (no -q): an early exit would fail the pipe under pipefail.
if kind get clusters 2>/dev/null | grep -x "${cluster}" >/dev/null; then
  reused=true
  echo "cluster ${cluster} exists: reusing it (infra/kind/kind-down.sh removes it)"
else
  kind create cluster --name "${cluster}" --config "${repo_root}/infra/kind/kind-config.yaml" --wait 180s
fi

for service in "${services[@]}"; do
  image="vtp/${service}:dev"
  say "image ${image}"
  docker build --file "${repo_root}/services/${service}/Dockerfile" --tag "${image}" "${repo_root}"
  kind load docker-image "${image}" --name "${cluster}"
done

say "deploying ${overlay}"
deployed=true
kube apply --kustomize "${overlay}"
if [[ "${reused}" = true ]]; then
  # Same tags, new images: the running pods would keep the old ones.
  kube rollout restart --namespace platform deployment/backend
fi

say "waiting for PostgreSQL, MinIO, the bucket, the backend, Prometheus, Grafana, Alloy, Loki and Tempo"
kube rollout status --namespace platform statefulset/postgres --timeout 300s
kube rollout status --namespace platform statefulset/minio --timeout 300s
kube wait --namespace platform --for condition=complete job/minio-create-bucket --timeout 300s
kube rollout status --namespace platform deployment/backend --timeout 300s
kube rollout status --namespace platform deployment/prometheus --timeout 300s
kube rollout status --namespace platform deployment/grafana --timeout 300s
kube rollout status --namespace platform deployment/alloy --timeout 300s
kube rollout status --namespace platform deployment/loki --timeout 300s
kube rollout status --namespace platform deployment/tempo --timeout 300s
wait_for_url "${backend_url}/readyz" 120

if [[ "${smoke}" = true ]]; then
  say "smoke test: one ${framework} training as a Kubernetes Job"
  workdir=$(mktemp -d)
  dataset="${workdir}/smoke-${dataset_format}.zip"
  "${node24}" "${repo_root}/packages/sample-data/src/cli.ts" \
    --format "${dataset_format}" --out "${dataset}" --seed 7 --train 16 --val 4
  admin_key=$(kube get secret vtp-backend --namespace platform --output jsonpath='{.data.ADMIN_API_KEY}' | base64 --decode)
  "${node24}" "${repo_root}/infra/kind/smoke-training.ts" \
    --url "${backend_url}" --admin-key "${admin_key}" --dataset "${dataset}" --framework "${framework}"
fi

say "the platform is up"
cat <<EOF
  backend API   ${backend_url}   (reference: ${backend_url}/docs)
  admin key     kubectl --context ${context} -n platform get secret vtp-backend -o jsonpath='{.data.ADMIN_API_KEY}' | base64 --decode
  MinIO (S3)    http://127.0.0.1:30900
  Prometheus    http://127.0.0.1:30090
  Grafana       http://127.0.0.1:30300   (dashboard "Backend")
  trainings     kubectl --context ${context} -n training get jobs,pods
  remove it     infra/kind/kind-down.sh
EOF
