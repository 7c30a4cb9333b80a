"""Signing in and staying signed in: the login throttle, CSRF on every form, session limits,
the language remembered per user, and no open redirect.
"""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from declarations.choices import DeclarationState as S
from declarations.models import AuditEvent
from tests.builders import Org, declaration_in
from tests.web import client_as, text

LOGIN = "/accounts/login/"


def _login(client: Client, username: str, password: str, **kw: str) -> object:
    return client.post(LOGIN, {"username": username, "password": password}, **kw)


def test_five_wrong_passwords_pause_signing_in_for_that_name_from_that_address(
    org: Org,
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="ru")
    name = org.servant.username
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _login(client, name, "wrong")
        assert response.status_code == 200  # the form again, with the message
    response = _login(client, name, "wrong")
    assert response.status_code == 429
    with translation.override("ru"):
        assert translation.gettext("Signing in is paused") in text(response)
    assert "30" in text(response)  # how long, from the settings
    # now even the right password is refused for that pair
    response = _login(client, name, "pw")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # a colleague behind the same address is not locked out
    assert _login(Client(), org.servant2.username, "pw").status_code == 302
    # and after the pause the right password works again
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        response = _login(Client(), name, "pw")
        assert response.status_code == 302


def test_a_right_password_resets_the_count(org: Org) -> None:
    name = org.servant.username
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(Client(), name, "wrong")
    assert _login(Client(), name, "pw").status_code == 302
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(Client(), name, "wrong").status_code == 200


def test_the_wrong_password_message_is_in_the_readers_language(org: Org) -> None:
    response = _login(Client(HTTP_ACCEPT_LANGUAGE="kk"), org.servant.username, "wrong")
    errors = response.context["form"].non_field_errors()
    with translation.override("kk"):
        expected = translation.gettext(
            "The user name or the password is wrong. Both are case-sensitive. After "
            "%(limit)d wrong attempts, signing in is paused for %(minutes)d minutes."
        ) % {"limit": 5, "minutes": 30}
    assert list(errors) == [expected]
    assert expected.isascii() is False


def test_every_form_needs_its_csrf_token(org: Org) -> None:
    """A step sent from another site (no token) is refused with our page, and changes nothing."""
    declaration = declaration_in(org, S.SUBMITTED)
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="kk")
    client.force_login(org.manager)
    events = AuditEvent.objects.count()
    response = client.post(reverse("declarations:start-review", args=[declaration.code]))
    assert response.status_code == 403
    with translation.override("kk"):
        assert translation.gettext("The form has expired") in text(response)
    declaration.refresh_from_db()
    assert declaration.state == S.SUBMITTED and AuditEvent.objects.count() == events
    # every form on the pages carries the token
    page = client.get(reverse("declarations:declaration", args=[declaration.code])).content.decode()
    forms = page.count("<form")
    assert forms >= 3 and page.count('name="csrfmiddlewaretoken"') == forms
    # with the token from the page the step goes through
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        reverse("declarations:start-review", args=[declaration.code]),
        {"csrfmiddlewaretoken": token, "seen_state": "submitted"},
    )
    assert response.status_code == 302
    # signing out is a POST too (a link from elsewhere cannot sign anyone out)
    assert client.get(reverse("logout")).status_code == 405


def test_a_session_ends_after_an_idle_hour(org: Org) -> None:
    client = client_as(org.servant)
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=50)):
        assert client.get(reverse("declarations:mine")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=100)):  # 50 minutes after the last page
        assert client.get(reverse("declarations:mine")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=170)):  # 70 minutes idle
        response = client.get(reverse("declarations:mine"))
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_a_session_ends_ten_hours_after_signing_in_however_busy(org: Org) -> None:
    client = client_as(org.servant)
    start = timezone.now()
    assert client.get(reverse("declarations:mine")).status_code == 200
    for minutes in range(30, 10 * 60, 30):
        with time_machine.travel(start + timedelta(minutes=minutes)):
            assert client.get(reverse("declarations:mine")).status_code == 200, minutes
    with time_machine.travel(start + timedelta(hours=10, minutes=5)):
        response = client.get(reverse("declarations:mine"))
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={reverse('declarations:mine')}"
        assert "_auth_user_id" not in client.session


def test_the_language_is_remembered_for_the_user_on_every_device(org: Org) -> None:
    laptop = client_as(org.servant, "en")
    response = laptop.post(
        reverse("declarations:language"), {"language": "kk", "next": "/declarations/mine/"}
    )
    assert response.status_code == 302 and response.url == "/declarations/mine/"
    assert '<html lang="kk">' in laptop.get("/declarations/mine/").content.decode()
    # a phone whose browser asks for Russian: after signing in, Kazakh
    phone = Client(HTTP_ACCEPT_LANGUAGE="ru")
    assert '<html lang="ru">' in phone.get(LOGIN).content.decode()
    assert _login(phone, org.servant.username, "pw").status_code == 302
    assert '<html lang="kk">' in phone.get("/declarations/mine/").content.decode()


def test_the_language_switch_never_sends_the_reader_off_site(org: Org) -> None:
    client = client_as(org.servant)
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post(reverse("declarations:language"), {"language": "ru", "next": target})
        assert response.url == "/", target
    response = client.post(reverse("declarations:language"), {"language": "xx", "next": "/"})
    assert '<html lang="ru">' in client.get("/declarations/mine/").content.decode()  # unchanged


def test_login_sends_back_only_to_our_own_pages(org: Org) -> None:
    response = Client().post(
        f"{LOGIN}?next=https://evil.example/",
        {"username": org.servant.username, "password": "pw"},
    )
    assert response.status_code == 302 and not response.url.startswith("https://evil")
