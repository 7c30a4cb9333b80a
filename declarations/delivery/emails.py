"""One e-mail per notification, in the recipient's own language (issue 16).

A message is written in the language the recipient chose for the pages (``UserPreference``; no
choice: the deployment's ``LANGUAGE_CODE``), never the language of whoever caused it, and its
times are in Almaty. It says what happened, links straight to the case (``COI_PUBLIC_URL`` and
the case's page), and for a clock gives the deadline, its legal basis (the rulebook's citation,
as the records cite it) and what to do; an escalation also names who was due to act and the
level, and tells management they can take the case over from the link.

Templates, under ``templates/emails/``, chosen per kind:

- ``<kind>-subject.txt``, ``<kind>-body.txt``, ``<kind>-body.html`` when a kind has a trio of its
  own: the weekly digest (``weekly_digest-*``), a report rather than news of one case;
- otherwise the shared trio ``notification-subject.txt``, ``notification-body.txt`` and
  ``notification-body.html``, which frame every message alike (the case, the deadline, the link)
  and include the kind's own paragraph, ``emails/kinds/<kind>.txt`` (what happened, what to do).
  The paragraph is plain text with ``{% translate %}``: the HTML body includes it autoescaped,
  the text body with autoescape off.

Rendering reads nothing per notification beyond the rows loaded with ``RELATED`` and the legal
bases of the batch (``legal_bases``: one query per language), so a batch costs the same few
queries whatever its size. The ``Message-ID`` is the notification's own (its id at the public
host): a message sent again after a lost reply is one message to an MTA that drops duplicates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import models
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone, translation

from declarations.calendar import ALMATY
from declarations.choices import Clock, DeclarationState, Duty, NotificationKind
from declarations.models import Notification
from declarations.records.labels import Lang
from declarations.records.liability import topic_citations

#: What rendering reads besides the notification's row: load the rows with
#: ``select_related(*RELATED)`` (the recipient's address and language, the case).
RELATED = ("recipient__preference", "declaration")

#: Kinds about one clock: their messages give its deadline, legal basis and what to do.
DEADLINE_KINDS = frozenset(
    {
        NotificationKind.DEADLINE_REMINDER,
        NotificationKind.DEADLINE_MISSED,
        NotificationKind.DEADLINE_STILL_MISSED,
    }
)
ESCALATION_KINDS = frozenset(
    {NotificationKind.DEADLINE_MISSED, NotificationKind.DEADLINE_STILL_MISSED}
)

#: How much of the matter a message quotes: enough to recognise the case, no more.
MATTER_CHARS = 200

Bases = Mapping[tuple[str, str], str]


def recipient_language(user: Any) -> str:
    """The language ``user`` reads: their choice, else the deployment's default."""
    preference = getattr(user, "preference", None)  # no row: Django raises AttributeError
    language = preference.language if preference is not None else settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def legal_bases(notifications: Iterable[Notification]) -> dict[tuple[str, str], str]:
    """(language, topic) → the legal basis of the clocks these notifications are about, cited
    in each recipient's language as the records cite it: one query per language."""
    wanted: dict[str, set[str]] = {}
    for notification in notifications:
        topic = notification.context.get("legal_topic")
        if topic and notification.kind in DEADLINE_KINDS:
            wanted.setdefault(recipient_language(notification.recipient), set()).add(topic)
    return {
        (language, topic): line
        for language, topics in wanted.items()
        for topic, line in topic_citations(Lang(language), topics).items()
    }


def public_host() -> str:
    return urlsplit(settings.COI_PUBLIC_URL).hostname or "localhost"


def message_id(notification: Notification) -> str:
    """The same for every attempt to send one notification, unique across notifications."""
    return f"<notification-{notification.code}@{public_host()}>"


def absolute(path: str) -> str:
    return f"{settings.COI_PUBLIC_URL}{path}"


def declaration_link(code: object) -> str:
    return absolute(reverse("declarations:declaration", kwargs={"code": code}))


def notification_email(notification: Notification, *, bases: Bases) -> EmailMultiAlternatives:
    """The message for ``notification`` (subject, text and HTML), ready to send. Raises
    ``ValueError`` for a recipient without an e-mail address (the caller checks first)."""
    recipient = notification.recipient
    if not recipient.email:
        raise ValueError("the recipient has no e-mail address")
    language = recipient_language(recipient)
    kind = notification.kind
    with translation.override(language), timezone.override(ALMATY):
        context = _context(notification, language, bases)
        subject = _render(kind, "subject.txt", context)
        text = _render(kind, "body.txt", context)
        html = _render(kind, "body.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),  # one line, whatever the template's whitespace
        body=_tidy(text),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        headers={
            "Message-ID": message_id(notification),
            "Content-Language": language,
            "Auto-Submitted": "auto-generated",  # RFC 3834: no auto-replies to a robot
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def _render(kind: str, part: str, context: dict[str, Any]) -> str:
    template = select_template([f"emails/{kind}-{part}", f"emails/notification-{part}"])
    return template.render(context)


def _tidy(text: str) -> str:
    """Template tags leave blank lines and trailing spaces where a block was skipped."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def _label(choices: type[models.TextChoices], value: object) -> str:
    """The choice's label in the active language; a value no longer a choice as stored."""
    text = str(value or "")
    try:
        return str(choices(text).label)
    except ValueError:
        return text


def _instant(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _context(notification: Notification, language: str, bases: Bases) -> dict[str, Any]:
    kind = NotificationKind(notification.kind)  # an unknown kind is a bug: ValueError
    declaration = notification.declaration
    stored = notification.context
    return {
        "kind": kind.value,
        "title": str(kind.label),
        "language": language,
        "what": f"emails/kinds/{kind.value}.txt",
        "declaration": declaration,
        "matter": declaration.matter[:MATTER_CHARS] if declaration is not None else "",
        "matter_cut": declaration is not None and len(declaration.matter) > MATTER_CHARS,
        "link": (
            declaration_link(declaration.code)
            if declaration is not None
            else absolute(reverse("declarations:home"))
        ),
        "deadline": _deadline(kind, stored, language, bases) if kind in DEADLINE_KINDS else None,
        "digest": _digest(stored) if kind == NotificationKind.WEEKLY_DIGEST else None,
    }


def _deadline(
    kind: NotificationKind, stored: dict[str, Any], language: str, bases: Bases
) -> dict[str, Any]:
    duty = _label(Duty, stored.get("duty"))
    return {
        "todo": _label(Clock, stored.get("clock")),
        "due_at": _instant(stored.get("due_at")),
        "basis": bases.get((language, str(stored.get("legal_topic") or "")), ""),
        "escalation": kind in ESCALATION_KINDS,
        "due_to_act": stored.get("due_to_act_name") or duty,
        "duty": duty,
        "level": stored.get("level") or 1,
    }


def _digest(stored: dict[str, Any]) -> dict[str, Any]:
    due = [_digest_row(row) for row in stored.get("due_this_week", [])]
    overdue = [_digest_row(row) for row in stored.get("overdue", [])]
    due_count = int(stored.get("due_this_week_count", len(due)))
    overdue_count = int(stored.get("overdue_count", len(overdue)))
    return {
        "week": stored.get("week", ""),
        "body": stored.get("body", ""),
        "open": int(stored.get("open", 0)),
        "open_by_state": [
            (_label(DeclarationState, state), count)
            for state, count in (stored.get("open_by_state") or {}).items()
        ],
        "due": due,
        "due_count": due_count,
        "due_more": max(due_count - len(due), 0),
        "overdue": overdue,
        "overdue_count": overdue_count,
        "overdue_more": max(overdue_count - len(overdue), 0),
        "link": absolute(reverse("declarations:overview")),
    }


def _digest_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": row.get("registration_number") or row.get("declaration", ""),
        "link": declaration_link(row["declaration"]) if row.get("declaration") else "",
        "todo": _label(Clock, row.get("clock")),
        "due_at": _instant(row.get("due_at")),
        "who": row.get("due_to_act_name") or _label(Duty, row.get("duty")),
    }
