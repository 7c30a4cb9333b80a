"""One error shape for every error of the API (STYLE.md rule 20).

``{"code": "...", "message": "...", "fields": {"name": ["..."]}}``: ``code`` is stable and meant
for programs, ``message`` is for people, in the caller's language (``Accept-Language``), and
``fields`` holds per-field messages (nested for lists, e.g. the measures of a decision).

A server error has the shape too (``server_error``, 500), and says nothing of what failed: the
traceback goes to the log, as Django's own 500 handling would send it. Only with ``DEBUG`` on is
it left to Django's technical page, for the developer.
"""

from __future__ import annotations

import logging
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
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.utils.log import log_response
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from declarations.services.attachments import FileTooLarge, UnsupportedFileType

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The declaration is not in a state that allows this."


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"
    default_detail = "The declaration has changed since you read it."


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The upload is too large."


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
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        return error_response(
            "payload_too_large",
            _("The request body is larger than %(size)s.") % {"size": filesizeformat(limit)},
            413,
        )
    return error_response("bad_request", _("The request could not be read."), 400)


def _server_error(exc: Exception, context: dict[str, Any]) -> Response:
    """An unexpected error: the one shape, and nothing of the error in it. Signalled and
    logged (with the traceback) as Django's own 500 handling does, so the test client still
    raises it and the log still has it."""
    drf_request = context.get("request")
    request = getattr(drf_request, "_request", drf_request)
    got_request_exception.send(sender=None, request=request)
    response = error_response(
        "server_error", _("Something went wrong on our side. The error is logged."), 500
    )
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
    response = error_response(
        "unavailable",
        _("The service is briefly unavailable. Try again in a few seconds."),
        503,
    )
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
        # a real server error: the developer's traceback page with DEBUG, else our shape
        return None if settings.DEBUG else _server_error(exc, context)
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
        wait = getattr(exc, "wait", None)
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            body["retry_after"] = int(wait) + 1
    response.data = body
    return response
