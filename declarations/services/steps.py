"""The one shape of every audited write to a declaration (STYLE.md rule 8):
``declaration_transition``.

The fixed shape, inside one transaction:
1. lock the declaration row (``select_for_update``) and refuse if it moved since the caller loaded
   it (lost race: ``ConcurrentTransition``, a 409);
2. check the transition is allowed from the current state (``can_proceed``; else 409) and that the
   actor may fire it (``has_transition_perm``; else ``PermissionDenied``, a 403);
3. the service body validates its input (``ValidationError``, a 400) and calls the transition;
4. write exactly one audit event, with the legal basis the step rests on (and, for a step the
   person signed, their verified signature: ``Step.sign``, kept as ``PersonalSignature``),
   recompute the deadlines and store the clocks the step started or ended
   (``deadlines_record``);
5. ``save()`` the declaration with its new chain head (django-fsm-2's optimistic check is a second
   guard);
6. queue notifications in the outbox; sending happens after commit.
Any exception rolls all of it back: nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed, has_transition_perm

from declarations import rulebook, selectors
from declarations.choices import (
    DeclarationState,
    NotificationKind,
)
from declarations.models import (
    Declaration,
    Measure,
)
from declarations.records.schedule import records_for_step, records_schedule
from declarations.services.audit import audit_record
from declarations.services.deadlines import deadlines_record, declaration_refresh_deadlines
from declarations.services.notifications import notification_enqueue
from declarations.services.personal_signatures import (
    Verified,
    event_data,
    signature_check,
    signature_keep,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

S = DeclarationState


def legal_basis_data(*topics: str) -> list[dict[str, Any]]:
    """The references a step rests on, frozen into its audit event as they read at the time."""
    return [
        {
            "key": ref.key,
            "act": ref.act,
            "article": ref.article,
            "clause": ref.clause,
            "edition_date": ref.edition_date,
            "in_force": ref.in_force,
        }
        for ref in selectors.legal_basis(*topics)
    ]


@dataclass
class Step:
    """What the body of a ``declaration_transition`` block fills in."""

    declaration: Declaration
    at: datetime
    from_state: str
    action: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    legal_topics: list[str] = field(default_factory=list)
    notifications: list[tuple[NotificationKind, list[int | None], dict[str, Any]]] = field(
        default_factory=list
    )
    signature: Verified | None = None

    def sign(
        self, *, step: str, actor: User, content: Callable[[], Any], signature: bytes | None
    ) -> None:
        """The person's own signature on what they authored in this step (issue 15), under the
        body's policy; call it once ``data`` is set. A refusal is a 400 and nothing is written."""
        verified = signature_check(
            declaration=self.declaration,
            step=step,
            actor=actor,
            content=content,
            signature=signature,
        )
        if verified is not None:
            self.signature = verified
            self.data["signature"] = event_data(verified)

    def notify(
        self, kind: NotificationKind, recipient_ids: Sequence[int | None], **context: Any
    ) -> None:
        self.notifications.append((kind, list(recipient_ids), context))


def lock_declaration(declaration: Declaration, *, expect_state: bool = True) -> Declaration:
    """Lock the declaration row; with ``expect_state`` refuse if the state moved since the caller
    read.

    ``FOR NO KEY UPDATE``: two steps on one declaration still wait for each other, but a row
    that merely refers to it (a notification, a clock, an event) can be written meanwhile. With
    a plain ``FOR UPDATE`` the reminder sweep (holding a clock, inserting a notification that
    refers to the declaration) and an escalation (holding the declaration, updating that clock)
    deadlocked on PostgreSQL (issue 17: the two-scheduler race found it)."""
    locked = (
        Declaration.objects.select_for_update(of=("self",), no_key=True)
        .select_related("body", "declarant__user")
        .get(pk=declaration.pk)
    )
    if expect_state and locked.state != declaration.state:
        raise ConcurrentTransition(
            _("The case changed while you were working on it: it is now “%(state)s”.")
            % {"state": locked.get_state_display()}
        )
    return locked


def check_transition(method: Any, actor: User | None, *, what: str) -> None:
    if not can_proceed(method):
        instance = method.__self__
        message = (
            _("“%(what)s” is not possible while the measure is “%(state)s”.")
            if isinstance(instance, Measure)
            else _("“%(what)s” is not possible while the case is “%(state)s”.")
        )
        raise TransitionNotAllowed(
            message % {"what": what, "state": instance.get_state_display()},
            object=instance,
            method=method,
        )
    if actor is None or not has_transition_perm(method, actor):
        raise PermissionDenied(_("You may not “%(what)s” on this case.") % {"what": what})


@contextmanager
def declaration_transition(
    *,
    declaration: Declaration,
    actor: User | None,
    name: str | None,
    what: str,
    rule: str | None = None,
    expect_state: bool = True,
) -> Iterator[Step]:
    """Steps 1–2 before the block, 4–6 after it (see the module docstring).

    ``name`` is the declaration's transition. With ``name=None`` the step changes something else
    under the declaration's lock (a measure, a comment): the body checks the measure's own
    transition, and
    ``rule`` names the rulebook entry the actor must pass.
    """
    with transaction.atomic():
        locked = lock_declaration(declaration, expect_state=expect_state)
        if name is not None:
            check_transition(getattr(locked, name), actor, what=what)
        if rule is not None and not rulebook.allows(rule, actor, locked):
            raise PermissionDenied(_("You may not “%(what)s” on this case.") % {"what": what})
        step = Step(declaration=locked, at=timezone.now(), from_state=locked.state)
        yield step
        if not step.action:
            raise RuntimeError("a case step must name its audit action")
        data = dict(step.data)
        if step.legal_topics:
            data["legal_basis"] = legal_basis_data(*step.legal_topics)
        event = audit_record(
            actor=actor,
            declaration=locked,
            action=step.action,
            from_state=step.from_state,
            to_state=locked.state,
            data=data,
            save_head=False,
        )
        if step.signature is not None and actor is not None:
            signature_keep(verified=step.signature, event=event, signer=actor)
        # after the event: a deadline the step escalated no longer counts as pending
        measures = list(locked.measures.all())
        declaration_refresh_deadlines(declaration=locked, measures=measures)
        deadlines_record(
            declaration=locked,
            measures=measures,
            at=step.at,
            actor_id=actor.pk if actor is not None else None,
            action=step.action,
        )
        records_schedule(
            declaration=locked, event=event, kinds=records_for_step(step.action, locked.state)
        )
        locked.save()  # the transition, the deadlines and the new chain head in one UPDATE
        for kind, recipient_ids, context in step.notifications:
            notification_enqueue(
                recipient_ids=recipient_ids,
                kind=kind,
                declaration=locked,
                context=context,
                exclude_ids=[actor.pk] if actor is not None else [],
            )
    if declaration is not locked:
        declaration.refresh_from_db()  # the caller's object shows the declaration as it now is


@contextmanager
def draft_change(
    *, declaration: Declaration, actor: User, refused: str, filed: str
) -> Iterator[Declaration]:
    """The declarant's change to their own draft, in one transaction: the row locked, the rule
    ``draft`` checked (else ``PermissionDenied`` with ``refused``, a 403), and a draft still
    (else ``TransitionNotAllowed`` with ``filed``, a 409). Drafts are not on the audit trail
    (only their declarant sees them); filing freezes the text into the chain."""
    with transaction.atomic():
        locked = (
            Declaration.objects.select_for_update(of=("self",), no_key=True)
            .select_related("declarant")
            .get(pk=declaration.pk)
        )
        if not rulebook.allows("draft", actor, locked):
            raise PermissionDenied(refused)
        if locked.state != DeclarationState.DRAFT:
            raise TransitionNotAllowed(filed)
        yield locked
