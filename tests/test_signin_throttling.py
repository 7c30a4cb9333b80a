"""Signing in from a ministry's network (issue 17): a whole office behind one NAT address signs
in, a password guesser does not.

The policy, one for both doors (the sign-in page and ``POST /api/v1/auth/token/``):

- **per user name and address**, django-axes: ``COI_LOGIN_FAILURE_LIMIT`` (5) wrong passwords
  for one user name from one address pause that pair for ``COI_LOGIN_COOLOFF_MINUTES`` (30);
  the API answers 429 with ``Retry-After`` in the JSON error shape, the page its own 429 page.
  A right password forgets the pair's failures.
- **never per user name alone**: a guesser who moves to another address starts a new pair
  there (and is paused there after as many tries), but cannot lock the servant out of their own
  office. That is the price of not letting anyone lock out any servant by name.
- **per address only a ceiling against floods** (``COI_THROTTLE_LOGIN_ADDRESS``, 600 attempts a
  minute, page and API together), far above an office signing in at nine.
- The address is ``declarations.client.client_address`` for all of it: ``X-Forwarded-For`` counts
  only when the peer is one of ``COI_TRUSTED_PROXIES``.
"""

from __future__ import annotations

import runpy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt  # type: ignore[import-untyped]
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from django.utils import timezone, translation

from declarations.models import ApiToken
from tests.api import BASE, client_for
from tests.builders import Org
from tests.web import text

pytestmark = pytest.mark.django_db

TOKEN = f"{BASE}/auth/token/"
LOGIN = "/accounts/login/"
OFFICE = "203.0.113.10"  # the ministry's one NAT address, as our server sees it (no proxy)
HOME = "198.51.100.20"  # the servant at home, or another office
PROXY = "10.0.0.1"  # our reverse proxy, when a test trusts it
OFFICE_SIZE = 300


@pytest.fixture
def office(db: None) -> list[str]:
    """The user names of 300 servants of one office, all behind OFFICE; each one's password is
    ``pw``. Plain accounts, bulk-created: signing in needs nothing else."""
    password = make_password("pw")  # MD5 in the tests; one hash serves all
    names = [f"office-{i:03}" for i in range(OFFICE_SIZE)]
    get_user_model().objects.bulk_create(
        get_user_model()(username=name, password=password) for name in names
    )
    return names


def api_sign_in(username: str, password: str, address: str = OFFICE, **headers: str) -> Any:
    return client_for(None).post(
        TOKEN,
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=address,
        **headers,
    )


def page_sign_in(username: str, password: str, address: str = OFFICE, **headers: str) -> Any:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR=address, **headers)
    return client.post(LOGIN, {"username": username, "password": password})


def api_codes(
    username: str, password: str, times: int, address: str = OFFICE, **h: str
) -> list[int]:
    return [api_sign_in(username, password, address, **h).status_code for _ in range(times)]


def paused(response: Any) -> dict[str, Any]:
    """The API's answer to a paused pair: 429, ``Retry-After`` the whole pause, our JSON shape
    with the page's own message."""
    assert response.status_code == 429, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json"
    pause = settings.AXES_COOLOFF_TIME * 3600
    assert int(response["Retry-After"]) == pause
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "retry_after"}, body
    assert body["code"] == "throttled" and body["retry_after"] >= pause
    assert "Too many wrong passwords for this user name from this address" in body["message"]
    assert "30 minutes" in body["message"]
    return body


def page_paused(response: Any) -> None:
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert "Signing in is paused" in text(response)
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME * 3600


def ceiling(rate: str) -> dict[str, Any]:
    """The API settings with another ceiling per address."""
    rest: dict[str, Any] = settings.REST_FRAMEWORK
    return {
        **rest,
        "DEFAULT_THROTTLE_RATES": {**rest["DEFAULT_THROTTLE_RATES"], "login-address": rate},
    }


def attempts(username: str) -> dict[str, int]:
    """The failures axes holds for a user name, per address."""
    rows = AccessAttempt.objects.filter(username=username)
    return {row.ip_address: row.failures_since_start for row in rows}


# ---- (a) an office behind one address ------------------------------------------------------------


def arrival(i: int) -> timedelta:
    """The rush at nine: two thirds of the office in the first minute, the rest in the next four."""
    if i < 200:
        return timedelta(seconds=i * 0.3)
    return timedelta(seconds=60 + (i - 200) * 2.4)


def test_three_hundred_servants_behind_one_address_all_sign_in_within_five_minutes(
    office: list[str],
) -> None:
    """Every tenth one mistypes first: 330 attempts from one address in five minutes, 220 of them
    in the first minute (the old limit, 10 a minute per address, refused the eleventh)."""
    nine = timezone.now().replace(hour=4, minute=0, second=0, microsecond=0)  # 09:00 Almaty
    codes = []
    with time_machine.travel(nine, tick=False) as clock:
        for i, name in enumerate(office):
            clock.move_to(nine + arrival(i))
            if i % 10 == 0:
                assert api_sign_in(name, "typo").status_code == 400
            response = api_sign_in(name, "pw")
            codes.append(response.status_code)
            assert response.status_code == 200, (name, response.content[:300])
            assert response.json()["token"]
    assert arrival(OFFICE_SIZE - 1) < timedelta(minutes=5)
    assert codes == [200] * OFFICE_SIZE
    assert ApiToken.objects.filter(user__username__in=office).count() == OFFICE_SIZE
    # a right password forgot each typo: no pair is left one failure closer to a pause
    assert not AccessAttempt.objects.exists()


# ---- (b) a guesser in the office -----------------------------------------------------------------


def test_a_guesser_on_one_name_is_paused_while_the_office_signs_in(
    org: Org, office: list[str]
) -> None:
    limit, victim = settings.AXES_FAILURE_LIMIT, org.servant.username
    assert api_codes(victim, "guess", limit - 1) == [400] * (limit - 1)
    paused(api_sign_in(victim, "guess"))  # the limit-th wrong password pauses the pair
    # now even the right password is refused for that name from that address
    paused(api_sign_in(victim, "pw"))
    assert attempts(victim) == {OFFICE: limit + 1}
    # colleagues behind the same address are not touched
    assert api_sign_in(org.servant2.username, "pw").status_code == 200
    assert [api_sign_in(name, "pw").status_code for name in office[:20]] == [200] * 20
    assert page_sign_in(office[20], "pw").status_code == 302
    # after the pause the right password works again, and forgets the failures
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert api_sign_in(victim, "pw").status_code == 200
    assert attempts(victim) == {}


def test_a_refused_attempt_starts_the_pause_again(org: Org) -> None:
    """Axes' default (``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT``): a guesser who keeps
    trying stays paused; hence ``Retry-After`` is the whole pause."""
    limit, victim = settings.AXES_FAILURE_LIMIT, org.servant.username
    api_codes(victim, "guess", limit)
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        paused(api_sign_in(victim, "guess"))
    with time_machine.travel(timezone.now() + timedelta(minutes=45)):
        paused(api_sign_in(victim, "pw"))  # 25 minutes after the last refusal
    with time_machine.travel(timezone.now() + timedelta(minutes=76)):
        assert api_sign_in(victim, "pw").status_code == 200


def test_a_right_password_forgets_the_failures(org: Org) -> None:
    limit, name = settings.AXES_FAILURE_LIMIT, org.servant.username
    assert api_codes(name, "typo", limit - 1) == [400] * (limit - 1)
    assert api_sign_in(name, "pw").status_code == 200
    assert api_codes(name, "typo", limit - 1) == [400] * (limit - 1)


# ---- (c) a guesser who moves -----------------------------------------------------------------


def test_a_guesser_who_moves_is_paused_at_every_address_and_never_locks_the_servant_out(
    org: Org,
) -> None:
    """The chosen policy: per user name *and* address. Each new address opens a new pair with
    the same few tries; the servant's own office is never paused by someone else's guesses."""
    limit, victim = settings.AXES_FAILURE_LIMIT, org.servant.username
    elsewhere = ["192.0.2.1", "192.0.2.2", "2001:db8::7"]
    for address in elsewhere:
        codes = api_codes(victim, "guess", limit, address)
        assert codes == [400] * (limit - 1) + [429], address
    assert attempts(victim) == dict.fromkeys(elsewhere, limit)
    # each address it left stays paused for that name, through either door
    for address in elsewhere:
        paused(api_sign_in(victim, "pw", address))
        page_paused(page_sign_in(victim, "pw", address))
    # while the servant signs in from the office, and from home
    assert api_sign_in(victim, "pw", OFFICE).status_code == 200
    assert page_sign_in(victim, "pw", HOME).status_code == 302


@override_settings(REST_FRAMEWORK=ceiling("20/min"))
def test_a_flood_from_one_address_meets_the_ceiling_page_and_api_together(org: Org) -> None:
    """Spraying many names from one address (no pair ever paused) meets the ceiling per address;
    the page and the API count against one budget, and other addresses are not touched."""
    codes = [api_sign_in(f"name-{i}", "guess").status_code for i in range(10)]
    codes += [page_sign_in(f"name-{i}", "guess").status_code for i in range(10, 20)]
    assert codes == [400] * 10 + [200] * 10  # the page shows its form again
    refused = api_sign_in(org.servant.username, "pw")
    assert refused.status_code == 429 and refused["Content-Type"] == "application/json"
    assert refused.json()["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    page = page_sign_in(org.servant.username, "pw")
    assert page.status_code == 429 and 1 <= int(page["Retry-After"]) <= 60
    assert "Too many requests" in text(page)
    assert api_sign_in(org.servant.username, "pw", HOME).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert api_sign_in(org.servant.username, "pw").status_code == 200


def test_the_ceiling_by_default_leaves_room_for_the_whole_office_in_one_minute() -> None:
    rest: dict[str, Any] = settings.REST_FRAMEWORK
    # every servant of the office, and a typo for one in ten, with room to spare
    assert rest["DEFAULT_THROTTLE_RATES"]["login-address"] == "600/min"


def test_the_ceiling_is_set_from_the_environment_and_the_old_limit_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``COI_THROTTLE_LOGIN`` (10 a minute per address) locked offices out; a deployment that
    still sets it is told what replaced it rather than silently ignored."""
    settings_py = Path(__file__).resolve().parent.parent / "coi" / "settings.py"
    monkeypatch.setenv("COI_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("COI_THROTTLE_LOGIN_ADDRESS", "1000/min")
    values = runpy.run_path(str(settings_py))
    assert values["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"]["login-address"] == "1000/min"
    monkeypatch.setenv("COI_THROTTLE_LOGIN", "10/min")
    with pytest.raises(ImproperlyConfigured, match="COI_THROTTLE_LOGIN_ADDRESS"):
        runpy.run_path(str(settings_py))


# ---- (d) the address: our proxy's word only ------------------------------------------------------


def test_forwarded_headers_from_anyone_but_our_proxy_are_ignored(org: Org) -> None:
    """A guesser who writes a new X-Forwarded-For (or X-Real-IP) each time is still one address:
    the TCP peer's."""
    limit, victim = settings.AXES_FAILURE_LIMIT, org.servant.username
    codes = [
        api_sign_in(
            victim,
            "guess",
            OFFICE,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i}",
            HTTP_X_REAL_IP="192.0.2.99",
        ).status_code
        for i in range(limit)
    ]
    assert codes == [400] * (limit - 1) + [429]
    paused(api_sign_in(victim, "pw", OFFICE, HTTP_X_FORWARDED_FOR=HOME))
    page_paused(page_sign_in(victim, "pw", OFFICE, HTTP_X_FORWARDED_FOR=HOME))
    assert set(attempts(victim)) == {OFFICE}


@override_settings(COI_TRUSTED_PROXIES=[PROXY])
def test_behind_our_proxy_the_forwarded_address_is_the_one_paused(org: Org) -> None:
    limit, victim = settings.AXES_FAILURE_LIMIT, org.servant.username
    via_proxy = {"HTTP_X_FORWARDED_FOR": OFFICE}
    assert api_codes(victim, "guess", limit, PROXY, **via_proxy) == [400] * (limit - 1) + [429]
    assert attempts(victim) == {OFFICE: limit}  # the office's address, not the proxy's
    paused(api_sign_in(victim, "pw", PROXY, **via_proxy))
    page_paused(page_sign_in(victim, "pw", PROXY, **via_proxy))
    # the servant at home, through the same proxy, is another pair
    assert api_sign_in(victim, "pw", PROXY, HTTP_X_FORWARDED_FOR=HOME).status_code == 200
    # a request that bypassed the proxy: its header is the client's own word, not believed
    codes = api_codes(victim, "guess", limit, "192.0.2.50", HTTP_X_FORWARDED_FOR=HOME)
    assert codes == [400] * (limit - 1) + [429]
    assert set(attempts(victim)) == {OFFICE, "192.0.2.50"}


# ---- (e) one lock for both doors -------------------------------------------------------------


def test_wrong_passwords_at_either_door_count_towards_one_pause(org: Org) -> None:
    limit, victim = settings.AXES_FAILURE_LIMIT, org.servant.username
    for i in range(limit - 1):  # taking turns between the doors
        if i % 2:
            assert page_sign_in(victim, "guess").status_code == 200  # the form again
        else:
            assert api_sign_in(victim, "guess").status_code == 400
    paused(api_sign_in(victim, "guess"))  # the API gives the limit-th, in its own shape
    page_paused(page_sign_in(victim, "pw"))  # the page is paused too, with its own page
    paused(api_sign_in(victim, "pw"))


def test_a_pause_earned_on_the_page_holds_at_the_api(org: Org) -> None:
    limit, victim = settings.AXES_FAILURE_LIMIT, org.servant.username
    codes = [page_sign_in(victim, "guess").status_code for _ in range(limit)]
    assert codes == [200] * (limit - 1) + [429]
    paused(api_sign_in(victim, "pw"))  # JSON, never the page's HTML
    assert not ApiToken.objects.filter(user=org.servant).exists()


def test_a_right_password_at_the_api_forgets_the_pages_failures(org: Org) -> None:
    limit, victim = settings.AXES_FAILURE_LIMIT, org.servant.username
    assert [page_sign_in(victim, "typo").status_code for _ in range(limit - 1)] == [200] * (
        limit - 1
    )
    assert api_sign_in(victim, "pw").status_code == 200
    assert [page_sign_in(victim, "typo").status_code for _ in range(limit - 1)] == [200] * (
        limit - 1
    )
    assert page_sign_in(victim, "pw").status_code == 302


def test_the_api_says_so_in_the_readers_language(org: Org) -> None:
    limit, victim = settings.AXES_FAILURE_LIMIT, org.servant.username
    api_codes(victim, "guess", limit)
    with translation.override("kk"):
        expected = translation.ngettext(
            "Too many wrong passwords for this user name from this address. Try again in "
            "%(minutes)s minute, or ask the administrator to unlock the account.",
            "Too many wrong passwords for this user name from this address. Try again in "
            "%(minutes)s minutes, or ask the administrator to unlock the account.",
            30,
        ) % {"minutes": 30}
    assert not expected.isascii()  # the catalogue has it (the page's own sentence)
    response = api_sign_in(victim, "pw", HTTP_ACCEPT_LANGUAGE="kk")
    assert response.status_code == 429 and response.json()["message"] == expected
