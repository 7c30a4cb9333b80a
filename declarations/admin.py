"""Django admin: the org structure, calendar, legal references and reminder rules are edited here;
declarations, measures, audit events, notifications, API tokens and the scheduler's jobs are shown
read-only (every change to them goes through the services: "send again now" and "revoke" too)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import BaseFormSet, ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from declarations import permissions
from declarations.choices import AuditAction
from declarations.models import (
    ApiToken,
    AuditEvent,
    CalendarOverride,
    Declaration,
    ExportJob,
    LegalBasis,
    LegalReference,
    Measure,
    Notification,
    NotificationPreference,
    Position,
    Record,
    ReminderRule,
    RoleGrant,
    ScheduledJob,
    Servant,
    StateBody,
    Unit,
)
from declarations.services.notifications import notifications_send_again
from declarations.services.organization import COLUMNS, org_import_csv
from declarations.services.reminders import deadlines_reschedule
from declarations.services.tokens import tokens_revoke

MAX_CSV_BYTES = 5 * 1024 * 1024


class CsvImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file lists"), choices=[(k, k) for k in COLUMNS])
    file = forms.FileField(label=_("CSV file (UTF-8)"))

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        try:
            text: str = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file is not UTF-8 text.")) from None
        return text


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StoredFileAdmin(ReadOnlyAdmin):
    """A row with a file in the record store: the file's name as text, never a link (the store
    gives none: a download goes through the pages or the API, which log it)."""

    exclude = ["file"]
    readonly_fields = ["stored_file"]

    @admin.display(description=_("File"))
    def stored_file(self, obj: Any) -> str:
        return str(obj.file.name or "-")


class ReminderRuleInline(admin.TabularInline):
    """When the person due to act is reminded before each deadline of the body (issue 16); a
    deadline without rules here uses the deployment's ``COI_REMINDERS``."""

    model = ReminderRule
    extra = 0
    fields = ["clock", "unit", "amount", "at_time"]


@admin.register(StateBody)
class StateBodyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "registration_prefix"]
    change_form_template = "admin/declarations/statebody/change_form.html"
    actions = ["import_csv_action"]
    inlines = [ReminderRuleInline]

    def save_related(
        self,
        request: HttpRequest,
        form: ModelForm[Any],
        formsets: list[BaseFormSet[Any]],
        change: bool,
    ) -> None:
        """The running clocks' next reminder and escalation follow the rules they were
        scheduled by: when the rules or the escalation step change, they are worked out again."""
        super().save_related(request, form, formsets, change)
        rules_changed = any(
            formset.has_changed()
            for formset in formsets
            if getattr(formset, "model", None) is ReminderRule
        )
        if change and (rules_changed or "escalation_step_days" in form.changed_data):
            deadlines_reschedule(body_id=form.instance.pk)

    @admin.action(description=_("Import units, positions or servants from CSV"))
    def import_csv_action(self, request: HttpRequest, queryset: QuerySet[StateBody]) -> Any:
        """The list action: pick one body, then the import page takes the file."""
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one state body."), messages.WARNING)
            return None
        body = queryset.get()
        return HttpResponseRedirect(
            reverse("admin:declarations_statebody_import_csv", args=[body.pk])
        )

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "<int:body_id>/import-csv/",
                self.admin_site.admin_view(self.import_csv),
                name="declarations_statebody_import_csv",
            )
        ]
        return custom + super().get_urls()

    def import_csv(self, request: HttpRequest, body_id: int) -> HttpResponse:
        """Import units, positions or servants from CSV; all or nothing, errors per row."""
        body = get_object_or_404(StateBody, pk=body_id)
        if not self.has_change_permission(request, body):
            return HttpResponse(status=403)
        form = CsvImportForm(request.POST or None, request.FILES or None)
        errors: list[Any] = []
        if request.method == "POST" and form.is_valid():
            result = org_import_csv(
                body=body, kind=form.cleaned_data["kind"], text=form.cleaned_data["file"]
            )
            if result.ok:
                messages.success(
                    request,
                    _("Imported: %(c)d created, %(u)d updated.")
                    % {"c": result.created, "u": result.updated},
                )
                return HttpResponseRedirect(
                    reverse("admin:declarations_statebody_change", args=[body.pk])
                )
            errors = result.errors
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import CSV into %(body)s") % {"body": body},
            "body": body,
            "form": form,
            "row_errors": errors,
            "columns": COLUMNS,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/declarations/statebody/import_csv.html", context)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "body", "parent", "external_id"]
    list_filter = ["body"]
    search_fields = ["name", "external_id"]
    raw_id_fields = ["parent"]


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = ["title", "unit", "is_head", "external_id"]
    list_filter = ["body", "is_head"]
    search_fields = ["title", "external_id"]
    raw_id_fields = ["unit"]


@admin.register(Servant)
class ServantAdmin(admin.ModelAdmin):
    list_display = ["full_name", "personnel_number", "position", "body", "is_active"]
    list_filter = ["body", "is_active"]
    search_fields = ["full_name", "personnel_number", "user__username"]
    raw_id_fields = ["user", "position", "manager_override"]


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "body"]
    list_filter = ["role", "body"]
    raw_id_fields = ["user"]


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    """A decree-moved day changes when running clocks remind and escalate (issue 16): saving or
    deleting one reschedules them (their due times stay as they were set when they started)."""

    list_display = ["date", "kind", "reason"]
    list_filter = ["kind"]

    def save_model(
        self, request: HttpRequest, obj: CalendarOverride, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        deadlines_reschedule()

    def delete_model(self, request: HttpRequest, obj: CalendarOverride) -> None:
        super().delete_model(request, obj)
        deadlines_reschedule()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarOverride]) -> None:
        super().delete_queryset(request, queryset)
        deadlines_reschedule()


@admin.register(LegalReference)
class LegalReferenceAdmin(admin.ModelAdmin):
    list_display = ["key", "act", "article", "clause", "edition_date", "in_force"]
    list_filter = ["in_force"]
    search_fields = ["key", "act"]


@admin.register(LegalBasis)
class LegalBasisAdmin(admin.ModelAdmin):
    list_display = ["topic", "reference", "order"]
    list_filter = ["topic"]


@admin.register(Declaration)
class DeclarationAdmin(ReadOnlyAdmin):
    """Operators see the declarations, but not what ``permissions.disclosure`` withholds from them:
    a confidential source only an ethics commissioner or auditor of the body reads here too."""

    list_display = ["registration_number", "declarant", "state", "submitted_at", "due_at"]
    list_filter = ["state", "body", "origin"]
    search_fields = ["registration_number", "declarant__full_name"]

    def get_exclude(self, request: HttpRequest, obj: Declaration | None = None) -> Any:
        hidden = list(super().get_exclude(request, obj) or [])
        if (
            obj is not None
            and obj.source_confidential
            and not permissions.disclosure(request.user, obj).source
        ):
            hidden.append("source_description")
        return hidden


@admin.register(Measure)
class MeasureAdmin(ReadOnlyAdmin):
    list_display = ["declaration", "kind", "state", "order_number"]
    list_filter = ["kind", "state"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The trail, without the text of an internal comment for a reader who may not see it
    (``permissions.disclosure``): the event, its actor and its hash stay."""

    list_display = ["declaration", "seq", "action", "actor", "from_state", "to_state", "created_at"]
    list_filter = ["action"]
    search_fields = ["declaration__registration_number", "hash"]

    def get_exclude(self, request: HttpRequest, obj: AuditEvent | None = None) -> Any:
        hidden = list(super().get_exclude(request, obj) or [])
        if (
            obj is not None
            and obj.action == AuditAction.COMMENTED
            and not permissions.disclosure(request.user, obj.declaration).comments
        ):
            hidden.append("data")
        return hidden


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The outbox as operators need it (issue 16): what is waiting, what failed and why, and
    "send again now" for a failed one once the cause is fixed."""

    list_display = [
        "recipient",
        "kind",
        "declaration",
        "delivery",
        "attempts",
        "next_attempt_at",
        "error",
        "created_at",
        "read_at",
    ]
    list_filter = ["delivery", "kind"]
    list_select_related = ["recipient", "declaration"]
    search_fields = ["recipient__username", "recipient__email", "error"]
    actions = ["send_again"]

    def has_send_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("declarations.change_notification"))

    @admin.action(description=_("Send again now"), permissions=["send"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        queued = notifications_send_again(ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            _("E-mails queued to be sent now: %(n)d. Sent or skipped ones are left as they are.")
            % {"n": queued},
        )


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "email", "updated_at"]
    list_filter = ["kind", "email"]
    list_select_related = ["user"]
    search_fields = ["user__username"]


@admin.register(ScheduledJob)
class ScheduledJobAdmin(ReadOnlyAdmin):
    """The scheduler's jobs: when each runs next, who holds it, how its last run went."""

    list_display = [
        "name",
        "next_run_at",
        "lease_owner",
        "lease_until",
        "last_started_at",
        "last_finished_at",
        "last_result",
        "last_error",
        "runs",
    ]


@admin.register(Record)
class RecordAdmin(StoredFileAdmin):
    """Operators see what was issued and what is stuck: attempts and the last error of a
    record that failed to render (``issue_records --retry-failed`` retries it)."""

    list_display = ["verification_code", "kind", "status", "attempts", "issued_at", "created_at"]
    list_filter = ["status", "kind", "development_seal"]
    search_fields = ["verification_code", "sha256", "declaration__registration_number"]
    list_select_related = ["declaration"]
    raw_id_fields = ["declaration", "event", "export", "requested_by"]


@admin.register(ExportJob)
class ExportJobAdmin(StoredFileAdmin):
    list_display = ["code", "requested_by", "status", "done", "total", "created_at", "finished_at"]
    list_filter = ["status"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """A user's API tokens (search by user name) and "revoke"; never a key, which is not stored
    (nor its digest, which is no use to an operator)."""

    list_display = ["user", "client", "created_at", "last_used_at", "expires_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "client"]
    exclude = ["digest"]
    actions = ["revoke"]

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("declarations.delete_apitoken"))

    @admin.action(description=_("Revoke the selected tokens"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = tokens_revoke(ids=queryset.values_list("pk", flat=True))
        self.message_user(request, _("Tokens revoked: %(n)d.") % {"n": revoked})
