"""Secrets for a local run, generated into the git-ignored data folder (never the repo)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from yanxiu.kit.auth import generate_keypair


def ensure_local_secrets(data: Path) -> dict[str, str]:
    """JWT key files, the PII key and the provider-secret key, created once; environment
    variables win when set."""
    keys = data / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    private, public = keys / "jwt-private.pem", keys / "jwt-public.pem"
    if not private.exists():
        priv_pem, pub_pem = generate_keypair()
        private.write_text(priv_pem)
        private.chmod(0o600)
        public.write_text(pub_pem)
    pii, provider = keys / "pii.key", keys / "provider-secrets.key"
    for path in (pii, provider):
        if not path.exists():
            path.write_text(base64.b64encode(os.urandom(32)).decode())
            path.chmod(0o600)
    env = {
        "JWT_PUBLIC_KEY_FILE": str(public),
        "GATEWAY_JWT_PRIVATE_KEY_FILE": str(private),
        "ENROLLMENT_PII_KEY": pii.read_text().strip(),
        "LEARNING_PROVIDER_SECRET_KEY": provider.read_text().strip(),
    }
    return {k: os.environ.get(k, v) for k, v in env.items()}
