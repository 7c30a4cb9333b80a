"""The in-app inbox (issue 16, point 4): the pages' notification list and its unread count in
the header, the API's ``/notifications/``, marking read, and the e-mail choices per kind.

Personas: ``manager`` is told about his servants' notices (his inbox); ``servant2`` and
``head`` have inboxes of their own that ``manager`` must never see or change.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import formats

from declarations.choices import (
    MANDATORY_NOTIFICATIONS,
    Clock,
    DeclarationState,
    NotificationKind,
)
from declarations.models import Declaration, Notification, NotificationPreference
from declarations.services.notifications import notification_enqueue
from tests.api import BASE, client_for, ok
from tests.builders import Org, declaration_in
from tests.test_web_pages import INLINE_CODE
from tests.web import client_as, text

pytestmark = pytest.mark.django_db

S = DeclarationState
K = NotificationKind
ALMATY = ZoneInfo("Asia/Almaty")
#: 13:00 UTC is 18:00 in Almaty (UTC+5)
DUE = datetime(2026, 3, 20, 13, 0, tzinfo=UTC)
#: a kind the rules require, and one a user may switch off
MANDATORY = K.DEADLINE_MISSED
OPTIONAL = K.DEADLINE_REMINDER


def tell(
    user: Any,
    kind: NotificationKind = K.DECISION_MADE,
    declaration: Declaration | None = None,
    **context: Any,
) -> Notification:
    """Queue one notification for ``user`` through the outbox's service; the row it wrote."""
    notification_enqueue(
        recipient_ids=[user.pk], kind=kind, declaration=declaration, context=context
    )
    return Notification.objects.filter(recipient=user).latest("created_at", "id")


def remind(user: Any, declaration: Declaration) -> Notification:
    return tell(
        user, K.DEADLINE_REMINDER, declaration, clock=Clock.DECISION, due_at=DUE.isoformat()
    )


def inbox(user: Any) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user).order_by("pk"))


def unread(user: Any) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def almaty(moment: datetime) -> str:
    return formats.date_format(moment.astimezone(ALMATY), "SHORT_DATETIME_FORMAT")


@pytest.fixture
def case(org: Org) -> Declaration:
    """servant's notice, submitted: ``manager`` is told it awaits his review."""
    return declaration_in(org, S.SUBMITTED)


# ---- the list page -------------------------------------------------------------------------


def test_the_list_shows_the_readers_own_newest_first_with_case_deadline_and_state(
    org: Org, case: Declaration
) -> None:
    reminder = remind(org.manager, case)
    tell(org.servant2, K.DECISION_MADE, case)  # someone else's
    response = client_as(org.manager).get(reverse("declarations:notifications"))
    assert response.status_code == 200
    seen = text(response)
    assert seen.index("A deadline is near") < seen.index(
        "A conflict-of-interest case awaits your review"
    )
    assert "Measures were decided on your case" not in seen
    assert case.registration_number in seen
    assert f"Decide the measures: {almaty(DUE)}" in seen  # Almaty time, not UTC
    assert almaty(DUE) != formats.date_format(DUE.replace(tzinfo=None), "SHORT_DATETIME_FORMAT")
    assert seen.count("Unread") == 2
    body = response.content.decode()
    assert reverse("declarations:notification-open", args=[reminder.code]) in body
    for pattern in INLINE_CODE:  # the strict CSP: no inline script or style
        assert not pattern.search(body), pattern.pattern


def test_the_list_is_paginated(org: Org, case: Declaration) -> None:
    for _ in range(30):
        tell(org.manager)
    client = client_as(org.manager)
    first = client.get(reverse("declarations:notifications"))
    assert len(first.context["items"]) == 25
    second = client.get(reverse("declarations:notifications"), {"page": 2})
    assert len(second.context["items"]) == 31 - 25
    assert "Page 2 of 2" in text(second)


def test_a_reader_with_no_notifications_is_told_so(org: Org) -> None:
    seen = text(client_as(org.hr).get(reverse("declarations:notifications")))
    assert "You have no notifications." in seen
    assert "Mark all as read" not in seen


def test_the_list_needs_a_signed_in_reader(org: Org) -> None:
    url = reverse("declarations:notifications")
    response = client_as(None).get(url)
    assert response.status_code == 302 and response.url == f"{reverse('login')}?next={url}"


# ---- the unread count in the header --------------------------------------------------------


def test_the_header_counts_the_readers_unread_notifications_on_every_page(
    org: Org, case: Declaration
) -> None:
    remind(org.manager, case)
    tell(org.servant2)
    client = client_as(org.manager)
    for name in ("reviews", "mine", "notifications", "notification-settings"):
        assert "Notifications (2 unread)" in text(client.get(reverse(f"declarations:{name}")))
    page = text(client.get(reverse("declarations:declaration", args=[case.code])))
    assert "Notifications (2 unread)" in page
    assert "Notifications (1 unread)" in text(
        client_as(org.servant2).get(reverse("declarations:mine"))
    )


def test_no_count_when_all_is_read_and_none_for_anonymous_readers(
    org: Org, case: Declaration
) -> None:
    client = client_as(org.manager)
    client.post(reverse("declarations:notifications-read"))
    seen = text(client.get(reverse("declarations:reviews")))
    assert "Notifications" in seen and "unread" not in seen
    assert "unread" not in text(client_as(None).get(reverse("login")))


# ---- marking read --------------------------------------------------------------------------


def test_marking_one_read_leaves_the_others_and_returns_to_the_same_page(
    org: Org, case: Declaration
) -> None:
    reminder = remind(org.manager, case)
    response = client_as(org.manager).post(
        reverse("declarations:notification-read", args=[reminder.code]), {"page": "2"}
    )
    assert response.status_code == 302
    assert response.url == reverse("declarations:notifications") + "?page=2"
    reminder.refresh_from_db()
    assert reminder.read_at is not None
    assert unread(org.manager) == 1


def test_mark_all_read_marks_only_the_readers_own(org: Org, case: Declaration) -> None:
    remind(org.manager, case)
    tell(org.servant2)
    response = client_as(org.manager).post(reverse("declarations:notifications-read"), follow=True)
    assert "All your notifications are marked as read." in text(response)
    assert unread(org.manager) == 0
    assert unread(org.servant2) == 1


def test_mark_all_read_leaves_one_that_arrived_after_the_page_was_shown(
    org: Org, case: Declaration
) -> None:
    seen = remind(org.manager, case)
    client = client_as(org.manager)
    shown = client.get(reverse("declarations:notifications"))
    up_to = re.search(r'name="up_to" value="([^"]+)"', shown.content.decode())
    assert up_to is not None and "Mark all as read" in text(shown)
    arrived = tell(org.manager)  # while the reader was looking at the page
    client.post(reverse("declarations:notifications-read"), {"up_to": up_to.group(1)})
    seen.refresh_from_db()
    arrived.refresh_from_db()
    assert seen.read_at is not None
    assert arrived.read_at is None
    assert unread(org.manager) == 1


def test_following_an_items_link_marks_it_read_and_opens_the_case(
    org: Org, case: Declaration
) -> None:
    reminder = remind(org.manager, case)
    client = client_as(org.manager)
    response = client.get(reverse("declarations:notification-open", args=[reminder.code]))
    assert response.status_code == 302
    assert response.url == reverse("declarations:declaration", args=[case.code])
    reminder.refresh_from_db()
    assert reminder.read_at is not None
    assert unread(org.manager) == 1  # the other one is still unread
    first_read = reminder.read_at
    client.get(reverse("declarations:notification-open", args=[reminder.code]))
    reminder.refresh_from_db()
    assert reminder.read_at == first_read  # opened again: read when it was first read


def test_an_item_without_a_case_opens_the_list(org: Org) -> None:
    digest = tell(org.head, K.WEEKLY_DIGEST, None, open=3, due_this_week_count=1, overdue_count=2)
    client = client_as(org.head)
    seen = text(client.get(reverse("declarations:notifications")))
    assert "Open cases: 3; due this week: 1; overdue: 2" in seen
    response = client.get(reverse("declarations:notification-open", args=[digest.code]))
    assert response.url == reverse("declarations:notifications")
    digest.refresh_from_db()
    assert digest.read_at is not None


def test_another_users_notification_is_a_404_and_stays_unread(org: Org, case: Declaration) -> None:
    theirs = tell(org.servant2, K.DECISION_MADE, case)
    client = client_as(org.manager)
    assert (
        client.get(reverse("declarations:notification-open", args=[theirs.code])).status_code == 404
    )
    read = reverse("declarations:notification-read", args=[theirs.code])
    assert client.post(read).status_code == 404
    assert client.post(f"/notifications/{uuid.uuid4()}/read/").status_code == 404
    assert client.post("/notifications/123/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_read_is_a_post_with_its_csrf_token(org: Org, case: Declaration) -> None:
    mine = inbox(org.manager)[0]
    read = reverse("declarations:notification-read", args=[mine.code])
    assert client_as(org.manager).get(read).status_code == 405
    assert client_as(org.manager).get(reverse("declarations:notifications-read")).status_code == 405
    strict = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    strict.force_login(org.manager)
    assert strict.post(read).status_code == 403
    assert strict.post(reverse("declarations:notifications-read")).status_code == 403
    assert unread(org.manager) == 1
    page = strict.get(reverse("declarations:notifications")).content.decode()
    assert page.count('name="csrfmiddlewaretoken"') >= 3  # language, mark all, mark one


# ---- e-mail choices on the pages -----------------------------------------------------------


def test_the_settings_page_shows_required_kinds_on_and_disabled_with_the_reason(
    org: Org,
) -> None:
    response = client_as(org.servant).get(reverse("declarations:notification-settings"))
    assert response.status_code == 200
    body = response.content.decode()
    for kind in K:
        tag = re.search(rf'<input[^>]*name="{kind.value}"[^>]*>', body)
        assert tag is not None, kind
        assert ("disabled" in tag.group()) == (kind in MANDATORY_NOTIFICATIONS), kind
        assert "checked" in tag.group(), kind
    assert 'aria-describedby="id_deadline_missed_helptext"' in body
    assert "The rules require this notification; its e-mail cannot be switched off." in text(
        response
    )
    for pattern in INLINE_CODE:
        assert not pattern.search(body), pattern.pattern


def test_switching_an_optional_kind_off_on_the_page_is_stored(org: Org) -> None:
    others = {k.value: "on" for k in K if k not in MANDATORY_NOTIFICATIONS and k != OPTIONAL}
    response = client_as(org.servant).post(
        reverse("declarations:notification-settings"), others, follow=True
    )
    assert "Your e-mail choices are saved." in text(response)
    assert list(
        NotificationPreference.objects.filter(user=org.servant).values_list("kind", "email")
    ) == [(OPTIONAL.value, False)]
    page = client_as(org.servant).get(reverse("declarations:notification-settings"))
    tag = re.search(rf'<input[^>]*name="{OPTIONAL.value}"[^>]*>', page.content.decode())
    assert tag is not None and "checked" not in tag.group()


def test_a_required_kind_cannot_be_switched_off_from_the_page(org: Org) -> None:
    # a forged form that leaves the required kinds out: a disabled field keeps its value
    client_as(org.servant).post(reverse("declarations:notification-settings"), {})
    stored = dict(
        NotificationPreference.objects.filter(user=org.servant).values_list("kind", "email")
    )
    assert all(k not in stored for k in MANDATORY_NOTIFICATIONS)
    assert stored == {k.value: False for k in K if k not in MANDATORY_NOTIFICATIONS}


# ---- the API -------------------------------------------------------------------------------

NOTIFICATIONS = f"{BASE}/notifications/"
PREFERENCES = f"{NOTIFICATIONS}preferences/"


def test_api_lists_the_callers_own_newest_first(org: Org, case: Declaration) -> None:
    reminder = remind(org.manager, case)
    tell(org.servant2, K.DECISION_MADE, case)
    body = ok(client_for(org.manager).get(NOTIFICATIONS))
    assert [item["kind"] for item in body["results"]] == [
        "deadline_reminder",
        "declaration_assigned",
    ]
    item = body["results"][0]
    assert item == {
        "id": str(reminder.code),
        "kind": "deadline_reminder",
        "title": "A deadline is near",
        "declaration": str(case.code),
        "registration_number": case.registration_number,
        "url": f"http://testserver/declarations/{case.code}/",
        "deadline": {
            "clock": "decision",
            "clock_display": "Decide the measures",
            "due_at": "2026-03-20T18:00:00+05:00",
        },
        "created_at": item["created_at"],
        "read_at": None,
    }
    assert body["results"][1]["deadline"] is None


def test_api_a_notification_without_a_case(org: Org) -> None:
    tell(org.head, K.WEEKLY_DIGEST, None, open=1)
    [item] = ok(client_for(org.head).get(NOTIFICATIONS))["results"]
    assert (item["declaration"], item["registration_number"], item["url"]) == (None, None, None)


def test_api_filters_unread_and_refuses_a_bad_filter(org: Org, case: Declaration) -> None:
    reminder = remind(org.manager, case)
    client = client_for(org.manager)
    ok(client.post(f"{NOTIFICATIONS}{reminder.code}/read/"))
    unread_ids = [i["id"] for i in ok(client.get(NOTIFICATIONS, {"unread": "true"}))["results"]]
    read_ids = [i["id"] for i in ok(client.get(NOTIFICATIONS, {"unread": "false"}))["results"]]
    assert str(reminder.code) in read_ids and str(reminder.code) not in unread_ids
    assert len(unread_ids) == 1
    for bad in ("maybe", "", "1"):
        refused = client.get(NOTIFICATIONS, {"unread": bad})
        assert refused.status_code == 400, bad
        assert list(refused.json()["fields"]) == ["unread"]


def test_api_pages_with_a_cursor(org: Org) -> None:
    told = [str(tell(org.hr).code) for _ in range(5)]
    client = client_for(org.hr)
    first = ok(client.get(NOTIFICATIONS, {"page_size": 2}))
    second = ok(client.get(first["next"]))
    ids = [i["id"] for i in first["results"] + second["results"]]
    assert ids == told[::-1][:4]  # newest first
    assert client.get(NOTIFICATIONS, {"page_size": 0}).status_code == 400
    assert client.get(NOTIFICATIONS, {"cursor": "garbage"}).status_code == 400


def test_api_marks_one_read(org: Org, case: Declaration) -> None:
    reminder = remind(org.manager, case)
    body = ok(client_for(org.manager).post(f"{NOTIFICATIONS}{reminder.code}/read/"))
    assert body["id"] == str(reminder.code) and body["read_at"] is not None
    assert unread(org.manager) == 1
    again = ok(client_for(org.manager).post(f"{NOTIFICATIONS}{reminder.code}/read/"))
    assert again["read_at"] == body["read_at"]


def test_api_another_users_or_no_such_id_is_404_and_changes_nothing(
    org: Org, case: Declaration
) -> None:
    theirs = tell(org.servant2, K.DECISION_MADE, case)
    client = client_for(org.manager)
    for id_ in (theirs.code, theirs.pk, 10**9, "00000000-0000-0000-0000-000000000000", "-1"):
        response = client.post(f"{NOTIFICATIONS}{id_}/read/")
        assert response.status_code == 404, id_
        assert response.json()["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_api_marks_all_read_the_callers_only(org: Org, case: Declaration) -> None:
    remind(org.manager, case)
    tell(org.servant2)
    assert ok(client_for(org.manager).post(f"{NOTIFICATIONS}read-all/")) == {"marked": 2}
    assert ok(client_for(org.manager).post(f"{NOTIFICATIONS}read-all/")) == {"marked": 0}
    assert unread(org.manager) == 0 and unread(org.servant2) == 1


def test_api_needs_authentication(org: Org) -> None:
    for response in (
        client_for(None).get(NOTIFICATIONS),
        client_for(None).post(f"{NOTIFICATIONS}read-all/"),
        client_for(None).get(PREFERENCES),
    ):
        assert response.status_code == 401


def test_api_preferences_list_every_kind_with_what_is_mandatory(org: Org) -> None:
    body = ok(client_for(org.servant).get(PREFERENCES))
    assert [p["kind"] for p in body["preferences"]] == list(K.values)
    for p in body["preferences"]:
        assert p["email"] is True
        assert p["mandatory"] is (p["kind"] in MANDATORY_NOTIFICATIONS)
        assert p["title"] == K(p["kind"]).label


def test_api_switching_an_optional_kind_off_is_stored(org: Org) -> None:
    client = client_for(org.servant)
    body = ok(
        client.put(
            PREFERENCES, {"preferences": [{"kind": OPTIONAL, "email": False}]}, format="json"
        )
    )
    assert {p["kind"]: p["email"] for p in body["preferences"]}[OPTIONAL] is False
    assert NotificationPreference.objects.get(user=org.servant, kind=OPTIONAL).email is False
    ok(client.put(PREFERENCES, {"preferences": [{"kind": OPTIONAL, "email": True}]}, format="json"))
    assert NotificationPreference.objects.get(user=org.servant, kind=OPTIONAL).email is True


def test_api_a_mandatory_kind_cannot_be_switched_off_and_nothing_is_written(org: Org) -> None:
    response = client_for(org.servant).put(
        PREFERENCES,
        {
            "preferences": [
                {"kind": OPTIONAL, "email": False},
                {"kind": MANDATORY, "email": False},
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "preferences": {
            "1": {
                "email": ["The rules require this notification; its e-mail cannot be switched off."]
            }
        }
    }
    assert not NotificationPreference.objects.filter(user=org.servant).exists()


@pytest.mark.parametrize(
    ("preferences", "fields"),
    [
        ([{"kind": "no_such_kind", "email": False}], {"preferences": {"0": {"kind": ...}}}),
        ([{"kind": OPTIONAL.value, "email": "no"}], {"preferences": {"0": {"email": ...}}}),
        ([{"kind": OPTIONAL.value}], {"preferences": {"0": {"email": ...}}}),
        (
            [{"kind": OPTIONAL.value, "email": True}, {"kind": OPTIONAL.value, "email": False}],
            {"preferences": {"1": {"kind": ["This kind is listed twice."]}}},
        ),
        (
            [{"kind": OPTIONAL.value, "email": False, "sms": True}],
            {"preferences": {"0": {"sms": ...}}},
        ),
        (
            [{"kind": OPTIONAL.value, "email": False}] * (len(K) + 1),
            {"preferences": {"non_field_errors": ...}},
        ),
    ],
)
def test_api_bad_preferences_are_400_at_their_field(
    org: Org, preferences: Any, fields: dict[str, Any]
) -> None:
    response = client_for(org.servant).put(PREFERENCES, {"preferences": preferences}, format="json")
    assert response.status_code == 400
    got = response.json()["fields"]
    assert _shape(got) == _shape(fields), got
    assert not NotificationPreference.objects.filter(user=org.servant).exists()


def _shape(value: Any) -> Any:
    """The keys and nesting of an error body, with ``...`` for any messages."""
    return {k: _shape(v) for k, v in value.items()} if isinstance(value, dict) else ...


# ---- languages -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "assigned", "decide"),
    [
        ("kk", "Мүдделер қақтығысы туралы іс сіздің қарауыңызды күтуде", "Шаралар қабылдау"),
        ("ru", "Дело о конфликте интересов ожидает вашего рассмотрения", "Принять меры"),
    ],
)
def test_each_reader_sees_titles_and_clocks_in_their_language(
    org: Org, case: Declaration, language: str, assigned: str, decide: str
) -> None:
    remind(org.manager, case)
    page = text(client_as(org.manager, language).get(reverse("declarations:notifications")))
    assert assigned in page and decide in page
    assert "A conflict-of-interest case awaits your review" not in page
    client = client_for(org.manager, HTTP_ACCEPT_LANGUAGE=language)
    reminder, told = ok(client.get(NOTIFICATIONS))["results"]
    assert told["title"] == assigned
    assert reminder["deadline"]["clock_display"] == decide
    titles = {p["kind"]: p["title"] for p in ok(client.get(PREFERENCES))["preferences"]}
    assert titles["declaration_assigned"] == assigned
    # the same reader in English a moment later: the language is the request's, not stored
    assert ok(client_for(org.manager).get(NOTIFICATIONS))["results"][1]["title"] == (
        "A conflict-of-interest case awaits your review"
    )


# ---- queries -------------------------------------------------------------------------------

# Pinned: the session and its user; the page's count and its rows, each with its declaration in
# the same join; the header's role grants, servant and unread count; the session saved again
# (every request renews it: a savepoint, the update, its release).
PAGE_QUERIES = 10
# Pinned: the token with its user, then the rows with their declarations in one join.
API_QUERIES = 2


@pytest.mark.parametrize("how_many", [1, 30])
def test_the_list_page_asks_a_fixed_number_of_queries(
    org: Org, case: Declaration, how_many: int, django_assert_num_queries: Any
) -> None:
    for _ in range(how_many):
        remind(org.manager, case)
    client = client_as(org.manager)
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(reverse("declarations:notifications"))
    assert len(response.context["items"]) == min(how_many + 1, 25)


@pytest.mark.parametrize("how_many", [1, 30])
def test_the_api_list_asks_a_fixed_number_of_queries(
    org: Org, case: Declaration, how_many: int, django_assert_num_queries: Any
) -> None:
    for _ in range(how_many):
        remind(org.manager, case)
    client = client_for(org.manager)
    with django_assert_num_queries(API_QUERIES):
        body = ok(client.get(NOTIFICATIONS))
    assert len(body["results"]) == how_many + 1
    assert all(item["registration_number"] for item in body["results"])


def test_api_marks_read_only_what_arrived_by_the_time_given(org: Org, case: Declaration) -> None:
    """A notification that arrives between reading the list and "mark all read" stays unread;
    a bad time is a 400 naming the field."""
    seen = remind(org.manager, case)
    later = tell(org.manager)
    Notification.objects.filter(pk=later.pk).update(
        created_at=seen.created_at + timedelta(minutes=1)
    )
    client = client_for(org.manager)
    body = {"up_to": seen.created_at.isoformat()}
    response = client.post(f"{NOTIFICATIONS}read-all/", body, content_type="application/json")
    assert ok(response)["marked"] >= 1
    later.refresh_from_db()
    assert unread(org.manager) == 1 and later.read_at is None
    refused = client.post(
        f"{NOTIFICATIONS}read-all/", {"up_to": "soon"}, content_type="application/json"
    )
    assert refused.status_code == 400 and list(refused.json()["fields"]) == ["up_to"]
