"""Personal electronic signatures (ЭЦП) of servants and reviewers, verified on the server
(issue 15). Infrastructure: it imports Django and libraries, nothing of the layers above.

- ``verify.verify_signature`` — the local verifier (GOST 34.10-2015 and RSA, chain, CRL/OCSP);
- ``verifiers.current_verifier`` — the local one or an NCANode server, by ``COI_EDS_VERIFIER``;
- ``dev_signer.development_sign`` — NCALayer's part in development, with the NCA test keys;
- ``checks.register_checks`` — the system checks, run by every ``manage.py check`` and at
  start-up (development signer, test root, the trust store);
- ``conf`` — the settings and their defaults; ``testpki/`` — the NCA test PKI (README.md).
"""

from __future__ import annotations

from declarations.signatures.results import Refusal, SignatureFacts, SignatureRefused
from declarations.signatures.verifiers import Verifier, current_verifier
from declarations.signatures.verify import reset_caches, verify_signature

__all__ = [
    "Refusal",
    "SignatureFacts",
    "SignatureRefused",
    "Verifier",
    "current_verifier",
    "reset_caches",
    "verify_signature",
]
