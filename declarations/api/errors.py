"""One error shape for every error of the API (STYLE.md rule 20).

``{"code": "...", "message": "...", "fields": {"name": ["..."]}}``: ``code`` is stable and meant
for programs, ``message`` is for people, in the caller's language (``Accept-Language``), and
``fields`` holds per-field messages (nested for lists, e.g. the measures of a decision).

A server error has the shape too (``server_error``, 500), and says nothing of what failed: the
traceback goes to the log, as Django's own 500 handling would send it, with ``DEBUG`` on as well
(an API client reads JSON whatever the server's mode; the developer reads the console).

DRF's own refusals (429, 405, 406, 415) carry our message, not DRF's: its catalogues are
incomplete, and a message must be wholly in the caller's language. What Django answers outside
the views (no URL matched, a crash in a middleware) is put in the shape by ``status_response``,
through ``api/middleware.py`` and ``coi/urls.py``'s handlers.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    BadRequest,
    ObjectDoesNotExist,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import got_request_exception
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils.log import log_response
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from declarations.api.negotiation import answers
from declarations.services.attachments import FileTooLarge, UnsupportedFileType

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    # never raised bare today; a bare one would still answer in the caller's language
    default_detail = gettext_lazy("Not possible in the case's current state.")


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"
    default_detail = gettext_lazy("The case has changed since you read it; read it again.")


class PreconditionRequired(exceptions.APIException):
    """A write that changes a case names no version (RFC 6585): it could overwrite what someone
    else did after the caller last read the case."""

    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_code = "precondition_required"
    default_detail = gettext_lazy("This change needs If-Match: send the ETag from your last read.")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = gettext_lazy("The upload is too large.")


class SignInPaused(exceptions.Throttled):
    """django-axes has locked this user name at this address: a 429 like every throttle (code
    ``throttled``), waiting out the whole pause, since a refused attempt starts it again
    (``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT``, axes' default). The message is the
    sign-in page's own."""

    def __init__(self, *, seconds: int) -> None:
        minutes = max(1, round(seconds / 60))
        super().__init__(
            detail=ngettext(
                "Too many wrong passwords for this user name from this address. Try again in "
                "%(minutes)s minute, or ask the administrator to unlock the account.",
                "Too many wrong passwords for this user name from this address. Try again in "
                "%(minutes)s minutes, or ask the administrator to unlock the account.",
                minutes,
            )
            % {"minutes": minutes}
        )
        self.wait = seconds  # set after DRF's __init__, which would append "in N seconds"


def _django_fields(error: DjangoValidationError) -> dict[str, Any]:
    if not hasattr(error, "error_dict"):
        return {"non_field_errors": list(error.messages)}
    result: dict[str, Any] = {}
    for name, errors in error.error_dict.items():
        key = "non_field_errors" if name == NON_FIELD_ERRORS else name
        result[key] = list(DjangoValidationError(errors).messages)
    return _nest(result)


def _nest(fields: dict[str, Any]) -> dict[str, Any]:
    """``{"measures.1.position": [...]}`` -> ``{"measures": [{}, {"position": [...]}]}``, the
    shape DRF gives nested input, so both sources of errors read the same."""
    result: dict[str, Any] = {}
    for key, messages in fields.items():
        parts = key.split(".")
        if len(parts) != 3 or not parts[1].isdigit():
            result[key] = messages
            continue
        name, index, field = parts[0], int(parts[1]), parts[2]
        items = result.setdefault(name, [])
        if not isinstance(items, list):
            continue
        while len(items) <= index:
            items.append({})
        items[index][field] = messages
    return result


def _drf_fields(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {str(k): _drf_plain(v) for k, v in detail.items()}
    return {"non_field_errors": _drf_plain(detail)}


def _drf_plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _drf_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_drf_plain(v) for v in value]
    return str(value)


def error_response(
    code: str, message: str, http_status: int, fields: dict[str, Any] | None = None
) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return Response(body, status=http_status)


def _suspicious(exc: SuspiciousOperation | BadRequest) -> Response:
    """Django answers these 400 with an HTML page; the API answers in its shape. A body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (read by Django or by our JSON parser) is a 413."""
    if isinstance(exc, SuspiciousOperation):  # logged where Django logs them
        logging.getLogger(f"django.security.{exc.__class__.__name__}").error(str(exc))
    if isinstance(exc, RequestDataTooBig):
        return error_response("payload_too_large", too_large_message(), 413)
    return error_response("bad_request", _("The request could not be read."), 400)


def too_large_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    return _("The request body is larger than %(size)s.") % {"size": filesizeformat(limit)}


def crashed_message() -> str:
    return _("Something went wrong on our side. The error is logged.")


def unavailable_message() -> str:
    return _("The service is briefly unavailable. Try again in a few seconds.")


def _server_error(exc: Exception, context: dict[str, Any]) -> Response:
    """An unexpected error: the one shape, and nothing of the error in it. Signalled and
    logged (with the traceback) as Django's own 500 handling does, so the test client still
    raises it and the log still has it."""
    drf_request = context.get("request")
    request = getattr(drf_request, "_request", drf_request)
    got_request_exception.send(sender=None, request=request)
    response = error_response("server_error", crashed_message(), 500)
    path = getattr(request, "path", "")
    log_response(
        "%s: %s", "Internal Server Error", path, response=response, request=request, exception=exc
    )
    return response


#: How long a client should wait before trying again when the database is away (issue 17).
RETRY_AFTER_SECONDS = 5


def database_unavailable() -> Response:
    """The database went away (restarted, failed over, out of connections): a 503 a client may
    retry after ``Retry-After`` seconds. The step's transaction was rolled back whole, so trying
    again is safe: nothing is half-written."""
    response = error_response("unavailable", unavailable_message(), 503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map every exception the services and DRF raise onto the one shape and its status code."""
    if isinstance(exc, DatabaseOperationalError | DatabaseInterfaceError):
        logger.warning("database unavailable: %s", exc)
        return database_unavailable()
    if isinstance(exc, SuspiciousOperation | BadRequest):
        return _suspicious(exc)
    if isinstance(exc, FileTooLarge):
        return error_response(
            "payload_too_large", _("The upload is too large."), 413, _django_fields(exc)
        )
    if isinstance(exc, UnsupportedFileType):
        return error_response(
            "unsupported_media_type",
            _("This type of file is not accepted."),
            415,
            _django_fields(exc),
        )
    if isinstance(exc, DjangoValidationError):
        return error_response("invalid", _("Some fields are not valid."), 400, _django_fields(exc))
    if isinstance(exc, ConcurrentTransition):
        return error_response("conflict", str(exc) or _("The case changed meanwhile."), 409)
    if isinstance(exc, TransitionNotAllowed):
        return error_response("conflict", str(exc) or _("Not possible in this state."), 409)
    if isinstance(exc, DjangoPermissionDenied):
        return error_response(
            "permission_denied", str(exc) or _("You may not do this on this case."), 403
        )
    if isinstance(exc, Http404 | ObjectDoesNotExist | exceptions.NotFound):
        return error_response("not_found", _("Not found."), 404)

    response = drf_exception_handler(exc, context)
    if response is None:
        # a real server error: the envelope, DEBUG or not (the traceback is in the log)
        return _server_error(exc, context)
    assert isinstance(exc, exceptions.APIException)  # noqa: S101 - DRF answered only for these
    if isinstance(exc, exceptions.ValidationError):
        body: dict[str, Any] = {
            "code": "invalid",
            "message": _("Some fields are not valid."),
            "fields": _drf_fields(exc.detail),
        }
    else:
        detail = exc.detail
        code = exc.get_codes() if not isinstance(detail, dict | list) else exc.default_code
        body = {
            "code": code if isinstance(code, str) else exc.default_code,
            "message": str(detail) if not isinstance(detail, dict | list) else str(exc),
        }
        own = _own_message(exc, context)
        if own is not None:
            body["message"] = own
        wait = getattr(exc, "wait", None)  # DRF sets it; its stubs do not say so
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            body["retry_after"] = seconds = _seconds(wait)
            response["Retry-After"] = str(seconds)
    response.data = body
    return response


def _seconds(wait: float) -> int:
    """Whole seconds to wait, rounded up (DRF's header rounds down: a client that waited that
    long would be refused once more)."""
    return max(1, math.ceil(wait))


def _own_message(exc: exceptions.APIException, context: dict[str, Any]) -> str | None:
    """Our message for DRF's own refusals, so that it is wholly in the caller's language: DRF's
    catalogues are incomplete (its Russian 429 read «Запрос был проигнорирован. Expected
    available in 47 seconds.») and say less than we can. ``None`` keeps the exception's text."""
    view = context.get("view")
    if isinstance(exc, SignInPaused):
        return None  # the sign-in page's own message, already ours
    wait = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        seconds = _seconds(wait)
        return ngettext(
            "Too many requests. Try again in %(seconds)s second.",
            "Too many requests. Try again in %(seconds)s seconds.",
            seconds,
        ) % {"seconds": seconds}
    if isinstance(exc, exceptions.Throttled):
        return _("Too many requests. Try again later.")
    if isinstance(exc, exceptions.MethodNotAllowed):
        request = context.get("request")
        allowed = ", ".join(getattr(view, "allowed_methods", []) or [])
        return _("%(method)s is not allowed here. Allowed: %(allowed)s.") % {
            "method": getattr(request, "method", ""),
            "allowed": allowed,
        }
    if isinstance(exc, exceptions.NotAcceptable):
        method = getattr(context.get("request"), "method", None) or "GET"
        return _("This operation answers only in %(types)s; ask for it in Accept.") % {
            "types": ", ".join(answers(view, method))
        }
    if isinstance(exc, exceptions.UnsupportedMediaType):
        types = [parser.media_type for parser in view.get_parsers()] if view is not None else []
        return _("The request body must be sent as %(types)s.") % {"types": ", ".join(types)}
    return None


# ---- errors Django answers outside the API's views ---------------------------------------------


def status_response(request: HttpRequest, http_status: int, *, allow: str = "") -> JsonResponse:
    """The envelope for a status Django chose before or around a view: no URL matched (404), a
    body Django refused to read (400, 413), a crash outside a view (500), in the caller's
    language. ``api/middleware.py`` puts it in place of any page Django would have shown.

    A 400 for a request that declared a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is Django
    refusing to read it (``RequestDataTooBig``, when something read the body before a view):
    a 413, as the views answer it."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if http_status == 400 and limit is not None and declared.isdigit() and int(declared) > limit:
        http_status = 413
    body: dict[str, str]
    if http_status == 404:
        body = {"code": "not_found", "message": _("Not found.")}
    elif http_status == 405:
        body = {
            "code": "method_not_allowed",
            "message": _("%(method)s is not allowed here. Allowed: %(allowed)s.")
            % {"method": request.method, "allowed": allow},
        }
    elif http_status == 413:
        body = {"code": "payload_too_large", "message": too_large_message()}
    elif http_status == 503:
        body = {"code": "unavailable", "message": unavailable_message()}
    elif http_status >= 500:
        body = {"code": "server_error", "message": crashed_message()}
    elif http_status == 403:
        body = {"code": "permission_denied", "message": _("You may not do this.")}
    elif http_status == 429:
        body = {"code": "throttled", "message": _("Too many requests. Try again later.")}
    else:
        body = {"code": "bad_request", "message": _("The request could not be read.")}
    return JsonResponse(body, status=http_status, json_dumps_params={"ensure_ascii": False})
