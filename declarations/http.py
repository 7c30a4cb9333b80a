"""HTTP helpers shared by the API and the web pages (neither imports the other)."""

from __future__ import annotations

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header

from declarations.stores import open_stored

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


def file_download(file: FieldFile, *, content_type: str, filename: str) -> FileResponse:
    """A large download streamed from the record store as it is sent, never read whole (the
    response closes the file, or the object's body, when it is sent)."""
    stream, size = open_stored(file)
    response = FileResponse(
        stream, as_attachment=True, filename=filename, content_type=content_type
    )
    if size is not None and "Content-Length" not in response:  # an object's body cannot seek
        response["Content-Length"] = str(size)
    response["Content-Security-Policy"] = SANDBOX
    return response
