"""Checking a checkpoint file (issue 14; the checkpoints are made in ``checkpoints.py``).

``checkpoint_verify`` checks the signature (the seal's, and the RFC 3161 token's TSA when there
is one), that the leaves hash to the signed root, and for every leaf that the database still has
exactly that hash at that seq and that the chain verifies from seq 1 to now. So a chain
rewritten consistently, cut short or rolled back since the checkpoint is found and named, which
``verify_audit`` alone cannot do. ``verify_inclusion`` checks one declaration's inclusion proof
(``checkpoints.inclusion_proof``) against a checkpoint file. Works offline: the trust roots are
the seal's (and ``COI_SEAL_TRUST_ROOTS``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
from pyhanko_certvalidator import ValidationContext
from pymerkle import InclusionProof, InvalidProof

from declarations.access_log import access_log_verify
from declarations.audit_chain import audit_verify_chain
from declarations.models import AccessEvent, AuditEvent, Declaration
from declarations.records.checkpoints import (
    ACCESS_LOG,
    DECLARATION,
    CheckpointError,
    CheckpointFile,
    checkpoint_read,
    leaf_hash,
    token_in,
    tree_of,
)
from declarations.records.signing import Seal, current_seal


@dataclass
class CheckpointVerdict:
    time: str = ""
    reason: str = ""
    tree_size: int = 0
    root: str = ""
    signed_by: str = ""
    timestamped_at: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


def _check_signature(
    file: CheckpointFile, verdict: CheckpointVerdict, roots: list[asn1_x509.Certificate]
) -> None:
    try:
        signed = cms.ContentInfo.load(file.signature)
        status = asyncio.run(
            async_validate_detached_cms(
                file.statement_bytes,
                signed["content"],
                signer_validation_context=ValidationContext(
                    trust_roots=roots, allow_fetching=False
                ),
            )
        )
    except Exception:  # noqa: BLE001 - a mangled signature is a failed check, not a crash
        verdict.problems.append("the signature cannot be read")
        return
    verdict.signed_by = str(status.signing_cert.subject.human_friendly)
    if not (status.intact and status.valid):
        verdict.problems.append("the signature does not match the statement: it was altered")
    elif not status.trusted:
        verdict.problems.append("the statement is not signed by a trusted seal")
    stamp = status.timestamp_validity
    if stamp is not None:
        verdict.timestamped_at = stamp.timestamp.isoformat()
        if not (stamp.intact and stamp.valid and stamp.trusted):
            verdict.problems.append("the timestamp does not verify or its TSA is not trusted")
    if file.timestamp_token and file.timestamp_token != token_in(signed):
        verdict.problems.append("the file's timestamp token is not the one in the signature")


def _name(declaration: Declaration) -> str:
    return f"declaration {declaration.registration_number or '-'} ({declaration.code})"


def _check_declarations(leaves: list[dict[str, Any]], problems: list[str]) -> None:
    """Each leaf: the declaration exists, its chain verifies from seq 1 to now, and it has
    exactly the leaf's hash at the leaf's seq (a shorter chain: truncated or rolled back)."""
    for start in range(0, len(leaves), 500):
        batch = {leaf["code"]: leaf for leaf in leaves[start : start + 500]}
        found = {
            str(d.code): d
            for d in Declaration.objects.filter(code__in=list(batch)).only(
                "id", "code", "registration_number", "audit_seq", "audit_head"
            )
        }
        by_id = {d.pk: d for d in found.values()}
        events = AuditEvent.objects.filter(declaration_id__in=list(by_id)).order_by(
            "declaration_id", "seq"
        )
        chains = {pk: list(group) for pk, group in groupby(events, lambda e: e.declaration_id)}
        for code, leaf in batch.items():
            declaration = found.get(code)
            if declaration is None:
                problems.append(
                    f"declaration {code}: not in the database (deleted, or the database was "
                    "rolled back)"
                )
                continue
            chain = chains.get(declaration.pk, [])
            link = audit_verify_chain(declaration, chain)
            if link is not None:
                problems.append(str(link))
            if len(chain) < leaf["seq"]:
                problems.append(
                    f"{_name(declaration)}: the checkpoint has {leaf['seq']} events, the "
                    f"database {len(chain)} (truncated, or rolled back)"
                )
            elif chain[leaf["seq"] - 1].hash != leaf["head"]:
                problems.append(
                    f"{_name(declaration)}: event {leaf['seq']} is not the one the checkpoint "
                    "committed to (rewritten)"
                )


def _check_access_log(leaf: dict[str, Any], problems: list[str]) -> None:
    link = access_log_verify()
    if link is not None:
        problems.append(str(link))
    if leaf["seq"] == 0:
        return
    stored = AccessEvent.objects.filter(seq=leaf["seq"]).values_list("hash", flat=True).first()
    if stored is None:
        problems.append(
            f"access log: the checkpoint has {leaf['seq']} events, the database fewer "
            "(truncated, or rolled back)"
        )
    elif stored != leaf["head"]:
        problems.append(
            f"access log: event {leaf['seq']} is not the one the checkpoint committed to "
            "(rewritten)"
        )


def _trust_roots(seal: Seal | None, extra: Sequence[asn1_x509.Certificate]) -> list[Any]:
    return [*(seal or current_seal()).trust_roots, *extra]


def checkpoint_verify(
    data: bytes, *, seal: Seal | None = None, extra_roots: Sequence[asn1_x509.Certificate] = ()
) -> CheckpointVerdict:
    """Check a checkpoint file against the database; every problem names its chain.
    ``extra_roots``: more trusted certificates (a TSA's root) beside the seal's."""
    verdict = CheckpointVerdict()
    try:
        file = checkpoint_read(data)
    except CheckpointError as exc:
        verdict.problems.append(str(exc))
        return verdict
    statement, leaves = file.statement, file.leaves
    verdict.time, verdict.reason = str(statement.get("time")), str(statement.get("reason"))
    verdict.tree_size, verdict.root = len(leaves), str(statement.get("root"))
    _check_signature(file, verdict, _trust_roots(seal, extra_roots))
    if tree_of(leaves).get_root().hex() != statement.get("root") or statement.get(
        "tree_size"
    ) != len(leaves):
        verdict.problems.append("the leaves do not hash to the signed root")
    kinds = [leaf.get("kind") for leaf in leaves]
    if kinds[0] != ACCESS_LOG or any(kind != DECLARATION for kind in kinds[1:]):
        verdict.problems.append("the leaves are not in the order of a checkpoint")
        return verdict
    _check_access_log(leaves[0], verdict.problems)
    _check_declarations(leaves[1:], verdict.problems)
    return verdict


def verify_inclusion(
    proof: dict[str, Any],
    checkpoint_file: bytes,
    *,
    seal: Seal | None = None,
    extra_roots: Sequence[asn1_x509.Certificate] = (),
) -> bool:
    """Whether ``proof`` (``inclusion_proof``) proves its leaf in the tree whose root the
    checkpoint file signs: the file's signature holds, the roots agree, the leaf hashes to the
    proof's first hash and the path leads from it to the root."""
    try:
        file = checkpoint_read(checkpoint_file)
        verdict = CheckpointVerdict()
        _check_signature(file, verdict, _trust_roots(seal, extra_roots))
        root = file.statement["root"]
        merkle = InclusionProof.deserialize(proof["proof"])
        if verdict.problems or proof["root"] != root or not isinstance(merkle, InclusionProof):
            return False
        base = leaf_hash(proof["leaf"])
        merkle.verify(
            base, bytes.fromhex(root), index=proof["index"] + 1, size=file.statement["tree_size"]
        )
    except (CheckpointError, InvalidProof, KeyError, TypeError, ValueError):
        return False
    return True
