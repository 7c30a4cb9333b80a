"""JSON request bodies, bounded in size and depth before they are decoded (issue 12).

Python's ``json`` recurses once per level of nesting, so a few kilobytes of ``[[[[…`` raise
``RecursionError`` inside the parser: a 500, before anyone has signed in. The depth is measured
first by a scan that never recurses: strings are cut out (their brackets are text), only the
brackets are kept, and the largest running sum of ``+1`` per opening and ``-1`` per closing one
is the depth. Nothing our API accepts nests deeper than four levels; ``JSON_MAX_DEPTH`` leaves
room and stays far below the interpreter's limit.

The size limit is Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (1 MB, every body but a file upload).
Django enforces it when DRF reads the body; the parser checks it again so that it holds for any
stream it is given. Both raise Django's ``RequestDataTooBig``, a 413 in ``errors.py`` (which
this module must not import: DRF imports the parsers while ``rest_framework.views`` loads).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from itertools import accumulate
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

JSON_MAX_DEPTH = 32

# A string, closed or running to the end of the body: one match per opening quote, so the scan
# stays linear however the quotes and backslashes of a hostile body fall.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nesting_depth(text: str) -> int:
    """How deep the arrays and objects of the JSON ``text`` nest (0 for a bare value).

    Malformed text gets a number too; ``json`` refuses it afterwards.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _invalid(exc: ValueError) -> str:
    """The message in the caller's language alone: ``json``'s own text is English, so only
    where it stopped is taken from it (issue 18: no half-translated errors)."""
    if isinstance(exc, json.JSONDecodeError):
        return _("The request body is not valid JSON (line %(line)d, column %(column)d).") % {
            "line": exc.lineno,
            "column": exc.colno,
        }
    return _("The request body is not valid JSON.")


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser behind two bounds: 413 above the size limit, 400 when nested deeper
    than ``JSON_MAX_DEPTH``; malformed JSON is a 400 as before (``parse_error``)."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = str((parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET)
        try:
            "".encode(encoding)  # a text codec: "bz2_codec" would inflate a small body
        except (LookupError, UnicodeError):
            raise ParseError(_("The request body's character set is not supported.")) from None
        limit: int | None = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw: bytes = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(_invalid(exc)) from None
        if nesting_depth(text) > JSON_MAX_DEPTH:
            raise ParseError(
                ngettext(
                    "The request body nests deeper than %(n)d level.",
                    "The request body nests deeper than %(n)d levels.",
                    JSON_MAX_DEPTH,
                )
                % {"n": JSON_MAX_DEPTH}
            )
        try:
            return json.loads(text, parse_constant=_refuse_constant if self.strict else None)
        except ValueError as exc:  # also a number longer than Python converts (4,300 digits)
            raise ParseError(_invalid(exc)) from None
