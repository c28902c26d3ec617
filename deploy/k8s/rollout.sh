#!/usr/bin/env bash
# Rolls a release out: the migration Job first, then the processes (deploy/k8s/README.md).
#
#   deploy/k8s/rollout.sh [overlay]        # default: deploy/k8s/overlays/production
#
# 1. The finished Job of the previous release is deleted (a Job's pod template cannot change).
# 2. Everything is applied. New pods of every Deployment wait in their init container
#    (`python -m stack.schema_wait`) until the schemas are at their image's heads, so the old
#    pods keep serving (maxUnavailable 0) while the migrations run.
# 3. The Job is waited for; if it fails, its logs are printed and nothing else changes: the
#    new pods stay in Init and the old ones serve. Fix, then run this again.
# 4. Each Deployment's roll-out is waited for.
set -euo pipefail

overlay=${1:-$(dirname "$0")/overlays/production}
kubectl=${KUBECTL:-kubectl}
namespace=$($kubectl kustomize "$overlay" | awk '/^  namespace: /{print $2; exit}')
ns=(--namespace "${namespace:-default}")

$kubectl "${ns[@]}" delete job yanxiu-migrate --ignore-not-found --wait=true
$kubectl apply -k "$overlay"
# Complete or Failed, whichever comes first (`kubectl wait` takes one condition only); the
# Job's own activeDeadlineSeconds (30 min) bounds it.
state=""
until [[ $state == *Complete* || $state == *Failed* ]]; do
  sleep 5
  state=$($kubectl "${ns[@]}" get job yanxiu-migrate \
    -o jsonpath='{.status.conditions[?(@.status=="True")].type}')
done
if [[ $state != *Complete* ]]; then
  echo "rollout: the migration Job failed; the running pods are untouched" >&2
  $kubectl "${ns[@]}" logs job/yanxiu-migrate --tail=200 >&2 || true
  exit 1
fi
for deployment in pgbouncer enrollment learning credits lessons insights gateway; do
  $kubectl "${ns[@]}" rollout status "deployment/$deployment" --timeout=15m
done
echo "rollout: done" >&2
