"""HTML to PDF/A with WeasyPrint, fetching nothing but the project's own assets (STYLE.md rule 23).

Every URL a document or a stylesheet names goes through ``AssetFetcher``: ``data:`` URIs and
files under ``declarations/static/declarations/`` (addressed as ``https://assets.coi.invalid/…``,
a host that can never resolve) are served from memory; anything else — the network, ``file://``,
a redirect — is refused before a socket or a file is opened. WeasyPrint 70 routes stylesheets
and metadata through the fetcher too (earlier releases did not).

One font configuration, one fetcher and the parsed stylesheet are kept per process: building
them costs about 65 ms a document. The image cache is per document: every record's QR code is
a different ``data:`` URI, and a cache shared by a long-running worker would only grow.
"""

from __future__ import annotations

import functools
import mimetypes
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import DataHandler, Request

from django.conf import settings
from weasyprint import CSS, HTML, Attachment
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

ASSET_ROOT = (Path(__file__).resolve().parent.parent / "static" / "declarations").resolve()
ASSET_BASE = "https://assets.coi.invalid/"
STYLESHEET = "pdf/record.css"
PDF_VARIANT = "pdf/a-3b"  # PDF/A-3 because a dossier carries the signed records as attachments


class RefusedURL(ValueError):
    """A document asked for something outside the project's own assets."""


class RenderTimeout(RuntimeError):
    pass


class AssetFetcher(URLFetcher):
    """Serves ``data:`` URIs and the bundled assets; refuses every other URL."""

    def __init__(self) -> None:
        super().__init__(timeout=1, allowed_protocols=("data", "https"), allow_redirects=False)
        self._assets: dict[str, tuple[bytes, str]] = {}
        self.refused: list[str] = []  # for tests and logs: what documents tried to reach

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            # only a data: URI reaches here; DataHandler decodes it without any I/O
            response = DataHandler().data_open(Request(url))  # noqa: S310
            body = response.read()
            return URLFetcherResponse(url, body, {"Content-Type": response.headers["Content-Type"]})
        if url.startswith(ASSET_BASE) and "?" not in url and "#" not in url:
            body, mime = self._asset(unquote(urlsplit(url).path).lstrip("/"))
            return URLFetcherResponse(url, body, {"Content-Type": mime})
        self.refused.append(url[:200])
        raise RefusedURL(f"refused to fetch {url[:200]!r}: only the project's own assets")

    def _asset(self, relative: str) -> tuple[bytes, str]:
        if relative not in self._assets:
            path = (ASSET_ROOT / relative).resolve()
            if not path.is_relative_to(ASSET_ROOT) or not path.is_file():
                self.refused.append(relative[:200])
                raise RefusedURL(f"no such asset {relative[:200]!r}")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            self._assets[relative] = (path.read_bytes(), mime)
        return self._assets[relative]


@dataclass
class Renderer:
    """What one process keeps between documents."""

    fetcher: AssetFetcher
    font_config: FontConfiguration
    stylesheet: CSS

    def document(self, html: str) -> Any:
        return HTML(string=html, base_url=ASSET_BASE, url_fetcher=self.fetcher).render(
            font_config=self.font_config,
            stylesheets=[self.stylesheet],
            cache={},
            pdf_variant=PDF_VARIANT,
        )


@functools.cache
def renderer() -> Renderer:
    fetcher = AssetFetcher()
    font_config = FontConfiguration()
    stylesheet = CSS(url=ASSET_BASE + STYLESHEET, url_fetcher=fetcher, font_config=font_config)
    return Renderer(fetcher, font_config, stylesheet)


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Stop a render that runs longer than ``seconds`` (in a worker's main thread).

    Worker processes run tasks in their main thread, where SIGALRM can interrupt WeasyPrint's
    layout loop. Elsewhere (development's in-process tasks run in a server thread) there is no
    portable way to interrupt a thread; the limit is then not applied.
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise RenderTimeout(f"rendering took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class EmbeddedFile:
    name: str
    data: bytes
    description: str


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pages: int


def render_pdf(
    html: str, *, attachments: Sequence[EmbeddedFile] = (), identifier: bytes | None = None
) -> RenderedPdf:
    """Lay out ``html`` (from a template, autoescaped) as PDF/A-3b; embed ``attachments``."""
    r = renderer()
    with time_limit(settings.COI_RENDER_TIME_LIMIT):
        document = r.document(html)
        files = [
            Attachment(
                string=f.data,
                name=f.name,
                description=f.description,
                url_fetcher=r.fetcher,
                relationship="Source",
            )
            for f in attachments
        ]
        data = document.write_pdf(
            pdf_variant=PDF_VARIANT, attachments=files, pdf_identifier=identifier
        )
    return RenderedPdf(data=data, pages=len(document.pages))
