#!/usr/bin/env bash
# Deploy or upgrade the CRM with plain kubectl, in the one safe order:
#   1. namespace, service account, config, data volume (nothing that runs the new code);
#   2. the migrate Job, and wait until it is Complete (stop here if it Failed);
#   3. web, worker, beat, Service, Ingress, HPA, PDBs; then wait for the rollouts.
# The image is the one set in k8s/kustomization.yaml (`images:`). The Secret `crm-secrets` must exist.
#
#   k8s/deploy.sh                 # uses the current kubectl context
#   MIGRATE_TIMEOUT=10800 k8s/deploy.sh
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NS=crm
JOB=crm-migrate
MIGRATE_TIMEOUT="${MIGRATE_TIMEOUT:-7200}"

# 1. Config. Objects without a component label: Namespace, ServiceAccount, ConfigMap, PVC.
kubectl apply -k "$DIR" -l '!app.kubernetes.io/component'

if ! kubectl -n "$NS" get secret crm-secrets >/dev/null 2>&1; then
  echo "Secret $NS/crm-secrets is missing: see k8s/secret.example.yaml" >&2
  exit 1
fi

# 2. Migrations. A Job's pod template is immutable: replace the previous run.
kubectl -n "$NS" delete job "$JOB" --ignore-not-found --wait=true
kubectl apply -k "$DIR" -l app.kubernetes.io/component=migrate

deadline=$((SECONDS + MIGRATE_TIMEOUT))
while :; do
  conditions="$(kubectl -n "$NS" get job "$JOB" \
    -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}')"
  case " $conditions " in
    *" Complete "*) echo "migrate: complete"; break ;;
    *" Failed "*)
      echo "migrate: FAILED; nothing was rolled out. Its log:" >&2
      kubectl -n "$NS" logs "job/$JOB" --tail=200 >&2 || true
      exit 1 ;;
  esac
  if ((SECONDS > deadline)); then
    echo "migrate: still running after ${MIGRATE_TIMEOUT}s; nothing was rolled out" >&2
    exit 1
  fi
  sleep 5
done

# 3. Everything else, with the new image.
kubectl apply -k "$DIR" -l 'app.kubernetes.io/component!=migrate'
for deployment in crm-web crm-worker crm-beat; do
  kubectl -n "$NS" rollout status "deployment/$deployment" --timeout=15m
done
