"""The trusted NCA roots and CAs, and the chain from a signer's certificate to one of them.

The configured roots (``COI_EDS_TRUSTED_ROOTS``) and CA certificates (``COI_EDS_CA_CERTS``) are
read, and their signatures verified, once per process and per configuration; a verified
CA-to-issuer link is remembered, so a verification with a warm cache checks one certificate
signature (the signer's). A signer's own certificate is verified every time: there are as
many of them as there are civil servants, and each check is ~70 ms.

A misconfigured trust store (a file that is missing, not a CA, or does not chain to a root) is
the operator's error, not the signer's: it raises ``ImproperlyConfigured``, and the system check
in ``checks.py`` reports it at start-up.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from declarations.signatures import algorithms, conf
from declarations.signatures.certificates import is_ca, load_certificate_file, sha256
from declarations.signatures.results import Refusal, SignatureRefused

MAX_CHAIN = 6


@dataclass(frozen=True)
class TrustStore:
    roots: tuple[Any, ...]
    cas: tuple[Any, ...]
    root_hashes: frozenset[str]


_lock = threading.Lock()
_stores: dict[tuple[tuple[str, ...], tuple[str, ...]], TrustStore] = {}
_verified_links: set[tuple[str, str]] = set()


def reset() -> None:
    with _lock:
        _stores.clear()
        _verified_links.clear()


def signed_by(child: Any, issuer: Any) -> bool:
    """Whether ``issuer``'s key made ``child``'s signature, with an algorithm we accept."""
    signature_oid = child["signature_algorithm"]["algorithm"].dotted
    if child["tbs_certificate"]["signature"]["algorithm"].dotted != signature_oid:
        return False
    algorithm = algorithms.certificate_algorithm(signature_oid)
    if algorithm is None:
        return False
    try:
        key = algorithms.public_key(issuer["tbs_certificate"]["subject_public_key_info"])
    except (ValueError, TypeError, KeyError, IndexError):
        return False
    return algorithms.verify(
        algorithm=algorithm,
        key=key,
        data=child["tbs_certificate"].dump(),
        signature=child["signature_value"].native,
    )


def _link(child: Any, issuer: Any) -> bool:
    """``signed_by``, remembered for CA certificates (few, and used by every signature)."""
    key = (sha256(child), sha256(issuer))
    if key in _verified_links:
        return True
    if not signed_by(child, issuer):
        return False
    if is_ca(child):
        with _lock:
            _verified_links.add(key)
    return True


def _may_have_issued(candidate: Any, child: Any) -> bool:
    if candidate.subject != child.issuer or not is_ca(candidate):
        return False
    wanted = child.authority_key_identifier
    return wanted is None or candidate.key_identifier in (None, wanted)


def _path(cert: Any, pool: Iterable[Any], root_hashes: frozenset[str]) -> list[Any] | None:
    """[cert, its issuer, …, a trusted root], every link's signature verified; None if none."""
    pool = list(pool)
    chain = [cert]
    while len(chain) <= MAX_CHAIN:
        current = chain[-1]
        if sha256(current) in root_hashes:
            return chain
        for candidate in pool:
            if any(sha256(candidate) == sha256(seen) for seen in chain):
                continue
            if _may_have_issued(candidate, current) and _link(current, candidate):
                chain.append(candidate)
                break
        else:
            return None
    return None


def _load(paths: tuple[str, ...], setting: str) -> list[Any]:
    loaded = []
    for path in paths:
        try:
            loaded.append(load_certificate_file(path))
        except (OSError, ValueError) as error:
            raise ImproperlyConfigured(f"{setting}: cannot read {path}: {error}") from error
    return loaded


def trust_store() -> TrustStore:
    """The configured roots (self-signatures verified) and the CAs that chain to them."""
    key = (conf.trusted_roots(), conf.ca_certs())
    store = _stores.get(key)
    if store is not None:
        return store
    roots = _load(key[0], "COI_EDS_TRUSTED_ROOTS")
    for root in roots:
        if root.subject != root.issuer or not is_ca(root) or not _link(root, root):
            raise ImproperlyConfigured(
                f"COI_EDS_TRUSTED_ROOTS: {root.subject.human_friendly} "
                "is not a self-signed CA certificate"
            )
    root_hashes = frozenset(sha256(root) for root in roots)
    cas = _load(key[1], "COI_EDS_CA_CERTS")
    for ca in cas:
        if not is_ca(ca) or _path(ca, [*roots, *cas], root_hashes) is None:
            raise ImproperlyConfigured(
                f"COI_EDS_CA_CERTS: {ca.subject.human_friendly} is not a CA of a trusted root"
            )
    store = TrustStore(tuple(roots), tuple(cas), root_hashes)
    with _lock:
        _stores[key] = store
    return store


def chain_to_root(cert: Any, *, extra: Iterable[Any] = ()) -> list[Any]:
    """The verified chain of a signer's certificate, or ``untrusted_chain``. CA certificates
    that came inside the CMS may complete the chain, but only through a configured root."""
    store = trust_store()
    if sha256(cert) in store.root_hashes or is_ca(cert):
        raise SignatureRefused(Refusal.UNTRUSTED_CHAIN, detail="a CA certificate as the signer")
    path = _path(cert, [*store.cas, *extra, *store.roots], store.root_hashes)
    if path is None:
        raise SignatureRefused(
            Refusal.UNTRUSTED_CHAIN,
            detail=f"no verified path from {cert.issuer.human_friendly} to a trusted root",
        )
    return path
