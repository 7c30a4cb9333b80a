"""HTTP helpers shared by the API and the web pages (neither imports the other)."""

from __future__ import annotations

from typing import IO

from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header

#: a download is never rendered in our origin, whatever the file holds
SANDBOX = "default-src 'none'; sandbox"


def file_response(content: bytes, *, content_type: str, filename: str) -> HttpResponse:
    """A download: never rendered in our origin, whatever the file holds."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=True, filename=filename) or "attachment"
    )
    response["Content-Security-Policy"] = SANDBOX
    return response


def file_download(fileobj: IO[bytes], *, content_type: str, filename: str) -> FileResponse:
    """A large download streamed from storage (the response closes the file when it is sent)."""
    response = FileResponse(
        fileobj, as_attachment=True, filename=filename, content_type=content_type
    )
    response["Content-Security-Policy"] = SANDBOX
    return response
