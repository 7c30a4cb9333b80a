"""Who answers for what (003 cl. 9; issue 14): the deadline table and the cl. 9 page of a
dossier, both read from the stored clocks (``Deadline`` rows) and the audit trail, never from
the declaration's current reviewer, so the table, the timeline and the page cannot disagree.

The rules of liability are plain facts of the stored clocks:

- a clock is charged to the person (or the role) it was due from when it started;
- it is missed when it ended, or still runs, after its due time — whether it was then done,
  passed to someone else (a takeover), or cancelled (a withdrawal);
- the servant's own duty is to notify "as soon as" they learn (003 cl. 8): the working days
  between becoming aware and filing, against the body's tolerance, give the verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from declarations.calendar import ALMATY, WorkingCalendar
from declarations.choices import (
    AuditAction,
    Clock,
    DeadlineOutcome,
    Duty,
    NotificationKind,
    Origin,
    Role,
)
from declarations.models import (
    AuditEvent,
    Deadline,
    Declaration,
    LegalBasis,
    Measure,
    RoleGrant,
)
from declarations.records.labels import Lang, People, day, when

#: The page's own words, marked once for the catalogues.
WORDS = {
    "cl9_title": _("Who knew, who was due to act, who acted (003 cl. 9)"),
    "cl9_intro": _(
        "The servant, their direct superior and the management of the state body answer for "
        "conflicts of interest known to them and left unsettled (003 cl. 9). Each person below "
        "is shown with what they knew and since when, what they were due to do and by when, "
        "what they did, and each deadline they missed."
    ),
    "knew_since": _("Knew since"),
    "was_due": _("Was due to"),
    "did": _("Did"),
    "missed": _("Missed"),
    "nothing": _("nothing"),
    "by": _("by"),
    "filing": _("Filing of the notice"),
    "on_time": _("on time"),
    "late": _("late"),
    "working_days": _("working days after becoming aware"),
    "tolerance": _("the body allows %(n)s"),
    "recusal_from": _("Recusal in force from"),
    "recusal_to": _("to"),
    "recusal_still": _("still in force"),
    "aware": _("became aware of the conflict"),
    "told": _("told"),
    "assigned": _("the deadline started"),
    "role_only": _("(no one person: the role)"),
    "passed_on": _("passed to another person"),
    "cancelled": _("cancelled"),
    "substitute": _("Substitute"),
    "reviewer": _("Reviewer"),
    "sent_to": _("Sent to"),
    "accesses_title": _("Who read this case"),
    "accesses_intro": _(
        "Every dossier made or downloaded, record or file downloaded, export and view of a "
        "confidential source, from the access log (hash-chained, append-only)."
    ),
    "access_what": _("What"),
    "checkpoint_title": _("Checkpoint"),
    "checkpoint_intro": _(
        "The latest sealed checkpoint commits to every chain's head outside the database. "
        "This case's chain head is leaf %(index)s of %(size)s; with the audit path below and "
        "the checkpoint file, anyone can check that the chain was not rewritten since."
    ),
    "checkpoint_none": _("No checkpoint includes this case yet."),
    "checkpoint_file": _("Checkpoint file"),
    "checkpoint_root": _("Merkle root"),
    "checkpoint_leaf": _("Leaf"),
    "audit_path": _("Audit path"),
    "management_of": _("The management of"),
}


@dataclass
class DeadlineRow:
    """One stored clock as the table prints it."""

    clock: str
    due: str
    done: str
    due_to_act: str
    acted: str
    result: str
    css: str
    # for the oracle and the cl. 9 page: who it is charged to, and whether it was missed
    user_id: int | None = None
    duty: str = ""
    clock_value: str = ""
    is_missed: bool = False


def as_of(deadline: Deadline, at: datetime) -> Deadline:
    """The clock as it stood at ``at`` (a record attests its own moment): ended later means
    still running then."""
    if deadline.ended_at is not None and deadline.ended_at > at:
        return Deadline(
            pk=deadline.pk,
            declaration_id=deadline.declaration_id,
            measure_id=deadline.measure_id,
            clock=deadline.clock,
            duty=deadline.duty,
            due_to_act_id=deadline.due_to_act_id,
            due_to_act_name=deadline.due_to_act_name,
            due_to_act_position=deadline.due_to_act_position,
            started_at=deadline.started_at,
            due_at=deadline.due_at,
            legal_topic=deadline.legal_topic,
        )
    return deadline


def _whom(lang: Lang, d: Deadline) -> str:
    if d.due_to_act_id is None:
        return f"{lang.choice(Duty, d.duty)} {lang(WORDS['role_only'])}"
    return ", ".join(p for p in (d.due_to_act_name, d.due_to_act_position) if p) or "—"


def deadline_rows(
    lang: Lang, labels: dict[str, str], deadlines: Iterable[Deadline], people: People, now: datetime
) -> list[DeadlineRow]:
    """Each stored clock (DESIGN.md §3) as met, missed, running, passed on or cancelled, charged
    to whoever it was due from (rule R4). ``labels`` gives met/missed/running in the record's
    language(s)."""
    rows = []
    for d in deadlines:
        missed = d.missed(now)
        running = d.outcome == DeadlineOutcome.RUNNING
        if missed:
            result, css = labels["missed"], "missed"
        elif running:
            result, css = labels["running"], "running"
        elif d.outcome == DeadlineOutcome.MET:
            result, css = labels["met"], "met"
        elif d.outcome == DeadlineOutcome.SUPERSEDED:
            result, css = lang(WORDS["passed_on"]), ""
        else:
            result, css = lang(WORDS["cancelled"]), ""
        if running:
            acted = "—"
        elif d.outcome == DeadlineOutcome.MET:
            acted = people(d.ended_by_id)
        else:
            acted = lang.choice(DeadlineOutcome, d.outcome)
        rows.append(
            DeadlineRow(
                clock=lang.choice(Clock, d.clock),
                due=when(d.due_at),
                done=when(d.ended_at) if not running else "—",
                due_to_act=_whom(lang, d),
                acted=acted,
                result=result,
                css=css,
                user_id=d.due_to_act_id,
                duty=d.duty,
                clock_value=d.clock,
                is_missed=missed,
            )
        )
    return rows


@dataclass
class PersonPage:
    """One person (or role) on the cl. 9 page."""

    key: str
    name: str
    role: str
    knew_since: str = "—"
    knew_how: str = ""
    due: list[str] = field(default_factory=list)
    did: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    user_id: int | None = None
    missed_clocks: list[str] = field(default_factory=list)
    _first: datetime | None = None

    def knew(self, at: datetime, how: str) -> None:
        if self._first is None or at < self._first:
            self._first = at
            self.knew_since = when(at)
            self.knew_how = how


@dataclass
class Cl9Page:
    people: list[PersonPage]
    filing_days: int | None
    filing_on_time: bool | None
    filing_text: str
    recusal_text: str


def _roles(declaration: Declaration, user_ids: set[int]) -> dict[int, set[str]]:
    roles: dict[int, set[str]] = {}
    for user_id, role in RoleGrant.objects.filter(
        body_id=declaration.body_id, user_id__in=user_ids
    ).values_list("user_id", "role"):
        roles.setdefault(user_id, set()).add(role)
    return roles


def _role_of(
    lang: Lang,
    declaration: Declaration,
    user_id: int,
    grants: dict[int, set[str]],
    substitutes: set[int],
    direct_manager: int | None,
) -> str:
    if user_id == declaration.declarant.user_id:
        return lang.choice(Role, Role.SERVANT)
    if user_id == direct_manager:
        return lang.choice(Role, Role.MANAGER)
    held = grants.get(user_id, set())
    for role in (Role.MANAGEMENT, Role.HR, Role.ETHICS_COMMISSIONER, Role.AUDITOR):
        if role in held:
            return lang.choice(Role, role)
    if user_id in substitutes:
        return lang(WORDS["substitute"])
    return lang(WORDS["reviewer"])


def cl9_page(
    lang: Lang,
    declaration: Declaration,
    deadlines: list[Deadline],
    events: list[AuditEvent],
    measures: list[Measure],
    people: People,
    calendar: WorkingCalendar,
    now: datetime,
) -> Cl9Page:
    """The cl. 9 page: for each person involved, what they knew and since when, what they were
    due to do and by when, what they did, and what they missed — from the same stored clocks as
    the deadline table and the same events as the timeline."""
    first = events[0] if events else None
    addressed = (first.data.get("notice", {}).get("addressed_to", {}) if first else {}) or {}
    direct_manager = addressed.get("user") if declaration.addressee == "manager" else None
    substitutes = {m.substitute.user_id for m in measures if m.substitute is not None}
    pages: dict[str, PersonPage] = {}
    ids: set[int] = {declaration.declarant.user_id, *substitutes}
    ids |= {d.due_to_act_id for d in deadlines if d.due_to_act_id}
    ids |= {e.actor_id for e in events if e.actor_id}
    notified = [e for e in events if e.action == AuditAction.NOTIFIED]
    ids |= {e.data["recipient"] for e in notified if e.data.get("recipient")}
    grants = _roles(declaration, ids)

    def page_of(user_id: int | None, duty: str = "") -> PersonPage:
        key = f"user:{user_id}" if user_id else f"role:{duty}"
        if key not in pages:
            if user_id:
                role = _role_of(lang, declaration, user_id, grants, substitutes, direct_manager)
                name = people(user_id)
            else:
                role, name = lang.choice(Duty, duty), lang(WORDS["role_only"])
            pages[key] = PersonPage(key=key, name=name, role=role, user_id=user_id)
        return pages[key]

    bases = topic_citations(lang, {d.legal_topic for d in deadlines if d.legal_topic})
    servant = page_of(declaration.declarant.user_id)
    if declaration.origin == Origin.SELF:
        servant.knew_since = day(declaration.aware_since)
        servant.knew_how = lang(WORDS["aware"])
    for d in deadlines:
        page = page_of(d.due_to_act_id, d.duty)
        page.knew(d.started_at, lang(WORDS["assigned"]))
        page.due.append(f"{lang.choice(Clock, d.clock)} — {lang(WORDS['by'])} {when(d.due_at)}")
        if d.missed(now):
            ended = (
                lang.choice(DeadlineOutcome, d.outcome)
                if d.outcome != DeadlineOutcome.RUNNING
                else lang.choice(DeadlineOutcome, DeadlineOutcome.RUNNING)
            )
            basis = bases.get(d.legal_topic, "")
            page.missed.append(
                f"{lang.choice(Clock, d.clock)} — {when(d.due_at)} ({ended.lower()})"
                + (f"; {basis}" if basis else "")
            )
            page.missed_clocks.append(d.clock)
    for e in notified:
        if e.data.get("delivered") and e.data.get("recipient"):
            kind = lang.choice(NotificationKind, e.data.get("kind", ""))
            page_of(e.data["recipient"]).knew(e.created_at, f"{lang(WORDS['told'])}: {kind}")
    for e in events:
        if e.actor_id and e.action not in (AuditAction.NOTIFIED, AuditAction.COMMENTED):
            page = page_of(e.actor_id)
            page.knew(e.created_at, lang.choice(AuditAction, e.action))
            page.did.append(f"{lang.choice(AuditAction, e.action)} — {when(e.created_at)}")
    for user_id in substitutes:
        page_of(user_id)
    filing_days, on_time, filing_text = filing_verdict(lang, declaration, calendar)
    ordered = [
        servant,
        *sorted(
            (p for p in pages.values() if p is not servant),
            key=lambda p: (p._first is None, p._first or now),
        ),
    ]
    return Cl9Page(ordered, filing_days, on_time, filing_text, _recusal(lang, declaration))


def topic_citations(lang: Lang, topics: set[str]) -> dict[str, str]:
    """The legal basis of each clock's topic (the rulebook's ``LegalBasis``), cited in the
    record's language(s): one query for all of them."""
    cited: dict[str, list[str]] = {}
    for basis in LegalBasis.objects.filter(topic__in=topics).select_related("reference"):
        line = " / ".join(basis.reference.citation(code) for code in lang.languages)
        cited.setdefault(basis.topic, []).append(line)
    return {topic: "; ".join(lines) for topic, lines in cited.items()}


def filing_verdict(
    lang: Lang, declaration: Declaration, calendar: WorkingCalendar
) -> tuple[int | None, bool | None, str]:
    """The servant's delay in working days and its verdict (003 cl. 8: "as soon as")."""
    if declaration.origin != Origin.SELF or declaration.submitted_at is None:
        return None, None, ""
    filed = declaration.submitted_at.astimezone(ALMATY).date()
    days = calendar.working_days_between(declaration.aware_since, filed)
    allowed = declaration.body.filing_tolerance_days
    on_time = days <= allowed
    verdict = lang(WORDS["on_time"] if on_time else WORDS["late"])
    allows = lang(WORDS["tolerance"]) % {"n": allowed}
    text = f"{lang(WORDS['working_days'])}: {days} ({allows}) — {verdict}"
    return days, on_time, text


def _recusal(lang: Lang, declaration: Declaration) -> str:
    """When the bar on acting ran (003 cl. 6): from the filing to the closing."""
    if declaration.submitted_at is None:
        return ""
    start = f"{lang(WORDS['recusal_from'])} {when(declaration.submitted_at)}"
    if declaration.closed_at is None:
        return f"{start}; {lang(WORDS['recusal_still'])}"
    return f"{start} {lang(WORDS['recusal_to'])} {when(declaration.closed_at)}"
