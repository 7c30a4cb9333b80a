"""What each operation of the API says to an outside reader: its summary and its description,
by operation id (``api/schema.AutoSchema`` names the operations and reads this table).

Written for someone who has only the schema: no pointers to our own documents, limits as
numbers, the rules a caller meets. The views' docstrings stay for developers. An operation
missing here is a warning, which fails ``manage.py spectacular --fail-on-warn`` in CI and
``tests/test_openapi_contract.py``; ``extend_schema(summary=..., description=...)`` on a view
still wins over the table.
"""

from __future__ import annotations

from django.conf import settings


def mib(size: int) -> str:
    """A size for people: "10 MiB", "1.5 MiB"."""
    return f"{size / (1024 * 1024):g} MiB"


# The contract states the defaults, so the published file (docs/openapi.yaml) is the same for
# every deployment; one that sets another limit says so to its integrators, and a request over
# it gets 413 (or 400 for an addendum too many) with the limit in the message.
_ATTACHMENT_MAX = f"{mib(settings.COI_ATTACHMENT_MAX_BYTES_DEFAULT)} (by default)"
_VERIFY_MAX = f"{mib(settings.COI_VERIFY_MAX_BYTES_DEFAULT)} (by default)"
_ADDENDA_MAX = f"{settings.COI_ADDENDA_MAX_DEFAULT} (by default)"

_STEP = (
    "Send the declaration's `ETag` as `If-Match`. Answers the declaration as it is after the "
    "step. 409 when the step is not possible in the declaration's state (see "
    "`allowed_actions`), 403 when the caller may see the declaration but not take the step."
)
_SIGNED = (
    " The step may carry the person's own signature (`signature`, a detached CMS in base64 "
    "from NCALayer) over the statement the matching `statement/` operation answers; the state "
    "body's policy makes it off, optional or required."
)
_STATEMENT = (
    "The exact bytes the caller signs (base64) before taking the step: post the same body the "
    "step will be posted with. Every check of the step runs first (scope, permission, state, "
    "input, the body's signature policy, the caller's IIN); nothing is written."
)

#: operation id -> (summary, description)
OPERATIONS: dict[str, tuple[str, str]] = {
    # ---- the caller (signing in and out, the tokens: their views say it)
    "me_retrieve": (
        "Who am I",
        "The caller: user name, name, language, roles per state body, their servant profile "
        "(null for someone who is no servant, such as an auditor) and direct manager.",
    ),
    # ---- declarations
    "declarations_list": (
        "List declarations",
        "The declarations the caller may see, newest first, 50 a page (`page_size` up to "
        "200). Filters combine; an empty filter value is a 400.",
    ),
    "declarations_create": (
        "Create a draft or open a declaration from other sources",
        "`origin: self` (default) creates the caller's own draft notice, visible only to "
        "them until submitted. `origin: other_source` opens a declaration about a servant "
        "(`declarant`) on information from other sources; it is registered at once, in state "
        "`submitted`, and the servant is notified. Only managers, management and ethics "
        "commissioners may open one (403 otherwise).",
    ),
    "declarations_retrieve": (
        "Get a declaration",
        "One declaration with its deadlines, recusal, source (when the caller may see it), "
        "files and the actions the caller may take now (`allowed_actions`). `ETag` is its "
        "version.",
    ),
    "declarations_update": (
        "Edit a draft",
        "Changes the fields sent, on the caller's own draft only. Send the `ETag` as `If-Match`.",
    ),
    "declarations_delete": (
        "Discard a draft",
        "Deletes the caller's own draft and its files; a submitted declaration is never "
        "deleted. Send the `ETag` as `If-Match`.",
    ),
    "declarations_submit": (
        "Submit the notice",
        "The declarant files their draft: it is registered, a registration number is given, "
        "the recusal on the matter starts and the reviewer is notified. The text is frozen "
        "from now on (corrections are addenda). " + _STEP + _SIGNED,
    ),
    "declarations_start_review": (
        "Start the review",
        "The reviewer (or, for a notice addressed to management, a member of management, who "
        "becomes the reviewer) starts the review. " + _STEP,
    ),
    "declarations_decide": (
        "Decide the measures",
        "The reviewer decides one or more measures (reassign the matter, change the duties, "
        "transfer with the servant's consent, other) and gives the reason. The declaration "
        "is resolved, waits for HR orders or waits for the servant's consent, by the "
        "measures. " + _STEP + _SIGNED,
    ),
    "declarations_no_conflict": (
        "Find no conflict",
        "The reviewer closes the declaration, giving the reason. " + _STEP + _SIGNED,
    ),
    "declarations_withdraw": (
        "Withdraw the notice",
        "The declarant withdraws their own notice before any decision, giving the reason. " + _STEP,
    ),
    "declarations_reassign_reviewer": (
        "Reassign the reviewer",
        "Management gives an open declaration to another reviewer (a servant of the same "
        "state body, never the declarant), giving the reason. " + _STEP,
    ),
    "declarations_add_comment": (
        "Comment",
        "A note of the reviewer, management or an ethics commissioner on a registered "
        "declaration; the declarant does not see comments. Answers the declaration. Send the "
        "`ETag` as `If-Match`.",
    ),
    "declarations_add_addendum": (
        "Add an addendum to the notice",
        "The declarant adds to their open notice (the notice itself is never edited once "
        f"submitted); at most {_ADDENDA_MAX} per declaration. Answers the declaration. Send "
        "the `ETag` as `If-Match`." + _SIGNED,
    ),
    "declarations_measures_list": (
        "List the declaration's measures",
        "Every measure decided on the declaration, with its state.",
    ),
    "declarations_deadlines_list": (
        "List the declaration's deadlines",
        "Every deadline the declaration ran: who was due to act, by when, and how it ended "
        "(met, passed to another person, cancelled, or still running), and whether it was "
        "missed.",
    ),
    "declarations_events_list": (
        "List the declaration's audit trail",
        "Every event of the declaration, oldest first, each hash-chained to the one before. "
        "The declarant does not see comments.",
    ),
    "declarations_records_list": (
        "List the declaration's signed records",
        "The sealed PDF records of the declaration (notice, decision, consent, dossiers) the "
        "caller may read. A record is `pending` until issued; download it with `records/{id}/"
        "pdf/`.",
    ),
    "declarations_attachments_list": (
        "List the files of a notice",
        "The files attached to the declaration's notice.",
    ),
    "declarations_attachments_create": (
        "Attach a file to a draft",
        "Multipart upload of one file to the caller's own draft: PDF, PNG or JPEG, recognised "
        f"by its content, at most {_ATTACHMENT_MAX}, up to 20 per notice. The name it is "
        "offered under ends as its content says.",
    ),
    "declarations_dossier": (
        "Download the dossier",
        "The declaration's dossier as a sealed PDF, for auditors, ethics commissioners and "
        "management. The caller's own dossier of the last hour is handed out again while the "
        "audit trail has not moved; otherwise a new one is issued, which counts against a "
        "per-user limit (429 with `Retry-After`). `X-Record-Id` is the record it is.",
    ),
    "declarations_dossier_issue": (
        "Issue a new dossier",
        "Always renders and seals a new dossier of the declaration (a new record each time), "
        "within the per-user limit (429 with `Retry-After`). For auditors, ethics "
        "commissioners and management.",
    ),
    "declarations_statement_submit": ("Statement to sign: submit", _STATEMENT),
    "declarations_statement_addendum": ("Statement to sign: addendum", _STATEMENT),
    "declarations_statement_decide": ("Statement to sign: decide", _STATEMENT),
    "declarations_statement_no_conflict": ("Statement to sign: no conflict", _STATEMENT),
    # ---- files
    "attachments_download": (
        "Download a file of a notice",
        "The file as attached, with the name to save it under in `Content-Disposition`.",
    ),
    "attachments_delete": (
        "Remove a file from a draft",
        "Only on the caller's own draft (409 once submitted).",
    ),
    # ---- measures
    "measures_list": (
        "List measures",
        "The measures of the declarations the caller may see, newest first. HR lists the "
        "orders to record with `state=pending_order`.",
    ),
    "measures_retrieve": (
        "Get a measure",
        "One measure. `ETag` is its version, for `consent` and `implement`.",
    ),
    "measures_consent": (
        "Answer a transfer proposal",
        "The declarant accepts or declines the transfer (a reason is required to decline; "
        "the declaration then goes back to review). Send the measure's `ETag` as `If-Match`. "
        "Answers the measure." + _SIGNED,
    ),
    "measures_implement": (
        "Record the HR order",
        "HR records the order (number and date) that carries out a measure; a transfer "
        "moves the servant to the new position. Send the measure's `ETag` as `If-Match`. "
        "Answers the measure.",
    ),
    "measures_statement_consent": ("Statement to sign: answer to a transfer", _STATEMENT),
    # ---- records, exports, verification
    "records_retrieve": (
        "Get a record",
        "One signed record: its kind, status, language, verification code and SHA-256.",
    ),
    "records_pdf": (
        "Download a record",
        "The sealed PDF exactly as issued, with the name to save it under in "
        "`Content-Disposition`. 409 while the record is still being issued.",
    ),
    "exports_list": (
        "List my exports",
        "The caller's bulk exports, newest first (the last 100).",
    ),
    "exports_create": (
        "Start a bulk export",
        "For auditors: a ZIP of the dossiers of every declaration the filters select (all "
        "registered declarations of the bodies they audit by default), with a register as "
        "CSV. It runs in the background: watch `exports/{id}/` until `status` is `done`.",
    ),
    "exports_retrieve": (
        "Get an export",
        "The export's progress (`done` of `total`), its status and, once done, the ZIP's "
        "size and SHA-256.",
    ),
    "exports_download": (
        "Download an export",
        "The ZIP of a finished export (409 before it is done), streamed. `Digest` carries "
        "its SHA-256.",
    ),
    "verify_pdf": (
        "Verify a PDF",
        "Anyone, without signing in: is this PDF one of our records, unaltered, sealed by a "
        "trusted seal, and what does it record? Multipart upload of the file, at most "
        f"{_VERIFY_MAX}. `problem_codes` says why it is not valid, for programs. Limited per "
        "address (429 with `Retry-After`).",
    ),
    # ---- pickers and the access log
    "servants_list": (
        "Find servants",
        "Servants of the caller's state bodies, by name or personnel number, 20 a page: to "
        "pick a substitute or a reviewer.",
    ),
    "positions_list": (
        "Find positions",
        "Positions of the caller's state bodies, by title or unit, 20 a page; `vacant=true` "
        "lists the targets of a transfer.",
    ),
    "access_list": (
        "List accesses",
        "Who generated or downloaded a dossier, downloaded a record, a file or an export, or "
        "was shown a confidential source, newest first. For management and auditors; anyone "
        "else gets an empty list.",
    ),
    # ---- notifications
    "notifications_list": (
        "List my notifications",
        "What the caller was told, newest first; `unread` filters.",
    ),
    "notifications_read": (
        "Mark a notification read",
        "Answers the notification as it is now (marking it again changes nothing).",
    ),
    "notifications_read_all": (
        "Mark all notifications read",
        "Every unread notification of the caller, or those that arrived by `up_to`; answers "
        "how many were marked.",
    ),
    "notifications_preferences_retrieve": (
        "Get my e-mail preferences",
        "Every kind of notification, whether it also comes by e-mail, and whether the rules "
        "require it.",
    ),
    "notifications_preferences_update": (
        "Set my e-mail preferences",
        "Sets the kinds listed; the others keep their choice. A kind the rules require "
        "cannot be switched off (400 at its `email`).",
    ),
}
