"""Signing in and out, and the reader's language (remembered per user, on every device)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from rest_framework.response import Response

from declarations.client import LoginAddressRateThrottle
from declarations.services.preferences import user_language, user_set_language
from declarations.web.common import too_many_requests
from declarations.web.forms import LanguageForm, LoginForm
from declarations.web.middleware import SESSION_LANGUAGE


class LoginView(auth_views.LoginView):
    """Django's login (CSRF, session rotation; django-axes counts the failures) that restores
    the language the user chose last time."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # a ceiling against floods from one address, one budget with the token endpoint
        throttle = LoginAddressRateThrottle()
        if not throttle.allow_page(request):
            return too_many_requests(request, throttle)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        language = user_language(user=form.get_user())
        if language:
            self.request.session[SESSION_LANGUAGE] = language
        return response


def locked_out(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """django-axes' answer to a locked-out pair of user name and address (429), in the reader's
    language, saying how long the pause lasts.

    The token endpoint shares the lock and has already answered in the API's shape (a JSON 429,
    ``SignInPaused``): that answer is kept, so a program never gets this page."""
    if isinstance(original_response, Response):
        return original_response
    minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
    response = render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
    # a refused attempt starts the pause again (axes' default), so the whole of it is the wait
    response["Retry-After"] = str(minutes * 60)
    return response


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the language; a signed-in user's choice is saved for their next sessions."""
    form = LanguageForm(request.POST)
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = HttpResponseRedirect(target)
    if form.is_valid():
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            user_set_language(user=request.user, language=language)
        request.session[SESSION_LANGUAGE] = language
        translation.activate(language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
        )
    return response
