"""The signature algorithms we accept, and nothing else: GOST 34.10-2015 (512 and 256) as the
Kazakh NCA issues it, and RSA PKCS#1 v1.5 with SHA-256/512 where the NCA issues RSA keys.

An OID not in these tables is refused as unknown, never treated as valid (one public verifier
answers "valid" when its library does not know the Kazakh OID: testpki/README.md). The Russian
TC26 OIDs (1.2.643.7.1.*) are not accepted: the NCA does not issue them, and their byte order
differs from Kalkan's and could not be checked against real files here. The legacy
GOST 34.310-2004 keys (1.2.398.3.10.1.1.1.*) need GOST 34.311-95, which gostcrypto lacks.

**Byte order** (testpki/README.md, "Facts measured on these files"; confirmed again on a CMS
that Kalkan made with the same test CA): gostcrypto works big-endian, Kalkan writes
little-endian. So

- the signature value (a certificate's BIT STRING, a CMS's OCTET STRING) is ``r_LE || s_LE``:
  each half is reversed before gostcrypto sees it;
- the public key in the BIT STRING's OCTET STRING is ``x_LE || y_LE``: each half reversed;
- the Streebog digest is fed to the curve arithmetic reversed, while the CMS ``messageDigest``
  attribute holds gostcrypto's digest as it comes;
- the PKCS#8 private key is a little-endian OCTET STRING: reversed once.

Only one of the sixteen combinations verifies the real files; the tests use them.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any

import gostcrypto
from asn1crypto import core
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from gostcrypto.gostsignature.gost_34_10_2012 import GOST34102012, GOSTSignatureError

GOST_512_KEY = "1.2.398.3.10.1.1.2.2"
GOST_256_KEY = "1.2.398.3.10.1.1.2.1"
GOST_512_SIGNATURE = "1.2.398.3.10.1.1.2.3.2"
GOST_256_SIGNATURE = "1.2.398.3.10.1.1.2.3.1"
STREEBOG_512 = "1.2.398.3.10.1.3.3"
STREEBOG_256 = "1.2.398.3.10.1.3.2"
RSA_KEY = "1.2.840.113549.1.1.1"
SHA256_RSA = "1.2.840.113549.1.1.11"
SHA512_RSA = "1.2.840.113549.1.1.13"
SHA256 = "2.16.840.1.101.3.4.2.1"
SHA512 = "2.16.840.1.101.3.4.2.3"

# Kazakh curve OIDs -> gostcrypto's names of the same TC26 curves (p, q, a, b, x, y identical).
CURVES = {
    "1.2.398.3.10.1.1.2.2.1": ("id-tc26-gost-3410-12-512-paramSetA", 64),
    "1.2.398.3.10.1.1.2.1.1": ("id-tc26-gost-3410-2012-256-paramSetA", 32),
}


@dataclass(frozen=True)
class Algorithm:
    name: str
    signature_oid: str
    digest_oid: str
    key_oid: str
    size: int = 0  # bytes per coordinate for GOST; 0 for RSA

    @property
    def gost(self) -> bool:
        return self.size > 0


GOST_512 = Algorithm("GOST 34.10-2015 512", GOST_512_SIGNATURE, STREEBOG_512, GOST_512_KEY, 64)
GOST_256 = Algorithm("GOST 34.10-2015 256", GOST_256_SIGNATURE, STREEBOG_256, GOST_256_KEY, 32)
RSA_SHA256 = Algorithm("RSA SHA-256", SHA256_RSA, SHA256, RSA_KEY)
RSA_SHA512 = Algorithm("RSA SHA-512", SHA512_RSA, SHA512, RSA_KEY)

# A CMS SignerInfo names the signature and the digest separately: only these pairs are known.
_CMS_PAIRS = {
    (GOST_512_SIGNATURE, STREEBOG_512): GOST_512,
    (GOST_256_SIGNATURE, STREEBOG_256): GOST_256,
    (SHA256_RSA, SHA256): RSA_SHA256,
    (RSA_KEY, SHA256): RSA_SHA256,
    (SHA512_RSA, SHA512): RSA_SHA512,
    (RSA_KEY, SHA512): RSA_SHA512,
}
# A certificate or a CRL names one OID for both.
_CERTIFICATE_SIGNATURES = {
    GOST_512_SIGNATURE: GOST_512,
    GOST_256_SIGNATURE: GOST_256,
    SHA256_RSA: RSA_SHA256,
    SHA512_RSA: RSA_SHA512,
}


def cms_algorithm(*, signature_oid: str, digest_oid: str) -> Algorithm | None:
    return _CMS_PAIRS.get((signature_oid, digest_oid))


def certificate_algorithm(signature_oid: str) -> Algorithm | None:
    return _CERTIFICATE_SIGNATURES.get(signature_oid)


def digest(algorithm: Algorithm, data: bytes) -> bytes:
    """The digest as the CMS ``messageDigest`` attribute carries it (no reversal: see above)."""
    if algorithm.digest_oid == STREEBOG_512:
        return bytes(gostcrypto.gosthash.new("streebog512", data=data).digest())
    if algorithm.digest_oid == STREEBOG_256:
        return bytes(gostcrypto.gosthash.new("streebog256", data=data).digest())
    if algorithm.digest_oid == SHA256:
        return hashlib.sha256(data).digest()
    if algorithm.digest_oid == SHA512:
        return hashlib.sha512(data).digest()
    raise ValueError(f"no digest for {algorithm.digest_oid}")


@dataclass(frozen=True)
class PublicKey:
    key_oid: str
    curve_oid: str | None
    value: bytes  # GOST: x_LE || y_LE as in the certificate; RSA: the SubjectPublicKeyInfo DER


def public_key(spki: Any) -> PublicKey:
    """Read a SubjectPublicKeyInfo generically: asn1crypto's own parser raises on the Kazakh
    GOST OIDs it does not know."""
    outer = core.Sequence.load(spki.dump())
    algorithm = core.Sequence.load(outer[0].dump())
    key_oid = core.ObjectIdentifier.load(algorithm[0].dump()).dotted
    if key_oid == RSA_KEY:
        return PublicKey(key_oid, None, spki.dump())
    parameters = core.Sequence.load(algorithm[1].dump())
    curve_oid = core.ObjectIdentifier.load(parameters[0].dump()).dotted
    bits = outer[1].contents  # BIT STRING: one byte of unused bits, then the OCTET STRING
    if bits[:1] != b"\x00":
        raise ValueError("a GOST public key BIT STRING with unused bits")
    return PublicKey(key_oid, curve_oid, core.OctetString.load(bits[1:]).native)


def key_fits(algorithm: Algorithm, key: PublicKey) -> bool:
    """The key is of the algorithm's kind and size (a 256-bit signature by a 512-bit key is no
    signature we know)."""
    if key.key_oid != algorithm.key_oid:
        return False
    if not algorithm.gost:
        return True
    curve = CURVES.get(key.curve_oid or "")
    return curve is not None and curve[1] == algorithm.size and len(key.value) == 2 * curve[1]


class _FastGost(GOST34102012):
    """gostcrypto's GOST 34.10-2012 with its point addition in plain integers: Python's built-in
    modular inverse instead of a recursive extended Euclid, and integer equality instead of
    comparing byte arrays. The same affine formulas, ~6x faster (≈45 ms instead of ≈270 ms a
    512-bit verification on this machine), which keeps a verification well under 500 ms. The
    signing and verification equations stay gostcrypto's; the tests verify the real files."""

    @staticmethod
    def _invert(value: int, n_mod: int) -> int:
        return pow(value, -1, n_mod)

    def _add(self, x_1: int, x_2: int, y_1: int, y_2: int) -> tuple[int, int]:
        p = self._p
        if x_1 == x_2 and y_1 == y_2:
            slope = (3 * x_1 * x_1 + self._a) * pow(2 * y_1, -1, p) % p
        else:
            slope = (y_2 - y_1) * pow(x_2 - x_1, -1, p) % p  # ValueError at infinity
        x_3 = (slope * slope - x_1 - x_2) % p
        return x_3, (slope * (x_1 - x_3) - y_1) % p


@functools.cache
def _curve(curve_oid: str) -> _FastGost:
    name, size = CURVES[curve_oid]
    mode = gostcrypto.gostsignature.MODE_512 if size == 64 else gostcrypto.gostsignature.MODE_256
    return _FastGost(mode, gostcrypto.gostsignature.CURVES_R_1323565_1_024_2019[name])


def _halves_reversed(value: bytes, size: int) -> bytearray:
    """``a_LE || b_LE`` -> ``a_BE || b_BE`` (and back: the operation is its own inverse)."""
    return bytearray(value[:size][::-1] + value[size : 2 * size][::-1])


def verify(*, algorithm: Algorithm, key: PublicKey, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``key``'s signature over ``data``. Any malformed input is a
    failed verification, never an exception that a caller might swallow into "valid"."""
    if not key_fits(algorithm, key):
        return False
    if not algorithm.gost:
        return _verify_rsa(algorithm, key, data, signature)
    size = algorithm.size
    if len(signature) != 2 * size:
        return False
    hashed = digest(algorithm, data)[::-1]  # fed little-endian (README)
    try:
        return bool(
            _curve(key.curve_oid or "").verify(
                _halves_reversed(key.value, size),
                bytearray(hashed),
                _halves_reversed(signature, size),
            )
        )
    except (GOSTSignatureError, ValueError, ZeroDivisionError):
        return False


def _verify_rsa(algorithm: Algorithm, key: PublicKey, data: bytes, signature: bytes) -> bool:
    try:
        loaded = serialization.load_der_public_key(key.value)
    except ValueError:
        return False
    if not isinstance(loaded, rsa.RSAPublicKey):
        return False
    chosen = hashes.SHA256() if algorithm.digest_oid == SHA256 else hashes.SHA512()
    try:
        loaded.verify(signature, data, padding.PKCS1v15(), chosen)
    except InvalidSignature:
        return False
    return True


def gost_sign(*, algorithm: Algorithm, curve_oid: str, private_key_le: bytes, data: bytes) -> bytes:
    """A GOST signature over ``data`` as Kalkan writes it: ``r_LE || s_LE`` (development signer
    only; the private key is the little-endian PKCS#8 OCTET STRING)."""
    size = algorithm.size
    hashed = digest(algorithm, data)[::-1]
    value = _curve(curve_oid).sign(bytearray(private_key_le[::-1]), bytearray(hashed))
    return bytes(_halves_reversed(bytes(value), size))


def gost_public_from_private(*, curve_oid: str, private_key_le: bytes) -> bytes:
    """The public key ``x_LE || y_LE`` of a private key: to check a key file matches its
    certificate before signing with it."""
    size = CURVES[curve_oid][1]
    value = _curve(curve_oid).public_key_generate(bytearray(private_key_le[::-1]))
    return bytes(_halves_reversed(bytes(value), size))
