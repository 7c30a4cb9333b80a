"""Reading the NCA test key files (PKCS#12), for the development signer only.

``cryptography`` refuses these files (it does not know the GOST key type), and OpenSSL 3 needs
``-legacy`` for them (testpki/README.md): the key bag is encrypted with
pbeWithSHA1And3-KeyTripleDES-CBC and the certificate bag with pbeWithSHA1And40BitRC2-CBC.
``cryptography`` has 3DES but only 128-bit RC2, so the 40-bit RC2 decryption is written out
here from RFC 2268, with the PKCS#12 key derivation of RFC 7292 Appendix B. Nothing here
touches a production key: production signatures are made in NCALayer, on the signer's machine.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from asn1crypto import core, pkcs12, x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

# RFC 2268 §2: PITABLE, a permutation of 0..255 derived from the digits of pi.
_PITABLE = bytes.fromhex(
    "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2"
    "179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82"
    "54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626"
    "6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7"
    "08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec"
    "c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731"
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9"
    "0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad"
)
_WORD = 0xFFFF


@dataclass(frozen=True)
class KeyFile:
    private_key_info: Any  # asn1crypto PrivateKeyInfo-like Sequence (GOST OIDs are unknown to it)
    certificate: Any


def _derive(password: str, salt: bytes, iterations: int, purpose: int, length: int) -> bytes:
    """RFC 7292 Appendix B.2 with SHA-1 (u = 20, v = 64); purpose 1 = key, 2 = IV."""
    block = 64
    secret = password.encode("utf-16-be") + b"\x00\x00"

    def stretch(value: bytes) -> bytes:
        if not value:
            return b""
        size = block * ((len(value) + block - 1) // block)
        return (value * (size // len(value) + 1))[:size]

    material = bytearray(stretch(salt) + stretch(secret))
    out = b""
    while len(out) < length:
        digest = hashlib.sha1(bytes([purpose]) * block + bytes(material)).digest()  # noqa: S324 - the format's KDF
        for _ in range(iterations - 1):
            digest = hashlib.sha1(digest).digest()  # noqa: S324
        out += digest
        addend = int.from_bytes((digest * (block // len(digest) + 1))[:block], "big") + 1
        for start in range(0, len(material), block):
            chunk = int.from_bytes(material[start : start + block], "big")
            material[start : start + block] = ((chunk + addend) % (1 << (8 * block))).to_bytes(
                block, "big"
            )
    return out[:length]


def _rc2_decrypt(key: bytes, effective_bits: int, iv: bytes, data: bytes) -> bytes:
    """RC2-CBC decryption (RFC 2268 §2-4); slow and only ever used on a few KB of test data."""
    expanded = bytearray(128)
    expanded[: len(key)] = key
    for i in range(len(key), 128):
        expanded[i] = _PITABLE[(expanded[i - 1] + expanded[i - len(key)]) % 256]
    t8 = (effective_bits + 7) // 8
    mask = 255 % (1 << (8 + effective_bits - 8 * t8))
    expanded[128 - t8] = _PITABLE[expanded[128 - t8] & mask]
    for i in range(127 - t8, -1, -1):
        expanded[i] = _PITABLE[expanded[i + 1] ^ expanded[i + t8]]
    k = [expanded[2 * i] | expanded[2 * i + 1] << 8 for i in range(64)]

    def block(ciphertext: bytes) -> bytes:
        r = [int.from_bytes(ciphertext[i : i + 2], "little") for i in range(0, 8, 2)]
        j = 63
        for round_ in range(15, -1, -1):
            if round_ in (4, 10):  # r-mash
                for i in (3, 2, 1, 0):
                    r[i] = (r[i] - k[r[i - 1] & 63]) & _WORD
            for i, shift in ((3, 5), (2, 3), (1, 2), (0, 1)):  # r-mix
                rotated = ((r[i] >> shift) | (r[i] << (16 - shift))) & _WORD
                r[i] = (rotated - k[j] - (r[i - 1] & r[i - 2]) - (~r[i - 1] & r[i - 3])) & _WORD
                j -= 1
        return b"".join(word.to_bytes(2, "little") for word in r)

    out = bytearray()
    previous = iv
    for start in range(0, len(data), 8):
        chunk = data[start : start + 8]
        out += bytes(a ^ b for a, b in zip(block(chunk), previous, strict=True))
        previous = chunk
    return bytes(out)


def _decrypt(algorithm: Any, data: bytes, password: str) -> bytes:
    name = algorithm["algorithm"].native
    salt = algorithm["parameters"]["salt"].native
    iterations = algorithm["parameters"]["iterations"].native
    iv = _derive(password, salt, iterations, 2, 8)
    if name == "pkcs12_sha1_tripledes_3key":
        key = _derive(password, salt, iterations, 1, 24)
        decryptor = Cipher(TripleDES(key), modes.CBC(iv)).decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
    elif name == "pkcs12_sha1_rc2_40":
        plain = _rc2_decrypt(_derive(password, salt, iterations, 1, 5), 40, iv, data)
    else:
        raise ValueError(f"unsupported PKCS#12 encryption {name}")
    padding = plain[-1] if plain else 0
    if not 1 <= padding <= 8 or plain[-padding:] != bytes([padding]) * padding:
        raise ValueError("wrong password or damaged PKCS#12 file")
    return plain[:-padding]


def load_key_file(data: bytes, password: str) -> KeyFile:
    """The one private key and the certificate of an NCA key file."""
    keys_found: list[Any] = []
    certificates: list[Any] = []
    safe = pkcs12.AuthenticatedSafe.load(pkcs12.Pfx.load(data)["auth_safe"]["content"].native)
    for content_info in safe:
        if content_info["content_type"].native == "encrypted_data":
            encrypted = content_info["content"]["encrypted_content_info"]
            raw = _decrypt(
                encrypted["content_encryption_algorithm"],
                encrypted["encrypted_content"].native,
                password,
            )
        else:
            raw = content_info["content"].native
        for bag in pkcs12.SafeContents.load(raw):
            kind = bag["bag_id"].native
            if kind == "pkcs8_shrouded_key_bag":
                value = bag["bag_value"]
                plain = _decrypt(
                    value["encryption_algorithm"], value["encrypted_data"].native, password
                )
                keys_found.append(core.Sequence.load(plain))
            elif kind == "key_bag":
                keys_found.append(core.Sequence.load(bag["bag_value"].dump()))
            elif kind == "cert_bag":
                certificates.append(
                    x509.Certificate.load(bag["bag_value"]["cert_value"].parsed.dump())
                )
    if len(keys_found) != 1 or len(certificates) != 1:
        raise ValueError(f"{len(keys_found)} keys and {len(certificates)} certificates")
    return KeyFile(keys_found[0], certificates[0])


def private_key_octets(private_key_info: Any) -> bytes:
    """The raw private key inside a PKCS#8 PrivateKeyInfo (for GOST: 64 bytes little-endian)."""
    value = core.OctetString.load(private_key_info[2].contents).native
    if not isinstance(value, bytes) or len(value) not in (32, 64):
        raise ValueError("not a GOST private key (a 32- or 64-byte OCTET STRING)")
    return value
