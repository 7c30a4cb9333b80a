"""Checkpoints (issue 14): a signed commitment, kept outside the database, to the state of every
chain, so that whoever owns the database cannot rewrite, shorten or roll back a chain unseen.

``checkpoint_make`` reads each declaration's chain head and the access log's head (the leaves),
builds an RFC 9162 Merkle tree over them (pymerkle: SHA-256, ``0x00`` before a leaf and ``0x01``
before a node), and signs the statement — RFC 8785 JSON of the time, the reason, the tree size,
the root and the leaves — with the seal (a detached CMS signature; with a TSA, an RFC 3161 token
in it). The statement, the signature and the token are stored as a row and written as a JSON
file (``checkpoint_file_bytes``) to the checkpoint store (``COI_CHECKPOINT_DIR``) and into every
export ZIP. It is made every ``COI_CHECKPOINT_MINUTES`` when anything changed (``issue_records``)
and at every export.

``inclusion_proof`` proves one declaration's leaf in the latest tree. Checking a file against the
database, and a proof against a file, is ``checkpoint_verification.py``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import rfc8785
from asn1crypto import cms
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db.models import Max
from django.utils import timezone
from pyhanko.sign.timestamps import TimeStamper
from pymerkle import BaseMerkleTree

from declarations.access_log import access_log_head
from declarations.choices import CheckpointReason
from declarations.models import AuditEvent, Checkpoint, Declaration
from declarations.records.signing import Seal, current_seal

FORMAT = "coi-checkpoint/1"
ACCESS_LOG = "access_log"
DECLARATION = "declaration"


class CheckpointError(ValueError):
    """The file is not a checkpoint this program can read."""


# ---- the tree -----------------------------------------------------------------------------


class LeafTree(BaseMerkleTree):
    """An RFC 9162 tree over leaf byte strings that keeps only the leaf hashes (pymerkle's
    ``InmemoryTree`` keeps every node and the data too)."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._hashes: list[bytes] = []
        super().__init__("sha256")
        self.append_entries(leaves)

    def _encode_entry(self, data: bytes) -> bytes:
        return data

    def _store_leaf(self, data: bytes, digest: bytes) -> int:
        self._hashes.append(digest)
        return len(self._hashes)

    def _get_leaf(self, index: int) -> bytes:
        return self._hashes[index - 1]

    def _get_leaves(self, offset: int, width: int) -> list[bytes]:
        return self._hashes[offset : offset + width]

    def _get_size(self) -> int:
        return len(self._hashes)


def leaf_bytes(leaf: dict[str, Any]) -> bytes:
    result: bytes = rfc8785.dumps(cast(Any, leaf))
    return result


def leaf_hash(leaf: dict[str, Any]) -> bytes:
    digest: bytes = LeafTree().hash_buff(leaf_bytes(leaf))
    return digest


def tree_of(leaves: Sequence[dict[str, Any]]) -> LeafTree:
    return LeafTree(leaf_bytes(leaf) for leaf in leaves)


def current_leaves() -> list[dict[str, Any]]:
    """The leaves in their fixed order: the access log first, then every declaration that has
    a chain, by public id."""
    seq, head = access_log_head()
    heads = Declaration.objects.filter(audit_seq__gt=0).values_list(
        "code", "audit_seq", "audit_head"
    )
    return [{"kind": ACCESS_LOG, "seq": seq, "head": head}] + [
        {"kind": DECLARATION, "code": code, "seq": seq, "head": head}
        for code, seq, head in sorted((str(c), s, h) for c, s, h in heads.iterator(2000))
    ]


# ---- making one ---------------------------------------------------------------------------


def checkpoint_storage() -> FileSystemStorage:
    """The checkpoint store; files are written once, read-only (the folder is made on first use).
    Mount it where the database's owner cannot write (another host, a WORM volume)."""
    return FileSystemStorage(
        location=settings.COI_CHECKPOINT_DIR,
        file_permissions_mode=0o444,
        directory_permissions_mode=0o755,
    )


def _sign(statement: bytes, seal: Seal, timestamper: TimeStamper | None) -> tuple[bytes, bytes]:
    """A detached CMS signature over ``statement`` by the seal, and the RFC 3161 token it carries
    (empty without a timestamper)."""
    signed = asyncio.run(
        seal.signer.async_sign_general_data(
            statement, "sha256", detached=True, timestamper=timestamper
        )
    )
    return signed.dump(), token_in(signed)


def token_in(signed: cms.ContentInfo) -> bytes:
    for attribute in signed["content"]["signer_infos"][0]["unsigned_attrs"] or []:
        if attribute["type"].native == "signature_time_stamp_token":
            token: bytes = attribute["values"][0].dump()
            return token
    return b""


def checkpoint_make(
    *,
    reason: CheckpointReason,
    now: datetime | None = None,
    seal: Seal | None = None,
    timestamper: TimeStamper | None = None,
) -> Checkpoint:
    """Commit to every chain now: leaves, tree, signed statement, the file in the store, the row.

    ``timestamper`` defaults to the seal's (``COI_TSA_URL``). Each leaf is a head that was
    committed, so reading the heads needs no snapshot; the file is written before the row.
    """
    high_water = audit_high_water()
    leaves = current_leaves()
    root = tree_of(leaves).get_root().hex()
    return _make(leaves, root, reason, now, seal, timestamper, high_water)


def checkpoint_if_changed(*, reason: CheckpointReason) -> Checkpoint | None:
    """A checkpoint, unless no chain moved since the last one (its root would be the same)."""
    last = latest_checkpoint()
    high_water = audit_high_water()
    if last is not None and not _moved_since(last, high_water):
        return None
    leaves = current_leaves()
    root = tree_of(leaves).get_root().hex()
    if last is not None and last.root_hash == root:
        return None
    return _make(leaves, root, reason, None, None, None, high_water)


def audit_high_water() -> int:
    """The newest audit event's id (the primary key's index: one step)."""
    return AuditEvent.objects.aggregate(newest=Max("id"))["newest"] or 0


def _moved_since(last: Checkpoint, high_water: int) -> bool:
    """Whether an event was written or the access log grew since ``last`` (a checkpoint made
    before the high-water mark was stored counts as moved, once)."""
    return (
        last.audit_event_max == 0
        or last.audit_event_max != high_water
        or last.access_seq != access_log_head()[0]
    )


def _make(
    leaves: list[dict[str, Any]],
    root: str,
    reason: CheckpointReason,
    now: datetime | None,
    seal: Seal | None,
    timestamper: TimeStamper | None,
    high_water: int,
) -> Checkpoint:
    seal = seal or current_seal()
    now = (now or timezone.now()).astimezone(UTC)
    statement = leaf_bytes(
        {
            "format": FORMAT,
            "time": now.isoformat(timespec="microseconds"),
            "reason": str(reason),
            "tree": "RFC 9162 Merkle tree, SHA-256; each leaf is the RFC 8785 JSON of its item",
            "tree_size": len(leaves),
            "root": root,
            "leaves": leaves,
        }
    )
    signature, token = _sign(statement, seal, timestamper or seal.timestamper)
    checkpoint = Checkpoint(
        created_at=now,
        reason=reason,
        tree_size=len(leaves),
        root_hash=root,
        statement=statement,
        signature=signature,
        timestamp_token=token or None,
        access_seq=leaves[0]["seq"],
        audit_event_max=high_water,
    )
    name = f"{now:%Y/%m/%d}/checkpoint-{now:%Y%m%dT%H%M%S%fZ}-{root[:16]}.json"
    checkpoint.file_name = checkpoint_storage().save(
        name, ContentFile(checkpoint_file_bytes(checkpoint))
    )
    checkpoint.save()
    return checkpoint


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-created_at", "-id").first()


def checkpoint_due(*, now: datetime) -> bool:
    """A periodic checkpoint is due: none for ``COI_CHECKPOINT_MINUTES`` and a chain moved."""
    last = latest_checkpoint()
    if last is not None and now - last.created_at < timedelta(
        minutes=settings.COI_CHECKPOINT_MINUTES
    ):
        return False
    return last is None or _moved_since(last, audit_high_water())


def _b64(data: bytes | memoryview | None) -> str | None:
    return base64.b64encode(bytes(data)).decode() if data else None


def checkpoint_file_bytes(checkpoint: Checkpoint) -> bytes:
    """The checkpoint file: the statement exactly as signed, the signature and the token, each
    in base64 (the statement is JSON too: ``base64 -d`` shows it)."""
    document = {
        "format": FORMAT,
        "statement": _b64(checkpoint.statement),
        "signature": _b64(checkpoint.signature),
        "timestamp_token": _b64(checkpoint.timestamp_token),
    }
    return (json.dumps(document, indent=2) + "\n").encode()


# ---- reading one --------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointFile:
    statement_bytes: bytes
    signature: bytes
    timestamp_token: bytes
    statement: dict[str, Any]

    @property
    def leaves(self) -> list[dict[str, Any]]:
        return list(self.statement["leaves"])


def checkpoint_read(data: bytes) -> CheckpointFile:
    """Parse a checkpoint file (nothing checked but its shape)."""
    try:
        document = json.loads(data)
        if document.get("format") != FORMAT:
            raise CheckpointError(f"not a {FORMAT} file")
        statement_bytes = base64.b64decode(document["statement"], validate=True)
        signature = base64.b64decode(document["signature"], validate=True)
        token = base64.b64decode(document.get("timestamp_token") or "", validate=True)
        statement = json.loads(statement_bytes)
        if not isinstance(statement.get("leaves"), list) or not statement["leaves"]:
            raise CheckpointError("the statement has no leaves")
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise CheckpointError(f"not a readable checkpoint file: {exc}") from None
    return CheckpointFile(statement_bytes, signature, token, statement)


# ---- inclusion proofs ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Tree:
    tree: LeafTree
    statement: dict[str, Any]
    index: dict[str, int]  # a declaration's public id -> its leaf's index, from one


@functools.lru_cache(maxsize=4)
def _tree_of_checkpoint(pk: int, root: str) -> _Tree:
    """The tree of a stored checkpoint, built once per process for every dossier that prints
    a proof from it (rows never change; ``root`` keys the cache too)."""
    statement = json.loads(bytes(Checkpoint.objects.get(pk=pk).statement))
    leaves = statement["leaves"]
    index = {leaf["code"]: i for i, leaf in enumerate(leaves, 1) if leaf["kind"] == DECLARATION}
    return _Tree(tree_of(leaves), statement, index)


def inclusion_proof(declaration: Declaration) -> dict[str, Any] | None:
    """The proof that the latest checkpoint includes ``declaration``'s chain head as it was
    then; ``None`` when there is no checkpoint or the declaration is newer than the latest."""
    checkpoint = latest_checkpoint()
    if checkpoint is None:
        return None
    cached = _tree_of_checkpoint(checkpoint.pk, checkpoint.root_hash)
    position = cached.index.get(str(declaration.code))
    if position is None:
        return None
    proof = cached.tree.prove_inclusion(position)
    return {
        "leaf": cached.statement["leaves"][position - 1],
        "leaf_hash": proof.path[0].hex(),
        "index": position - 1,  # RFC 9162 counts leaves from zero
        "tree_size": checkpoint.tree_size,
        "audit_path": [digest.hex() for digest in proof.path[1:]],
        "root": checkpoint.root_hash,
        "checkpoint_time": cached.statement["time"],
        "checkpoint_file": checkpoint.file_name,
        "proof": proof.serialize(),
    }
