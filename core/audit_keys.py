"""The audit checkpoints' Ed25519 keys: the signer, where its key comes from, and the keyring of public keys.

The private key comes, first found, from the secret ``audit_signing_key`` (``SWITCHBOARD_SECRET_AUDIT_SIGNING_KEY``
or a file of that name in ``SWITCHBOARD_SECRETS_DIR``; PEM), from ``audit_signing_key_file``, or from
``var/audit/signing-key.pem``, which the first checkpoint creates (mode 600) when nothing is configured, so the
embedded demo signs from its first start. It is never logged, printed or audited; ``Signer`` shows its key id only.

The keyring (``audit_keyring_dir``, default ``var/audit/keys``) holds the public keys that verify checkpoints, one
``<key id>.pem`` each. A signer puts its own public key there before its first signature; keys stay after a
rotation, so checkpoints signed with an older key keep verifying.
"""

from __future__ import annotations

import base64
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.audit_verify import Checkpoint, key_id, keyring, load_public_key, public_pem
from core.config import CoreSettings
from core.errors import BadInput, ConfigError

logger = logging.getLogger(__name__)
SECRET_NAME = "audit_signing_key"


def audit_dir(settings: CoreSettings) -> Path:
    """``var/audit``: the default home of the checkpoint file, the generated key and the keyring."""
    return settings.var_dir / "audit"


def checkpoint_path(settings: CoreSettings) -> Path:
    """The checkpoint file that signers append to and ``audit verify`` reads by default."""
    return settings.audit_checkpoint_file or audit_dir(settings) / "checkpoints.jsonl"


def keyring_dir(settings: CoreSettings) -> Path:
    """The folder of trusted public keys."""
    return settings.audit_keyring_dir or audit_dir(settings) / "keys"


class Signer:
    """Signs checkpoints with one private key; its ``repr`` shows the key id, never the key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key: Ed25519PublicKey = private_key.public_key()
        self.key_id = key_id(self.public_key)

    def __repr__(self) -> str:
        return f"Signer(key_id={self.key_id!r})"

    def sign(self, *, seq: int, head: str, at: datetime | None = None) -> Checkpoint:
        """A checkpoint stating that the log's first ``seq`` records end in ``head``."""
        time = (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        unsigned = Checkpoint(seq=seq, head=head, time=time, key_id=self.key_id, signature="")
        signature = base64.b64encode(self._key.sign(unsigned.message())).decode("ascii")
        return Checkpoint(seq=seq, head=head, time=time, key_id=self.key_id, signature=signature)


def _parse_private(pem: str, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError):
        raise ConfigError(f"{where} is not an unencrypted PEM private key", setting=SECRET_NAME) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{where} is not an Ed25519 key", setting=SECRET_NAME)
    return key


def write_new_key(path: Path) -> Signer:
    """Generate a key into a new file (mode 600) and return its signer.

    Raises:
        BadInput: the file already exists (a key is never overwritten).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BadInput(f"{path} already exists; a signing key is never overwritten", file=str(path)) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return Signer(key)


def load_signer(settings: CoreSettings) -> Signer:
    """The configured signer (secret, then key file), else the demo key in var/audit, made on first use.

    Raises:
        ConfigError: the configured key is missing or is not an Ed25519 PEM private key.
    """
    secret = settings.secret(SECRET_NAME)
    if secret:
        return Signer(_parse_private(secret, f"the secret {SECRET_NAME}"))
    configured = settings.audit_signing_key_file
    path = configured or audit_dir(settings) / "signing-key.pem"
    try:
        return Signer(_parse_private(path.read_text(encoding="ascii"), str(path)))
    except FileNotFoundError:
        if configured is not None:
            raise ConfigError(
                f"audit_signing_key_file {path} does not exist; make one with 'switchboard audit keygen --out {path}'",
                setting="audit_signing_key_file",
            ) from None
    try:
        signer = write_new_key(path)
    except BadInput:  # another process made it first
        return Signer(_parse_private(path.read_text(encoding="ascii"), str(path)))
    logger.warning("made a new audit signing key", extra={"key_id": signer.key_id, "path": str(path)})
    return signer


def publish(settings: CoreSettings, public_key: Ed25519PublicKey) -> Path:
    """Put a public key into the keyring (``<key id>.pem``) unless it is there; return its file."""
    folder = keyring_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key_id(public_key)}.pem"
    if not path.exists():
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(public_pem(public_key), encoding="ascii")
        tmp.replace(path)
    return path


def read_public_key(path: Path) -> Ed25519PublicKey:
    """A public key from a PEM file.

    Raises:
        BadInput: the file is missing or holds no Ed25519 public key.
    """
    try:
        return load_public_key(path.read_text(encoding="ascii"))
    except OSError as exc:
        raise BadInput(f"cannot read public key {path}: {exc.strerror}", file=str(path)) from None
    except (ValueError, UnicodeDecodeError):
        raise BadInput(f"{path} is not an Ed25519 public key in PEM", file=str(path)) from None


def trusted_keys(settings: CoreSettings, extra: list[Path] | None = None) -> dict[str, Ed25519PublicKey]:
    """Every key in the keyring, plus ``extra`` key files."""
    folder = keyring_dir(settings)
    files = sorted(folder.glob("*.pem")) if folder.is_dir() else []
    return keyring(read_public_key(path) for path in [*files, *(extra or [])])
