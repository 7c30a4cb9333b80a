"""The development signer: NCALayer's part, played with the NCA test keys (issue 15, part 5).

Without NCALayer (development, the demo, CI) a newcomer still sees a signed notice end to end:
``development_sign`` returns the same detached CMS that NCALayer would, made with one of the
shared test keys in ``testpki/``. It exists only where nothing real can be signed with it: it
refuses unless ``DEBUG`` is on, ``COI_EDS_DEV_SIGNER`` is on, and the configured trusted roots
include the test root (so its signatures verify only where the test root is trusted). The
system check ``coi.E015`` refuses the setting without DEBUG.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.conf import settings
from django.utils import timezone

from declarations.signatures import algorithms, conf
from declarations.signatures.certificates import load_certificate_file, sha256
from declarations.signatures.cms import build_detached
from declarations.signatures.pkcs12 import load_key_file, private_key_octets

# The README's password of every test key file; they are public test material.
TEST_KEY_PASSWORD = "Qwerty12"  # noqa: S105

TEST_KEYS = {
    "individual/valid": "individual/valid/individual_valid.p12",
    "individual/revoked": "individual/revoked/individual_revoked.p12",
    **{
        f"legal/{state}/{name}": f"legal/{state}/{name}.p12"
        for state in ("valid", "revoked")
        for name in ("head", "employee_signright", "employee", "treasury_client", "infosystem")
    },
}


class DevelopmentSignerUnavailable(RuntimeError):
    """The development signer was asked for where it must not exist."""


def development_signer_available() -> bool:
    if not (settings.DEBUG and conf.dev_signer_enabled()):
        return False
    test_root = sha256(load_certificate_file(conf.TEST_ROOT))
    try:
        trusted = {sha256(load_certificate_file(path)) for path in conf.trusted_roots()}
    except (OSError, ValueError):
        return False
    return test_root in trusted


@functools.cache
def load_test_key(name: str) -> tuple[bytes, Any, str]:
    """The private key (little-endian, as stored), the certificate and the curve of a test key
    file, after checking that the key is the certificate's."""
    key_file = load_key_file((conf.TEST_PKI / TEST_KEYS[name]).read_bytes(), TEST_KEY_PASSWORD)
    public = algorithms.public_key(
        key_file.certificate["tbs_certificate"]["subject_public_key_info"]
    )
    private = private_key_octets(key_file.private_key_info)
    curve_oid = public.curve_oid or ""
    if algorithms.gost_public_from_private(curve_oid=curve_oid, private_key_le=private) != (
        public.value
    ):
        raise ValueError(f"{name}: the private key is not the certificate's")
    return private, key_file.certificate, curve_oid


def development_sign(
    content: bytes, *, key: str = "individual/valid", at: dt.datetime | None = None
) -> bytes:
    """A detached CMS over exactly ``content``, as NCALayer returns it: GOST 34.10-2015 512,
    ``signingTime`` = ``at`` (now by default), the signer's certificate inside."""
    if not development_signer_available():
        raise DevelopmentSignerUnavailable(
            "the development signer needs DEBUG, COI_EDS_DEV_SIGNER and the test root trusted"
        )
    return sign_with_test_key(content, key=key, signing_time=at or timezone.now())


def sign_with_test_key(content: bytes, *, key: str, signing_time: dt.datetime | None) -> bytes:
    """The CMS itself, without the guard: for ``development_sign`` and the tests' NCALayer."""
    if key not in TEST_KEYS:
        raise ValueError(f"unknown test key {key!r}; one of {', '.join(TEST_KEYS)}")
    private, certificate, curve_oid = load_test_key(key)
    algorithm = algorithms.GOST_512
    return build_detached(
        content_digest=algorithms.digest(algorithm, content),
        certificate=certificate,
        algorithm=algorithm,
        sign=lambda data: algorithms.gost_sign(
            algorithm=algorithm, curve_oid=curve_oid, private_key_le=private, data=data
        ),
        signing_time=signing_time,
    )
