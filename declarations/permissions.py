"""The one rulebook: who may do what (STYLE.md rules 9 and 15).

Every predicate takes ``(user, obj)`` and is registered by name in ``rulebook``; the FSM's
``permission=`` callables, the services, and later the API and the templates all ask the same
functions. State and conditions are the FSM's business; these say only *who*.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django_fsm import can_proceed, has_transition_perm

from declarations import rulebook, selectors
from declarations.choices import (
    DOSSIER_READERS,
    OPEN_STATES,
    SOURCE_READERS,
    DeclarationAction,
    DeclarationState,
    Origin,
    Role,
)
from declarations.models import Declaration, Measure, Record
from declarations.rulebook import register


def _authenticated(user: Any) -> bool:
    return bool(user is not None and not isinstance(user, AnonymousUser) and user.is_authenticated)


def is_declarant(user: Any, declaration: Declaration) -> bool:
    return _authenticated(user) and declaration.declarant.user_id == user.pk


def is_management(user: Any, declaration: Declaration) -> bool:
    return _authenticated(user) and selectors.has_role(user, declaration.body_id, Role.MANAGEMENT)


def can_view(user: Any, declaration: Declaration) -> bool:
    """Mirror of ``selectors.declaration_list_visible_to`` for one object."""
    if not _authenticated(user):
        return False
    if is_declarant(user, declaration):
        return True
    if declaration.state == DeclarationState.DRAFT:
        return False
    if user.pk in (declaration.reviewer_id, declaration.opened_by_id):
        return True
    return selectors.declaration_list_visible_to(user=user).filter(pk=declaration.pk).exists()


@dataclass(frozen=True)
class Disclosure:
    """Which parts of a declaration a reader may see, in every output: the API, the pages, the
    issued records, dossiers, exports and notifications (issue 12).

    ``source``      the "other sources" the declaration was opened on; when confidential (Law 410-V
                    Art. 24) only ethics commissioners and auditors of the body;
    ``comments``    the internal notes of reviewers, management and ethics commissioners:
                    everyone who sees the declaration but the declarant;
    ``attachments`` the notice's files: everyone who sees the declaration (only the declarant adds
                    them, to their own draft).
    A reader who may not see the declaration gets nothing.
    """

    source: bool = False
    comments: bool = False
    attachments: bool = False

    def covers(self, other: Disclosure) -> bool:
        """Whether a reader with this disclosure may read a document made for ``other``."""
        return (
            (self.source or not other.source)
            and (self.comments or not other.comments)
            and (self.attachments or not other.attachments)
        )


NOTHING = Disclosure()


def _disclosed(declaration: Declaration, *, declarant: bool, roles: set[str]) -> Disclosure:
    """What a reader who sees the declaration may read of it, from who they are on it: the rule."""
    source = not declaration.source_confidential or (
        not declarant and bool(roles & set(SOURCE_READERS))
    )
    return Disclosure(source=source, comments=not declarant, attachments=True)


def disclosure(user: Any, declaration: Declaration) -> Disclosure:
    """The one rule of who may read what of a declaration (see ``Disclosure``)."""
    if not can_view(user, declaration):
        return NOTHING
    return _disclosed(
        declaration,
        declarant=is_declarant(user, declaration),
        roles=selectors.grants_of(user).get(declaration.body_id, set()),
    )


def dossier_disclosures(user: Any) -> Callable[[Declaration], Disclosure]:
    """``disclosure`` for the many declarations of a dossier reader's bodies (an auditor's export),
    with their grants read once: the same rule, and no query per declaration."""
    grants = selectors.grants_of(user)

    def of(declaration: Declaration) -> Disclosure:
        roles = grants.get(declaration.body_id, set())
        if declaration.state == DeclarationState.DRAFT or not roles & set(DOSSIER_READERS):
            return NOTHING
        declarant = declaration.declarant.user_id == user.pk
        return _disclosed(declaration, declarant=declarant, roles=roles)

    return of


def can_view_dossier(user: Any, declaration: Declaration) -> bool:
    """The dossier is for auditors, ethics commissioners and management of the body (DESIGN.md
    §6), never for a draft. It is rendered for its reader: what ``disclosure`` withholds from
    them (a confidential source from management) it says is withheld, never prints."""
    return (
        _authenticated(user)
        and declaration.state != DeclarationState.DRAFT
        and selectors.has_role(user, declaration.body_id, *DOSSIER_READERS)
    )


@register("review")
def can_review(user: Any, declaration: Declaration) -> bool:
    """The assigned reviewer; or, while none is assigned (a notice to management), management.

    Never the declarant: nobody reviews their own conflict.
    """
    if not _authenticated(user) or is_declarant(user, declaration):
        return False
    if declaration.reviewer_id is not None:
        return bool(declaration.reviewer_id == user.pk)
    return is_management(user, declaration)


register("start_review")(can_review)
register("decide")(can_review)
register("find_no_conflict")(can_review)


@register("submit")
def can_submit(user: Any, declaration: Declaration) -> bool:
    return is_declarant(user, declaration) and declaration.origin == Origin.SELF


@register("withdraw")
def can_withdraw(user: Any, declaration: Declaration) -> bool:
    """Only the servant's own notice can be withdrawn, and only by them."""
    return is_declarant(user, declaration) and declaration.origin == Origin.SELF


@register("open_from_source")
def can_open_from_source(user: Any, declaration: Declaration) -> bool:
    """003 cl. 8 p.2: the direct superior or management acting on information from other sources;
    the ethics commissioner registers such declarations too (DESIGN.md §1)."""
    if not _authenticated(user) or is_declarant(user, declaration):
        return False
    if selectors.has_role(user, declaration.body_id, Role.MANAGEMENT, Role.ETHICS_COMMISSIONER):
        return True
    manager = selectors.direct_manager_of(declaration.declarant)
    return manager is not None and manager.user_id == user.pk


@register("answer_consent")
def can_answer_consent(user: Any, declaration: Declaration) -> bool:
    """A transfer needs the servant's own consent (003 cl. 8 p.2(3))."""
    return is_declarant(user, declaration)


@register("measure.answer_consent")
def can_answer_measure_consent(user: Any, measure: Measure) -> bool:
    return is_declarant(user, measure.declaration)


@register("implement")
def can_implement(user: Any, declaration: Declaration) -> bool:
    """HR of the body records orders; never on their own declaration."""
    if not _authenticated(user) or is_declarant(user, declaration):
        return False
    return selectors.has_role(user, declaration.body_id, Role.HR)


@register("measure.implement")
def can_implement_measure(user: Any, measure: Measure) -> bool:
    return can_implement(user, measure.declaration)


@register("reassign_reviewer")
def can_reassign_reviewer(user: Any, declaration: Declaration) -> bool:
    return is_management(user, declaration) and not is_declarant(user, declaration)


@register("comment")
def can_comment(user: Any, declaration: Declaration) -> bool:
    """Ethics commissioners, management and the reviewer comment; auditors only read."""
    if not _authenticated(user) or is_declarant(user, declaration):
        return False
    if declaration.state == DeclarationState.DRAFT:
        return False
    if declaration.reviewer_id == user.pk:
        return True
    return selectors.has_role(user, declaration.body_id, Role.MANAGEMENT, Role.ETHICS_COMMISSIONER)


@register("draft")
def can_change_draft(user: Any, declaration: Declaration) -> bool:
    """A draft is its declarant's alone: to edit, attach files to, discard or file."""
    return is_declarant(user, declaration)


#: The pages and jobs that work over whole bodies, and the roles they are for (DESIGN.md §1).
DUTIES: dict[str, tuple[str, ...]] = {
    "overview": (Role.MANAGEMENT, Role.ETHICS_COMMISSIONER),  # open and overdue declarations
    "hr_queue": (Role.HR,),  # measures waiting for an order
    "export": (Role.AUDITOR,),  # bulk exports of dossiers
    "access_log": (Role.MANAGEMENT, Role.AUDITOR),  # who read what (issue 14)
}


def bodies_for(user: Any, duty: str) -> list[int]:
    """The bodies whose ``duty`` (a key of ``DUTIES``) ``user`` has; empty: none (a 403)."""
    return selectors.bodies_with_role(user, *DUTIES[duty]) if _authenticated(user) else []


@register("addendum")
def can_add_addendum(user: Any, declaration: Declaration) -> bool:
    return is_declarant(user, declaration)


def can_see_source(user: Any, declaration: Declaration) -> bool:
    """A confidential source (Law 410-V Art. 24) only ethics and auditors see."""
    return disclosure(user, declaration).source


def can_read_record(user: Any, record: Record) -> bool:
    """A record the reader's scope reaches (``selectors.record_list_visible_to``) is theirs to
    read only if it says nothing ``disclosure`` withholds from them: a dossier made for an
    auditor carries the confidential source, and management may not download it."""
    withheld = Disclosure(source=record.confidential_source, comments=record.internal_comments)
    return disclosure(user, record.declaration).covers(withheld)


def roles_of(user: Any) -> dict[int, set[str]]:
    """All roles per body, for ``/me/``: granted ones plus servant/manager from the structure."""
    result = selectors.grants_of(user)
    servant = selectors.servant_of(user)
    if servant is not None:
        result.setdefault(servant.body_id, set()).add(Role.SERVANT)
        if servant.position is not None and servant.position.is_head:
            result[servant.body_id].add(Role.MANAGER)
    if getattr(user, "is_superuser", False):
        for roles in result.values():
            roles.add(Role.ADMIN)
    return result


__all__ = [
    "DUTIES",
    "allowed_actions",
    "bodies_for",
    "can_add_addendum",
    "can_answer_consent",
    "can_change_draft",
    "can_comment",
    "can_implement",
    "can_open_from_source",
    "can_read_record",
    "can_reassign_reviewer",
    "can_review",
    "can_see_source",
    "can_submit",
    "can_view",
    "can_withdraw",
    "disclosure",
    "dossier_disclosures",
    "roles_of",
]


#: endpoint name -> the declaration's transition method it fires
A = DeclarationAction
TRANSITIONS = {
    A.SUBMIT: "submit",
    A.START_REVIEW: "start_review",
    A.DECIDE: "decide",
    A.NO_CONFLICT: "find_no_conflict",
    A.WITHDRAW: "withdraw",
    A.REASSIGN_REVIEWER: "reassign_reviewer",
}


def allowed_actions(declaration: Declaration, user: Any) -> list[DeclarationAction]:
    """What the caller may do now: the same checks the services make, asked in advance."""
    result = [
        name
        for name, method in TRANSITIONS.items()
        if can_proceed(getattr(declaration, method))
        and has_transition_perm(getattr(declaration, method), user)
    ]
    if declaration.state == DeclarationState.DRAFT and is_declarant(user, declaration):
        result += [A.EDIT, A.DISCARD, A.ATTACHMENTS]
    if declaration.state != DeclarationState.DRAFT and rulebook.allows(
        "comment", user, declaration
    ):
        result.append(A.COMMENTS)
    if declaration.state in OPEN_STATES and rulebook.allows("addendum", user, declaration):
        result.append(A.ADDENDA)
    return result
