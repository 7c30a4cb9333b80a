"""Enumerations of the workflow, and the transition table of a declaration.

Declaration lifecycle (DESIGN.md §3; legal basis in brackets, see the legal-references table):

=================  ================  ==============================  ============================
transition         source            target                          who may fire it
=================  ================  ==============================  ============================
submit             draft             submitted                       the declarant [003 cl. 8 p.1]
open_from_source   (new)             submitted                       direct manager, management,
                                                                     ethics commissioner
                                                                     [003 cl. 8 p.2, "other
                                                                     sources"]
start_review       submitted         in_review                       the reviewer (management for
                                                                     a notice addressed to it)
decide             in_review         awaiting_consent, implementing  the reviewer [003 cl. 8 p.2]
                                     or resolved
find_no_conflict   in_review         no_conflict                     the reviewer (reasoned)
withdraw           submitted,        withdrawn                       the declarant, before any
                   in_review                                         decision (reasoned)
consent_accept     awaiting_consent  implementing or resolved        the declarant [003 8.2(3)]
consent_decline    awaiting_consent  in_review                       the declarant (reasoned)
complete           implementing      resolved                        HR, recording the last order
reassign_reviewer  any open state    (same state)                    management of the body
discard            draft             (row deleted)                   the declarant
=================  ================  ==============================  ============================

``overdue`` and ``escalated`` are conditions computed from deadlines, not states.

Measure lifecycle: ``pending_consent --accept--> pending_order --implement--> done``,
``pending_consent --decline--> declined``; a measure that needs no consent and no order is ``done``
when decided, one that needs only an order starts at ``pending_order``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeclarationState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    AWAITING_CONSENT = "awaiting_consent", _("Awaiting the servant's consent")
    IMPLEMENTING = "implementing", _("Measures being implemented")
    RESOLVED = "resolved", _("Resolved")
    NO_CONFLICT = "no_conflict", _("No conflict found")
    WITHDRAWN = "withdrawn", _("Withdrawn")


#: States in which the declaration is open: the recusal is active and a deadline runs.
OPEN_STATES = (
    DeclarationState.SUBMITTED,
    DeclarationState.IN_REVIEW,
    DeclarationState.AWAITING_CONSENT,
    DeclarationState.IMPLEMENTING,
)
CLOSED_STATES = (
    DeclarationState.RESOLVED,
    DeclarationState.NO_CONFLICT,
    DeclarationState.WITHDRAWN,
)


class MeasureState(models.TextChoices):
    PENDING_CONSENT = "pending_consent", _("Awaiting the servant's consent")
    PENDING_ORDER = "pending_order", _("Awaiting the HR order")
    DONE = "done", _("Done")
    DECLINED = "declined", _("Declined by the servant")


class MeasureKind(models.TextChoices):
    REASSIGN = "reassign", _("Give the matter to another person")
    CHANGE_DUTIES = "change_duties", _("Change the servant's duties")
    TRANSFER = "transfer", _("Transfer to another position with consent")
    OTHER = "other", _("Other measure")


class Category(models.TextChoices):
    KINSHIP = "kinship", _("Kinship")
    PROPERTY = "property", _("Property or financial interest")
    PRIOR_EMPLOYMENT = "prior_employment", _("Prior employment")
    PERSONAL_TIES = "personal_ties", _("Fellow-countryman or personal ties")
    OTHER = "other", _("Other")


class ConflictType(models.TextChoices):
    ACTUAL = "actual", _("Actual")
    POTENTIAL = "potential", _("Potential")


class Addressee(models.TextChoices):
    MANAGER = "manager", _("Direct manager")
    MANAGEMENT = "management", _("Management of the state body")


class Origin(models.TextChoices):
    SELF = "self", _("The servant's own notice")
    OTHER_SOURCE = "other_source", _("Information from other sources")


class Role(models.TextChoices):
    """Roles. SERVANT and MANAGER follow from the structure; the others are grants per body."""

    SERVANT = "servant", _("Servant")
    MANAGER = "manager", _("Direct manager")
    MANAGEMENT = "management", _("Management")
    ETHICS_COMMISSIONER = "ethics_commissioner", _("Ethics commissioner")
    HR = "hr", _("HR officer")
    AUDITOR = "auditor", _("Auditor")
    ADMIN = "admin", _("Administrator")


#: The roles that are granted per state body (the others follow from the org structure).
GRANTED_ROLES = (Role.MANAGEMENT, Role.ETHICS_COMMISSIONER, Role.HR, Role.AUDITOR)
#: Who may read a confidential source (Law 410-V Art. 24; DESIGN.md §3): ``permissions.disclosure``
#: and ``selectors.record_list_visible_to`` both read this one set.
SOURCE_READERS = (Role.ETHICS_COMMISSIONER, Role.AUDITOR)
#: Who may have a declaration's dossier (DESIGN.md §6): the source in it follows ``SOURCE_READERS``.
DOSSIER_READERS = (Role.AUDITOR, Role.ETHICS_COMMISSIONER, Role.MANAGEMENT)


class CalendarDayKind(models.TextChoices):
    DAY_OFF = "day_off", _("Extra day off (moved by decree)")
    WORKING_DAY = "working_day", _("Extra working day (moved by decree)")


class Clock(models.TextChoices):
    """The deadlines of DESIGN.md §3."""

    START_REVIEW = "start_review", _("Start the review")
    DECISION = "decision", _("Decide the measures")
    CONSENT = "consent", _("Answer the transfer proposal")
    HR_ORDER = "hr_order", _("Record the HR order")


class ReminderUnit(models.TextChoices):
    """How a reminder rule counts back from a deadline (issue 16)."""

    WORKING_DAYS = "working_days", _("working days before, at a time of day")
    HOURS = "hours", _("hours before the due time")


class SignaturePolicy(models.TextChoices):
    """Whether a step needs the person's own signature (ЭЦП) through NCALayer (issue 15)."""

    OFF = "off", _("Not used")
    OPTIONAL = "optional", _("Optional")
    REQUIRED = "required", _("Required")


class Duty(models.TextChoices):
    """Who a clock waits for (003 cl. 9: the servant, the direct manager, management; HR)."""

    REVIEWER = "reviewer", _("Reviewer")
    MANAGEMENT = "management", _("Management")
    DECLARANT = "declarant", _("Servant")
    HR = "hr", _("HR officer")


class DeadlineOutcome(models.TextChoices):
    """How a stored clock ended (issue 14). Whether it was missed is a fact of its times: ended
    (or still running) after its due time."""

    RUNNING = "running", _("Running")
    MET = "met", _("Done")
    SUPERSEDED = "superseded", _("Passed to another person")
    CANCELLED = "cancelled", _("Cancelled")


class AccessAction(models.TextChoices):
    """Reads that leave a trace in the access log (issue 14)."""

    DOSSIER_GENERATED = "dossier.generated", _("Dossier made")
    DOSSIER_DOWNLOADED = "dossier.downloaded", _("Dossier downloaded")
    RECORD_DOWNLOADED = "record.downloaded", _("Record downloaded")
    ATTACHMENT_DOWNLOADED = "attachment.downloaded", _("Attached file downloaded")
    EXPORT_STARTED = "export.started", _("Export started")
    EXPORT_DOWNLOADED = "export.downloaded", _("Export downloaded")
    SOURCE_VIEWED = "source.viewed", _("Confidential source viewed")


class CheckpointReason(models.TextChoices):
    PERIODIC = "periodic", _("Periodic")
    EXPORT = "export", _("Export")
    MANUAL = "manual", _("By an operator")


class AuditAction(models.TextChoices):
    DECLARATION_SUBMITTED = "declaration.submitted", _("Notice submitted")
    DECLARATION_OPENED = "declaration.opened_from_source", _("Case opened from other sources")
    REVIEW_STARTED = "declaration.review_started", _("Review started")
    DECIDED = "declaration.decided", _("Measures decided")
    NO_CONFLICT = "declaration.no_conflict", _("No conflict found")
    WITHDRAWN = "declaration.withdrawn", _("Notice withdrawn")
    REVIEWER_REASSIGNED = "declaration.reviewer_reassigned", _("Reviewer reassigned")
    ADDENDUM = "declaration.addendum", _("Addendum to the notice")
    COMMENTED = "declaration.commented", _("Comment")
    CONSENT_ACCEPTED = "measure.consent_accepted", _("Transfer accepted")
    CONSENT_DECLINED = "measure.consent_declined", _("Transfer declined")
    MEASURE_IMPLEMENTED = "measure.implemented", _("HR order recorded")
    DEADLINE_MISSED = "deadline.missed", _("Deadline missed")
    DEADLINE_ESCALATED = "deadline.escalated", _("Missed deadline escalated further")
    NOTIFIED = "notification.sent", _("Notification sent")


class DeclarationAction(models.TextChoices):
    """What a caller may do on a declaration now (``permissions.allowed_actions``), named as the
    API's endpoints are: a transition's path, or the draft's and the file's own verbs. Labels are
    not shown to people; the API documents the values."""

    SUBMIT = "submit", "Submit the notice"
    START_REVIEW = "start-review", "Start the review"
    DECIDE = "decide", "Decide the measures"
    NO_CONFLICT = "no-conflict", "Find no conflict"
    WITHDRAW = "withdraw", "Withdraw the notice"
    REASSIGN_REVIEWER = "reassign-reviewer", "Reassign the reviewer"
    EDIT = "edit", "Edit the draft"
    DISCARD = "discard", "Discard the draft"
    ATTACHMENTS = "attachments", "Add or remove the draft's files"
    COMMENTS = "comments", "Comment"
    ADDENDA = "addenda", "Add an addendum"


class RecordKind(models.TextChoices):
    """The signed records of DESIGN.md §4."""

    NOTICE = "notice", _("Notice")
    DECISION = "decision", _("Decision")
    CONSENT = "consent", _("Answer to a transfer proposal")
    DOSSIER = "dossier", _("Case dossier")


class RecordStatus(models.TextChoices):
    PENDING = "pending", _("Being issued")
    ISSUED = "issued", _("Issued")
    FAILED = "failed", _("Failed (operators notified)")


class VerificationProblem(models.TextChoices):
    """Why a PDF handed in for verification is not valid: stable codes for programs, beside the
    message in the reader's language (``records/verification.py``). Labels are the codes'
    documentation, in English."""

    UNREADABLE = "unreadable", "The file is not a readable PDF."
    UNSIGNED = "unsigned", "The file carries no signature."
    SIGNATURE_UNREADABLE = "signature_unreadable", "The signature cannot be read."
    ALTERED = "altered", "The signature does not match the content: the file was altered."
    SEAL_UNTRUSTED = "seal_untrusted", "The seal is not one of ours."
    MODIFIED_AFTER_SIGNING = (
        "modified_after_signing",
        "Something was added to the file after it was sealed.",
    )
    BYTES_DIFFER = (
        "bytes_differ",
        "The file names one of our records, but its bytes differ from what we issued.",
    )
    NOT_ISSUED = "not_issued", "We did not issue this file."


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Rendering the dossiers")
    ASSEMBLING = "assembling", _("Packing the ZIP")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ExportFailure(models.TextChoices):
    """Why an export job failed: shown to the auditor in their language (issue 12)."""

    PLANNING = "planning", _("The cases of the export could not be selected.")
    DOSSIER = "dossier", _("A dossier could not be rendered; operators can retry it.")
    PACKING = "packing", _("The ZIP could not be packed.")
    STALLED = (
        "stalled",
        _(
            "The export made no progress for too long: no worker took it up, or its worker "
            "stopped. Start it again."
        ),
    )


class NotificationKind(models.TextChoices):
    """What a notification tells its recipient; the label is its title (translated when sent)."""

    DECLARATION_ASSIGNED = (
        "declaration_assigned",
        _("A conflict-of-interest case awaits your review"),
    )
    DECLARATION_OPENED_ABOUT_YOU = (
        "declaration_opened_about_you",
        _("A conflict-of-interest case was opened about you"),
    )
    REVIEW_STARTED = "review_started", _("The review of your notice has started")
    DECISION_MADE = "decision_made", _("Measures were decided on your case")
    CONSENT_REQUESTED = "consent_requested", _("You are asked to consent to a transfer")
    SUBSTITUTE_ASSIGNED = (
        "substitute_assigned",
        _("A matter was given to you in place of a recused colleague"),
    )
    ORDER_REQUESTED = "order_requested", _("An HR order is needed for a measure")
    CONSENT_ANSWERED = "consent_answered", _("The servant answered the transfer proposal")
    MEASURE_IMPLEMENTED = "measure_implemented", _("An HR order was recorded")
    DECLARATION_CLOSED = "declaration_closed", _("The case was closed")
    REVIEWER_REMOVED = "reviewer_removed", _("A case was reassigned to another reviewer")
    ADDENDUM_ADDED = "addendum_added", _("The declarant added to their notice")
    DEADLINE_MISSED = "deadline_missed", _("A deadline was missed")
    DEADLINE_REMINDER = "deadline_reminder", _("A deadline is near")
    DEADLINE_STILL_MISSED = "deadline_still_missed", _("A missed deadline is still not met")
    WEEKLY_DIGEST = "weekly_digest", _("Conflict-of-interest cases this week")


#: Kinds whose e-mail a user may not switch off: the rules require the person to be told
#: (003 cl. 8: the manager receives the notice and must act "timely", a transfer needs the
#: servant's consent, cl. 8(3); 003 cl. 9: those who knew of the conflict are liable, so a
#: missed deadline reaches them). Every other kind is always in the in-app list and e-mailed
#: unless the user chose otherwise (issue 16).
MANDATORY_NOTIFICATIONS = frozenset(
    {
        NotificationKind.DECLARATION_ASSIGNED,
        NotificationKind.DECLARATION_OPENED_ABOUT_YOU,
        NotificationKind.CONSENT_REQUESTED,
        NotificationKind.ORDER_REQUESTED,
        NotificationKind.SUBSTITUTE_ASSIGNED,
        NotificationKind.DEADLINE_MISSED,
        NotificationKind.DEADLINE_STILL_MISSED,
    }
)


class DeliveryState(models.TextChoices):
    """Where a notification's e-mail is (issue 16); the in-app list shows every notification."""

    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Not e-mailed")
    FAILED = "failed", _("Failed, retries exhausted")
