"""The entity has one name in the code, the URLs and the stored values: declaration (issue 13).

The pages lived under ``/cases/`` before; a bookmark or a form left open there still works.
"""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from declarations.choices import NotificationKind
from declarations.models import Notification
from tests.builders import Org, declaration_in
from tests.web import client_as


@pytest.mark.django_db
def test_the_pages_live_under_declarations(org: Org) -> None:
    declaration = declaration_in(org, "submitted")
    url = reverse("declarations:declaration", args=[declaration.code])
    assert url == f"/declarations/{declaration.code}/"
    assert client_as(org.manager).get(url).status_code == 200


@pytest.mark.django_db
def test_an_old_page_address_is_sent_on_permanently_with_its_query(org: Org) -> None:
    response = client_as(org.manager).get("/cases/search/?q=brother&state=submitted")
    assert response.status_code == 308
    assert response["Location"] == "/declarations/search/?q=brother&state=submitted"


@pytest.mark.django_db
def test_a_form_left_open_on_an_old_page_still_posts(org: Org) -> None:
    """308 keeps the method and the body, so the step is taken at the new address."""
    declaration = declaration_in(org, "submitted")
    manager = client_as(org.manager)
    old = f"/cases/{declaration.code}/start-review/"
    response = manager.post(old, {"seen_state": "submitted"}, follow=True)
    assert response.redirect_chain[0] == (f"/declarations/{declaration.code}/start-review/", 308)
    declaration.refresh_from_db()
    assert declaration.state == "in_review"


@pytest.mark.django_db
def test_an_old_address_of_a_declaration_out_of_scope_is_still_a_404(org: Org) -> None:
    declaration = declaration_in(org, "submitted")
    response = client_as(org.outsider).get(f"/cases/{declaration.code}/", follow=True)
    assert response.status_code == 404


@pytest.mark.django_db
def test_notifications_queued_under_the_old_kind_names_are_renamed(org: Org) -> None:
    migration = importlib.import_module(
        "declarations.migrations.0015_notification_kinds_say_declaration"
    )
    declaration = declaration_in(org, "submitted")
    old = ["case_assigned", "case_opened_about_you", "case_closed", "review_started"]
    rows = [
        Notification.objects.create(
            recipient=org.servant, kind=NotificationKind.REVIEW_STARTED, declaration=declaration
        )
        for _ in old
    ]
    for row, kind in zip(rows, old, strict=True):
        Notification.objects.filter(pk=row.pk).update(kind=kind)  # as a queue before the move
    migration.rename(apps, None)
    renamed = [Notification.objects.get(pk=row.pk).kind for row in rows]
    assert renamed == [
        NotificationKind.DECLARATION_ASSIGNED,
        NotificationKind.DECLARATION_OPENED_ABOUT_YOU,
        NotificationKind.DECLARATION_CLOSED,
        NotificationKind.REVIEW_STARTED,
    ]
    assert {value for value, _ in NotificationKind.choices}.isdisjoint(old[:3])
