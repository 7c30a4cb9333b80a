"""The signed records of DESIGN.md §4, from the step that calls for one to the sealed PDF.

Follow a declaration through the package in this order:

``schedule.py``
    What an audited step calls for (``RECORD_FOR_ACTION``, ``records_for_step``) and
    ``records_schedule``, which ``services/steps.py::declaration_transition`` calls inside the
    step's transaction: the *pending* rows with their verification codes, and the
    ``Effect.RECORDS_ISSUE`` effect, run after commit.
``tasks.py``
    The task queue's entry points (django-tasks): ``issue_record``, the export tasks, the
    after-commit effects that enqueue them, and the ``issue_records`` sweep (``records_sweep``)
    with the reaper of tasks whose worker died.
``issuing.py``
    ``record_issue``: render, seal and store one record, issued once however many workers race;
    the dossier on demand (``dossier_record``, ``dossier_issue``, ``dossier_current``); what the
    sweep retries.
``content.py``
    ``record_html``: each record kind's template context, built from the declaration and its audit
    trail.
``rows.py``
    The rows those contexts print: the notice's facts, measures, timeline.
``liability.py``
    The deadline table and the dossier's cl. 9 page, from the stored clocks (issue 14).
``citations.py``
    The legal basis each record cites, once per reference, in the record's language(s).
``labels.py``
    The words: ``Lang`` (one language or two side by side), ``LABELS``, ``TITLES``, and the
    formatting of dates and names.
``pdf.py``
    HTML to PDF/A-3b with WeasyPrint, fetching nothing but the project's own assets.
``signing.py``
    The seal: PAdES signatures (pyHanko), the state body's or a development one.
``verification.py``
    Is an uploaded PDF one of ours, unaltered, and sealed by whom.
``exports.py``
    Bulk export of dossiers for auditors: planned once, rendered in chunks, packed into a ZIP.
``register.py``
    The export's ``register.csv``: fixed columns, said in the auditor's language.
``checkpoints.py``, ``checkpoint_verification.py``
    Signed Merkle checkpoints of every chain and the access log, written outside the database;
    their verification and each declaration's inclusion proof (issue 14).

Imports go one way: this package uses the models, the choices and the infrastructure
(``calendar``, ``side_effects``, ``audit_chain``, ``access_log``, ``dates``, ``permissions``,
``selectors``);
``services``, ``api``, ``web`` and the commands use it, never the reverse.
"""
