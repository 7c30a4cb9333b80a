"""Seal files for the tests of the production profile: a PKCS#12 file like a state body's, with
a passphrase, made from a throw-away development seal."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    NoEncryption,
    pkcs12,
)

from declarations.records.signing import generate_development_seal

PASSPHRASE = "correct horse battery staple"


def write_seal(path: Path, passphrase: str = PASSPHRASE, *, with_key: bool = True) -> Path:
    """A seal at ``path`` that opens with ``passphrase`` ("" for none); ``with_key=False``
    leaves out its key and certificate (a file exported without them)."""
    source = generate_development_seal(path.parent / f"{path.stem}-source")
    key, cert, chain = pkcs12.load_key_and_certificates(source.read_bytes(), None)
    encryption = BestAvailableEncryption(passphrase.encode()) if passphrase else NoEncryption()
    if with_key:
        data = pkcs12.serialize_key_and_certificates(b"seal", key, cert, chain, encryption)  # type: ignore[arg-type]
    else:
        data = pkcs12.serialize_key_and_certificates(b"seal", None, None, chain, encryption)
    path.write_bytes(data)
    return path
