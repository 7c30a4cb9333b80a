"""Dates within sane bounds everywhere (issue 12, items 2 and 8; ``declarations/dates.py``).

Every date a person can type, on the API and on the pages, is tried over generated days and the
days a hostile run picks (0001-01-01, 9999-12-31, each side of the floor and the ceiling, today,
tomorrow): never a 5xx, and a day out of the field's bounds is a 400 that names the field and
says why. The services are the authority: an order dated before its decision is refused with the
declaration and the measure unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, example, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from declarations.calendar import end_of_day, start_of_day, working_calendar
from declarations.choices import AuditAction, MeasureKind, MeasureState
from declarations.choices import DeclarationState as S
from declarations.dates import (
    DATE_CEILING,
    DATE_FLOOR,
    measure_bounds,
    order_bounds,
    past_bounds,
    typed_bounds,
    years_after,
)
from declarations.models import AuditEvent, Declaration, ExportJob, Measure
from declarations.records.exports import ExportFilters, export_create
from declarations.services.decisions import MeasureSpec, declaration_decide
from declarations.services.declarations import declaration_update_draft
from declarations.services.measures import measure_implement
from tests.api import BASE, act, client_for, declaration_url, measure_url
from tests.builders import Org, declaration_in, new_draft, opened_declaration, pending_measure
from tests.web import client_as, text

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
TODAY = timezone.localdate()  # for the explicit examples; every check asks for today afresh
EDGES = (
    date.min,
    date.max,
    DATE_FLOOR,
    DATE_FLOOR - DAY,
    DATE_CEILING,
    DATE_CEILING + DAY,
    TODAY,
    TODAY + DAY,
)
# any day at all, and days around today, where the bounds of notices, measures and orders lie
DAYS = st.one_of(
    st.dates(), st.integers(-800, 800).map(lambda n: timezone.localdate() + timedelta(days=n))
)
DECIDED_DAYS_AGO = 10  # orders: the measure was decided this many days before today


def over_days(*extra: date) -> Callable[[Any], Any]:
    """A test over generated days, always including ``EDGES`` and ``extra``."""

    def wrap(test: Any) -> Any:
        test = given(day=DAYS)(test)
        for day in (*EDGES, *extra):
            test = example(day=day)(test)
        return examples(
            max_examples=25,
            deadline=None,
            # the persona fixture is built once per test; each example undoes its own writes
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )(test)

    return wrap


@contextmanager
def undone() -> Iterator[None]:
    """Whatever the example wrote is rolled back, so the next one starts from the same
    declaration."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _no_write_throttle(settings: Any) -> None:
    """Generated examples write more than a person would in a minute."""
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "write": "100000/min"},
    }


def today() -> date:
    return timezone.localdate()


def refused_fields(response: Any) -> dict[str, Any]:
    """The API's 400: the error envelope with its per-field messages."""
    assert response.status_code == 400, (response.status_code, response.content[:500])
    body = response.json()
    assert body["code"] == "invalid"
    return body["fields"]


def not_5xx(response: Any) -> Any:
    assert response.status_code < 500, response.content[:500]
    return response


def notice(**kw: Any) -> dict[str, Any]:
    values = {
        "conflict_type": "actual",
        "category": "kinship",
        "matter": "Tender 42",
        "personal_interest": "My brother bids.",
        "aware_since": str(today() - DAY),
        "addressee": "manager",
    }
    values.update(kw)
    return values


def other_source(org: Org, **kw: Any) -> dict[str, Any]:
    return notice(
        origin="other_source",
        declarant=str(org.servants["servant"].code),
        source_description="A letter",
        **kw,
    )


# ---- the bounds themselves ----------------------------------------------------------------


def test_the_bounds_keep_the_calendar_maths_in_range() -> None:
    """The first instant of the floor and the last of the ceiling (Almaty) convert to UTC, and
    deadlines counted from the ceiling stay within the calendar."""
    assert start_of_day(DATE_FLOOR).astimezone(UTC).year == 1999
    assert end_of_day(DATE_CEILING).astimezone(UTC).year == 2099
    deadline = working_calendar().add_working_days(end_of_day(DATE_CEILING), 30)
    assert deadline.year == 2100
    assert date(2000, 1, 1) == DATE_FLOOR and date(2099, 12, 31) == DATE_CEILING


def test_two_years_after_a_leap_day_is_the_28th_of_february() -> None:
    assert years_after(date(2028, 2, 29), 2) == date(2030, 2, 28)
    assert years_after(date(2026, 11, 24), 2) == date(2028, 11, 24)
    bounds = measure_bounds(decided_on=date(2026, 11, 24))
    assert (bounds.earliest, bounds.latest) == (date(2026, 11, 24), date(2028, 11, 24))


def test_each_side_of_each_bound_has_its_message() -> None:
    day = date(2026, 11, 24)
    assert typed_bounds().error(DATE_FLOOR - DAY) == (
        "The earliest date accepted is 2000-01-01; check the year."
    )
    assert typed_bounds().error(DATE_CEILING + DAY) == (
        "The latest date accepted is 2099-12-31; check the year."
    )
    assert typed_bounds().error(DATE_FLOOR) is None and typed_bounds().error(DATE_CEILING) is None
    assert past_bounds(today=day).error(day + DAY) == "This date cannot be in the future."
    assert past_bounds(today=day).error(day) is None
    assert order_bounds(decided_on=day, today=day).error(day - DAY) == (
        "The order cannot be dated before the decision (2026-11-24)."
    )
    assert measure_bounds(decided_on=day).error(day - DAY) == (
        "This date cannot be before the decision (2026-11-24)."
    )
    assert measure_bounds(decided_on=day).error(date(2028, 11, 25)) == (
        "This date is more than two years after the decision; the latest is 2028-11-24."
    )


# ---- list filters: API and pages ------------------------------------------------------------


@over_days()
def test_list_filters_over_dates(org: Org, day: date) -> None:
    """``submitted_from``/``submitted_to`` on the API list, the search and the overview."""
    error = typed_bounds().error(day)
    api = client_for(org.auditor)
    for name in ("submitted_from", "submitted_to"):
        response = not_5xx(api.get(f"{BASE}/declarations/", {name: day.isoformat()}))
        if error is None:
            assert response.status_code == 200
        else:
            assert refused_fields(response) == {name: [error]}
    for user, page in ((org.auditor, "declarations:search"), (org.head, "declarations:overview")):
        for name in ("submitted_from", "submitted_to"):
            response = not_5xx(client_as(user).get(reverse(page), {name: day.isoformat()}))
            # a filter out of bounds is a 400 with the reason at its field, as in the API
            assert response.status_code == (200 if error is None else 400)
            errors = response.context["form"].errors
            assert errors == ({} if error is None else {name: [error]})
            if error is not None:
                assert f'id="id_{name}_error"' in response.content.decode()


def test_a_filter_from_year_one_is_a_400_not_a_500(org: Org) -> None:
    """The hostile run's request (issue 12 item 2)."""
    response = client_for(org.auditor).get(f"{BASE}/declarations/?submitted_from=0001-01-01")
    assert refused_fields(response) == {
        "submitted_from": ["The earliest date accepted is 2000-01-01; check the year."]
    }


# ---- a notice's aware_since -----------------------------------------------------------------


@over_days()
def test_aware_since_over_dates_on_the_api(org: Org, day: date) -> None:
    """Creating and editing a draft, submitting one, and opening a declaration from other
    sources."""
    error = past_bounds(today=today()).error(day)
    draft = new_draft(org)
    servant, ethics = client_for(org.servant), client_for(org.ethics)
    with undone():
        calls = {
            "create": lambda: servant.post(
                f"{BASE}/declarations/", notice(aware_since=day.isoformat()), format="json"
            ),
            "edit": lambda: act(
                servant.patch,
                declaration_url(draft),
                {"aware_since": day.isoformat()},
                format="json",
            ),
            "open": lambda: ethics.post(
                f"{BASE}/declarations/",
                other_source(org, aware_since=day.isoformat()),
                format="json",
            ),
        }
        for what, call in calls.items():
            response = not_5xx(call())
            if error is None:
                assert response.status_code in (200, 201), (what, response.content[:300])
            else:
                assert refused_fields(response) == {"aware_since": [error]}, what
    with undone():
        # a draft saved before the bounds existed is refused when it is filed
        Declaration.objects.filter(pk=draft.pk).update(aware_since=day)
        response = not_5xx(act(servant.post, declaration_url(draft, "submit"), format="json"))
        if error is None:
            assert response.status_code == 200
        else:
            assert refused_fields(response) == {"aware_since": [error]}


@over_days()
def test_aware_since_over_dates_on_the_pages(org: Org, day: date) -> None:
    """The notice form (new and edit) and the form opening a declaration from other sources."""
    error = past_bounds(today=today()).error(day)
    if day > today():
        error = "This date is in the future."  # the page's own wording, as before
    draft = new_draft(org)
    servant, ethics = client_as(org.servant), client_as(org.ethics)
    with undone():
        posts = (
            (servant, reverse("declarations:declare"), notice(aware_since=day.isoformat())),
            (
                servant,
                reverse("declarations:edit", args=[draft.code]),
                notice(aware_since=day.isoformat()),
            ),
            (
                ethics,
                reverse("declarations:open"),
                {
                    **notice(aware_since=day.isoformat()),
                    "declarant": str(org.servants["servant"].code),
                    "source_description": "A letter",
                },
            ),
        )
        for client, url, data in posts:
            response = not_5xx(client.post(url, data))
            if error is None:
                assert response.status_code == 302, (url, response.content[:300])
            else:
                assert response.status_code == 400, url
                assert response.context["form"].errors == {"aware_since": [error]}, url


def test_aware_since_in_year_one_is_refused_at_create_edit_and_submit(org: Org) -> None:
    year_one = "0001-01-01"
    message = ["The earliest date accepted is 2000-01-01; check the year."]
    servant = client_for(org.servant)
    drafts = Declaration.objects.count()
    created = servant.post(f"{BASE}/declarations/", notice(aware_since=year_one), format="json")
    assert refused_fields(created) == {"aware_since": message}
    assert Declaration.objects.count() == drafts
    draft = new_draft(org)
    kept = draft.aware_since
    edited = act(servant.patch, declaration_url(draft), {"aware_since": year_one}, format="json")
    assert refused_fields(edited) == {"aware_since": message}
    draft.refresh_from_db()
    assert draft.aware_since == kept
    opened = client_for(org.ethics).post(
        f"{BASE}/declarations/", other_source(org, aware_since=year_one), format="json"
    )
    assert refused_fields(opened) == {"aware_since": message}
    # a draft from before the fix: filing it is refused, nothing is registered or recorded
    Declaration.objects.filter(pk=draft.pk).update(aware_since=date(1, 1, 1))
    events = AuditEvent.objects.count()
    submitted = act(servant.post, declaration_url(draft, "submit"), format="json")
    assert refused_fields(submitted) == {"aware_since": message}
    draft.refresh_from_db()
    assert (draft.state, draft.registration_number) == (S.DRAFT, None)
    assert AuditEvent.objects.count() == events
    # the page says why and keeps the draft
    page = client_as(org.servant).post(
        reverse("declarations:submit", args=[draft.code]), {"confirm": "yes"}, follow=True
    )
    assert page.status_code == 200 and message[0] in text(page)
    draft.refresh_from_db()
    assert draft.state == S.DRAFT


def test_the_services_refuse_aware_since_out_of_bounds(org: Org) -> None:
    """The services are the authority: the same bounds without any form or serializer."""
    with pytest.raises(ValidationError) as error:
        new_draft(org, aware_since=date(1, 1, 1))
    assert error.value.message_dict == {
        "aware_since": ["The earliest date accepted is 2000-01-01; check the year."]
    }
    draft = new_draft(org)
    with pytest.raises(ValidationError):
        declaration_update_draft(declaration=draft, actor=org.servant, aware_since=DATE_FLOOR - DAY)
    with pytest.raises(ValidationError):
        opened_declaration(org, aware_since=date(1, 1, 1))
    assert opened_declaration(org, aware_since=DATE_FLOOR).aware_since == DATE_FLOOR


# ---- a decision's measures ------------------------------------------------------------------


def _measures(org: Org, field: str, day: date) -> list[dict[str, Any]]:
    if field == "effective_date":
        return [{"kind": "change_duties", "description": "No files", field: day.isoformat()}]
    return [{"kind": "transfer", "position": str(org.vacancies[0].code), field: day.isoformat()}]


@over_days(TODAY + timedelta(days=731), years_after(TODAY, 2))
def test_measure_dates_over_dates_on_the_api(org: Org, day: date) -> None:
    error = measure_bounds(decided_on=today()).error(day)
    declaration = declaration_in(org, S.IN_REVIEW)
    manager = client_for(org.manager)
    for field in ("effective_date", "proposed_date"):
        with undone():
            response = not_5xx(
                act(
                    manager.post,
                    declaration_url(declaration, "decide"),
                    {"reason": "Conflict", "measures": _measures(org, field, day)},
                    format="json",
                )
            )
            if error is None:
                assert response.status_code == 200, response.content[:300]
            else:
                assert refused_fields(response) == {"measures": [{field: [error]}]}
                declaration.refresh_from_db()
                assert declaration.state == S.IN_REVIEW and not declaration.measures.exists()


@over_days(TODAY + timedelta(days=731), years_after(TODAY, 2))
def test_measure_dates_over_dates_on_the_decision_page(org: Org, day: date) -> None:
    error = measure_bounds(decided_on=today()).error(day)
    declaration = declaration_in(org, S.IN_REVIEW)
    manager = client_as(org.manager)
    rows = {
        "effective_date": {"m0-kind": "change_duties", "m0-description": "No files"},
        "proposed_date": {"m0-kind": "transfer", "m0-position": str(org.vacancies[0].code)},
    }
    for field, row in rows.items():
        with undone():
            response = not_5xx(
                manager.post(
                    reverse("declarations:decide", args=[declaration.code]),
                    {"reason": "Conflict", **row, f"m0-{field}": day.isoformat()},
                )
            )
            if error is None:
                assert response.status_code == 302, response.content[:300]
            else:
                assert response.status_code == 400
                assert response.context["rows"][0].errors == {field: [error]}
                assert not declaration.measures.exists()


def test_the_decision_service_bounds_a_date_whatever_the_measure(org: Org) -> None:
    """The API and the pages send the dates of every kind; the service checks them all."""
    declaration = declaration_in(org, S.IN_REVIEW)
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as error:
        declaration_decide(
            declaration=declaration,
            actor=org.manager,
            reason="Conflict",
            measures=[
                MeasureSpec(kind=MeasureKind.OTHER, description="Sell", effective_date=date.min),
                MeasureSpec(
                    kind=MeasureKind.REASSIGN,
                    substitute=org.servants["servant2"],
                    proposed_date=date.max,
                ),
            ],
        )
    decided = f"({today().isoformat()})"
    assert error.value.message_dict == {
        "measures.0.effective_date": [f"This date cannot be before the decision {decided}."],
        "measures.1.proposed_date": [
            "This date is more than two years after the decision; the latest is "
            f"{years_after(today(), 2).isoformat()}."
        ],
    }
    declaration.refresh_from_db()
    assert declaration.state == S.IN_REVIEW and not declaration.measures.exists()
    assert AuditEvent.objects.count() == events


# ---- HR's order -----------------------------------------------------------------------------


def _waiting_order(org: Org) -> Measure:
    """A change of duties decided ``DECIDED_DAYS_AGO`` days ago, waiting for HR's order."""
    with time_machine.travel(timezone.now() - timedelta(days=DECIDED_DAYS_AGO)):
        declaration = declaration_in(org, S.IMPLEMENTING)
    return pending_measure(declaration)


@over_days(TODAY - timedelta(days=DECIDED_DAYS_AGO), TODAY - timedelta(days=DECIDED_DAYS_AGO + 1))
def test_order_date_over_dates_on_the_api_and_the_page(org: Org, day: date) -> None:
    measure = _waiting_order(org)
    decided_on = timezone.localtime(measure.decision.decided_at).date()
    error = order_bounds(decided_on=decided_on, today=today()).error(day)
    order = {"order_number": "12-к", "order_date": day.isoformat()}
    with undone():
        response = not_5xx(
            act(client_for(org.hr).post, measure_url(measure, "implement"), order, format="json")
        )
        if error is None:
            assert response.status_code == 200, response.content[:300]
        else:
            assert refused_fields(response) == {"order_date": [error]}
    with undone():
        response = not_5xx(
            client_as(org.hr).post(reverse("declarations:implement", args=[measure.code]), order)
        )
        if error is None:
            assert response.status_code == 302, response.content[:300]
        else:
            assert response.status_code == 400
            assert response.context["form"].errors == {"order_date": [error]}
    measure.refresh_from_db()
    assert measure.state == MeasureState.PENDING_ORDER  # every example was undone


def test_an_order_dated_before_the_decision_is_refused_and_changes_nothing(org: Org) -> None:
    """Issue 12 item 8: 1900-01-01 resolved the declaration. Now the service refuses it (and the day
    before the decision too) with the declaration and the measure as they were."""
    measure = _waiting_order(org)
    declaration = measure.declaration
    declaration.refresh_from_db()
    before = (
        declaration.state,
        declaration.audit_seq,
        declaration.audit_head,
        declaration.closed_at,
    )
    events = AuditEvent.objects.count()
    decided_on = timezone.localtime(measure.decision.decided_at).date()
    message = f"The order cannot be dated before the decision ({decided_on.isoformat()})."
    for day in (date(1900, 1, 1), decided_on - DAY):
        with pytest.raises(ValidationError) as error:
            measure_implement(measure=measure, actor=org.hr, order_number="1-к", order_date=day)
        assert error.value.message_dict == {"order_date": [message]}
        response = act(
            client_for(org.hr).post,
            measure_url(measure, "implement"),
            {"order_number": "1-к", "order_date": day.isoformat()},
            format="json",
        )
        assert refused_fields(response) == {"order_date": [message]}
    declaration.refresh_from_db()
    measure.refresh_from_db()
    assert (
        declaration.state,
        declaration.audit_seq,
        declaration.audit_head,
        declaration.closed_at,
    ) == before
    assert declaration.state == S.IMPLEMENTING
    assert (measure.state, measure.order_number, measure.order_date) == (
        MeasureState.PENDING_ORDER,
        "",
        None,
    )
    assert AuditEvent.objects.count() == events
    assert not AuditEvent.objects.filter(action=AuditAction.MEASURE_IMPLEMENTED).exists()
    # the day of the decision itself is a good day for the order
    measure_implement(measure=measure, actor=org.hr, order_number="1-к", order_date=decided_on)
    declaration.refresh_from_db()
    assert declaration.state == S.RESOLVED


# ---- export filters -------------------------------------------------------------------------


@over_days()
def test_export_filters_over_dates_on_the_api_and_the_page(org: Org, day: date) -> None:
    error = typed_bounds().error(day)
    api, page = client_for(org.auditor), client_as(org.auditor)
    for name in ("submitted_from", "submitted_to"):
        jobs = ExportJob.objects.count()
        response = not_5xx(
            api.post(f"{BASE}/exports/", {name: day.isoformat(), "language": "en"}, format="json")
        )
        if error is None:
            assert response.status_code == 202, response.content[:300]
        else:
            assert refused_fields(response) == {name: [error]}
            assert ExportJob.objects.count() == jobs
        jobs = ExportJob.objects.count()
        response = not_5xx(
            page.post(reverse("declarations:exports"), {name: day.isoformat(), "language": "en"})
        )
        if error is None:
            assert response.status_code == 302, response.content[:300]
        else:
            assert response.status_code == 400
            assert response.context["form"].errors == {name: [error]}
            assert ExportJob.objects.count() == jobs


def test_an_export_from_year_one_is_refused_at_creation(org: Org) -> None:
    """Issue 12 item 2: the job used to be accepted (202) and fail in the planning task."""
    message = ["The earliest date accepted is 2000-01-01; check the year."]
    response = client_for(org.auditor).post(
        f"{BASE}/exports/", {"submitted_from": "0001-01-01"}, format="json"
    )
    assert refused_fields(response) == {"submitted_from": message}
    page = client_as(org.auditor).post(
        reverse("declarations:exports"), {"submitted_from": "0001-01-01", "language": "en"}
    )
    assert page.status_code == 400
    assert page.context["form"].errors == {"submitted_from": message}
    with pytest.raises(ValidationError) as error:
        export_create(
            actor=org.auditor,
            filters=ExportFilters(bodies=[], submitted_from=date(1, 1, 1)),
            language="en",
        )
    assert error.value.message_dict == {"submitted_from": message}
    assert not ExportJob.objects.exists()


def test_an_export_period_out_of_bounds_is_not_also_called_reversed(org: Org) -> None:
    with pytest.raises(ValidationError) as error:
        export_create(
            actor=org.auditor,
            filters=ExportFilters(bodies=[], submitted_from=date.max, submitted_to=TODAY),
            language="en",
        )
    assert error.value.message_dict == {
        "submitted_from": ["The latest date accepted is 2099-12-31; check the year."]
    }
    with pytest.raises(ValidationError) as error:
        export_create(
            actor=org.auditor,
            filters=ExportFilters(bodies=[], submitted_from=TODAY, submitted_to=TODAY - DAY),
            language="en",
        )
    assert error.value.message_dict == {
        "submitted_to": ["The end of the period is before its start."]
    }


def test_the_date_pickers_offer_only_days_within_the_bounds(org: Org) -> None:
    html = client_as(org.auditor).get(reverse("declarations:exports")).content.decode()
    assert 'min="2000-01-01"' in html and 'max="2099-12-31"' in html
