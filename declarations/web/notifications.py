"""The reader's notifications (issue 16): the in-app list of what they were told, marking it
read, and which kinds also reach them by e-mail.

Every page works without a script: marking read is a POST form, and an item's link goes
through ``notification_open``, which marks it read and sends the reader on to the case. The
header's unread count is ``web/context.py``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from declarations.choices import NotificationKind
from declarations.models import Notification
from declarations.selectors.notifications import (
    NotificationDue,
    notification_due,
    notification_email_choices,
    notification_get_own,
    notification_list_of,
)
from declarations.services.inbox import notification_preferences_set
from declarations.services.notifications import notifications_mark_read
from declarations.web import forms
from declarations.web.common import acting, declaration_url, form_status, put_errors

PAGE_SIZE = 25


@dataclass(frozen=True)
class Item:
    """One row of the list: the notification, the deadline it names, and for a weekly digest
    its counts (``services/digests.digest_content``)."""

    notification: Notification
    due: NotificationDue | None
    digest: dict[str, Any] | None


def _own(request: HttpRequest, code: UUID) -> Notification:
    """The reader's own notification, else a 404 (never say that another's exists)."""
    try:
        return notification_get_own(user=request.user, code=code)
    except Notification.DoesNotExist:
        raise Http404 from None


def _list_url(request: HttpRequest) -> str:
    """Back to the list, on the page the reader posted from."""
    url = reverse("declarations:notifications")
    page = request.POST.get("page", "")
    return f"{url}?page={page}" if page.isdigit() else url


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """What the reader was told, newest first: two queries a page, however many rows."""
    page = Paginator(notification_list_of(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    items = [
        Item(
            notification=n,
            due=notification_due(n),
            digest=n.context if n.kind == NotificationKind.WEEKLY_DIGEST else None,
        )
        for n in page
    ]
    # "Mark all as read" marks what this page was rendered over: one arriving meanwhile stays
    # unread, as the API's ``up_to`` has it
    context = {"page": page, "items": items, "rendered_at": timezone.now()}
    return render(request, "declarations/notifications.html", context)


@login_required
@require_GET
def notification_open(request: HttpRequest, code: UUID) -> HttpResponse:
    """Follow an item: it is read now, and the reader goes on to its case (or back to the list
    when it names none, as a digest does)."""
    notification = _own(request, code)
    if notification.read_at is None:
        notifications_mark_read(user=acting(request), ids=[notification.pk])
    if notification.declaration is not None:
        return redirect(declaration_url(notification.declaration))
    return redirect("declarations:notifications")


@login_required
@require_POST
def notification_read(request: HttpRequest, code: UUID) -> HttpResponse:
    notification = _own(request, code)
    notifications_mark_read(user=acting(request), ids=[notification.pk])
    return redirect(_list_url(request))


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    # Without a readable ``up_to`` (an older page) every unread one, as before: it is only ever
    # the reader's own.
    try:
        up_to = parse_datetime(request.POST.get("up_to", ""))
    except ValueError:
        up_to = None
    if notifications_mark_read(user=acting(request), up_to=up_to):
        messages.success(request, _("All your notifications are marked as read."))
    return redirect(_list_url(request))


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """Which kinds also come by e-mail; the ones the rules require are shown on, and stay on."""
    choices = notification_email_choices(user=request.user)
    form = forms.NotificationEmailForm(
        request.POST if request.method == "POST" else None, choices=choices
    )
    if form.is_bound and form.is_valid():
        try:
            notification_preferences_set(user=acting(request), emails=form.emails())
        except ValidationError as exc:
            put_errors(form, exc)  # keyed by kind, the form's field names
        else:
            messages.success(request, _("Your e-mail choices are saved."))
            return redirect("declarations:notification-settings")
    return render(
        request,
        "declarations/notification_settings.html",
        {"form": form},
        status=form_status(request, form),
    )
