"""Drafts (the only thing ever deleted), addenda and comments."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_fsm import TransitionNotAllowed

from declarations.choices import OPEN_STATES, Addressee, AuditAction, NotificationKind
from declarations.models import NOTICE_FIELDS, Attachment, AuditEvent, Declaration, Servant
from declarations.services.steps import declaration_transition, draft_change
from declarations.services.transitions import notice_validate

if TYPE_CHECKING:
    from django.contrib.auth.models import User

TEXT_MAX = 5000


def declaration_create(
    *,
    actor: User,
    conflict_type: str,
    category: str,
    matter: str,
    personal_interest: str,
    aware_since: date,
    related_persons: str = "",
    addressee: str = Addressee.MANAGER,
) -> Declaration:
    """A servant starts a notice as a draft. Drafts carry no events: nothing is filed yet."""
    servant = Servant.objects.filter(user=actor, is_active=True).first()
    if servant is None:
        raise PermissionDenied(_("Only a civil servant in service can file a notice."))
    declaration = Declaration(
        body_id=servant.body_id,
        declarant=servant,
        conflict_type=conflict_type,
        category=category,
        matter=matter,
        personal_interest=personal_interest,
        related_persons=related_persons,
        aware_since=aware_since,
        addressee=addressee,
    )
    notice_validate(declaration, timezone.now())
    declaration.save()
    return declaration


def declaration_update_draft(
    *, declaration: Declaration, actor: User, **changes: Any
) -> Declaration:
    """Edit a draft. Submitted text is frozen: corrections are addenda."""
    unknown = set(changes) - set(NOTICE_FIELDS)
    if unknown:
        raise ValidationError({f: [_("This field cannot be changed.")] for f in sorted(unknown)})
    with draft_change(
        declaration=declaration,
        actor=actor,
        refused=_("Only the declarant edits their draft."),
        filed=_("A filed notice cannot be edited; add an addendum instead."),
    ) as locked:
        for name, value in changes.items():
            setattr(locked, name, value)
        notice_validate(locked, timezone.now())
        locked.save()
    declaration.refresh_from_db()
    return declaration


def declaration_discard(*, declaration: Declaration, actor: User) -> None:
    """Delete a draft: drafts are the only thing ever deleted (DESIGN.md §3)."""
    with draft_change(
        declaration=declaration,
        actor=actor,
        refused=_("Only the declarant discards their draft."),
        filed=_("Only a draft can be discarded."),
    ) as locked:
        names = list(locked.attachments.values_list("file", flat=True))
        locked.attachments.all().delete()
        locked.delete()
        storage = Attachment.file.field.storage

        def delete_files() -> None:
            for name in names:
                storage.delete(name)

        transaction.on_commit(delete_files)


def declaration_add_addendum(
    *, declaration: Declaration, actor: User, text: str, signature: bytes | None = None
) -> Declaration:
    """The declarant adds to or corrects their filed notice: a new event, never an edit.

    At most ``COI_ADDENDA_MAX`` per declaration, counted under the declaration's lock (issue 12):
    each is an event on the trail, a notification and a section of the dossier.
    """
    with declaration_transition(
        declaration=declaration,
        actor=actor,
        name=None,
        rule="addendum",
        what=_("add an addendum"),
        expect_state=False,
    ) as step:
        if step.declaration.state not in OPEN_STATES:
            raise TransitionNotAllowed(_("Addenda can be added while the case is open."))
        _check_text(text, "text")
        limit: int = settings.COI_ADDENDA_MAX
        addenda = AuditEvent.objects.filter(
            declaration=step.declaration, action=AuditAction.ADDENDUM
        )
        if addenda.count() >= limit:
            message = ngettext(
                "A case can have at most %(n)d addendum.",
                "A case can have at most %(n)d addenda.",
                limit,
            )
            raise ValidationError({"text": [message % {"n": limit}]})
        step.action = AuditAction.ADDENDUM
        step.data = {"text": text}
        step.sign(step="addendum", actor=actor, content=lambda: {"text": text}, signature=signature)
        step.notify(NotificationKind.ADDENDUM_ADDED, [step.declaration.reviewer_id])
    return declaration


def declaration_comment(*, declaration: Declaration, actor: User, text: str) -> Declaration:
    """A comment by the reviewer, management or an ethics commissioner, on the declaration's
    trail."""
    with declaration_transition(
        declaration=declaration,
        actor=actor,
        name=None,
        rule="comment",
        what=_("comment"),
        expect_state=False,
    ) as step:
        _check_text(text, "text")
        step.action = AuditAction.COMMENTED
        step.data = {"text": text}
    return declaration


def _check_text(text: str, field: str) -> None:
    if not text.strip():
        raise ValidationError({field: [_("This field cannot be blank.")]})
    if len(text) > TEXT_MAX:
        raise ValidationError({field: [_("At most %(n)d characters.") % {"n": TEXT_MAX}]})
