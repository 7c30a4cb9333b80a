"""Records, exports and attachments in an S3-compatible object store (issue 17, point 3).

A real S3 server on loopback — moto in server mode, started here on a free port and stopped at
the end — and the storage configured the way a deployment configures it, from the environment
(``COI_STORAGE=s3`` and friends, read by ``coi/settings.py``). Each test writes under a prefix
of its own in one bucket. The filesystem default is what every other test runs on.
"""

from __future__ import annotations

import hashlib
import io
import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import boto3  # type: ignore[import-untyped]
import pypdf
import pytest
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import EndpointConnectionError  # type: ignore[import-untyped]
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import call_command
from django.utils.http import content_disposition_header

from declarations.choices import DeclarationState, RecordStatus
from declarations.models import Attachment, ExportJob, Record
from declarations.records import issuing
from declarations.stores import ObjectStore
from tests.api import BASE, client_for, declaration_url, ok
from tests.builders import Org, declaration_in, new_draft
from tests.records import IMMEDIATE, issue_all, pdf_of, records_of
from tests.web import client_as

S = DeclarationState
SETTINGS_FILE = Path(__file__).resolve().parent.parent / "coi" / "settings.py"
BUCKET = "coi-records"
REGION = "us-east-1"
KEYS = {"AWS_ACCESS_KEY_ID": "test-key", "AWS_SECRET_ACCESS_KEY": "test-secret"}
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
SANDBOX = "default-src 'none'; sandbox"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free loopback port, with the bucket made; stopped at the end."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port), "-H", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, "moto's server exited"
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):  # noqa: S310
                    break
            except OSError:
                assert time.monotonic() < deadline, "moto's server did not answer in 30 s"
                time.sleep(0.1)
        client = _client(endpoint)
        client.create_bucket(Bucket=BUCKET)
        client.close()
        yield endpoint
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"],
    )


def _configured(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    """The settings module run afresh with ``env``, as a deployment's process would run it."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


@dataclass
class Bucket:
    """What the tests see of the bucket: the objects under this test's prefix."""

    client: Any
    prefix: str

    def keys(self, under: str = "") -> list[str]:
        listing = self.client.list_objects_v2(Bucket=BUCKET, Prefix=f"{self.prefix}/{under}")
        return sorted(o["Key"].removeprefix(f"{self.prefix}/") for o in listing.get("Contents", []))

    def read(self, name: str) -> bytes:
        body = self.client.get_object(Bucket=BUCKET, Key=f"{self.prefix}/{name}")["Body"]
        with body:
            return bytes(body.read())

    def grants(self, name: str) -> list[dict[str, Any]]:
        acl = self.client.get_object_acl(Bucket=BUCKET, Key=f"{self.prefix}/{name}")
        return list(acl["Grants"])


@pytest.fixture
def bucket(s3_endpoint: str, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bucket]:
    """The record store switched to the bucket, configured from the environment, under a
    prefix of this test's own."""
    prefix = f"test-{uuid4().hex[:12]}"
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)  # boto3's own variables, as in a deployment
    configured = _configured(
        monkeypatch,
        COI_STORAGE="s3",
        COI_S3_BUCKET=BUCKET,
        COI_S3_ENDPOINT_URL=s3_endpoint,
        COI_S3_REGION=REGION,
        COI_S3_PREFIX=f"/{prefix}/",
    )
    settings.STORAGES = configured["STORAGES"]
    assert isinstance(default_storage, ObjectStore)
    client = _client(s3_endpoint)
    yield Bucket(client=client, prefix=prefix)
    client.close()
    default_storage.connection.meta.client.close()


# ---- configuration ------------------------------------------------------------------------


def test_the_filesystem_is_the_default_store(settings: Any) -> None:
    assert settings.COI_STORAGE == "filesystem"
    assert settings.STORAGES["default"] == {
        "BACKEND": "django.core.files.storage.FileSystemStorage"
    }
    assert isinstance(default_storage, FileSystemStorage)
    assert default_storage.location == os.path.abspath(settings.MEDIA_ROOT)


def test_the_object_store_is_configured_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configured = _configured(
        monkeypatch,
        COI_STORAGE="s3",
        COI_S3_BUCKET="records",
        COI_S3_ENDPOINT_URL="https://s3.example.kz",
        COI_S3_REGION="kz-ast-1",
        COI_S3_PREFIX="coi/prod/",
        COI_S3_ADDRESSING_STYLE="path",
    )
    assert configured["STORAGES"]["default"] == {
        "BACKEND": "declarations.stores.ObjectStore",
        "OPTIONS": {
            "bucket_name": "records",
            "endpoint_url": "https://s3.example.kz",
            "region_name": "kz-ast-1",
            "location": "coi/prod",
            "addressing_style": "path",
            "signature_version": "s3v4",
        },
    }
    assert "staticfiles" in configured["STORAGES"]


def test_a_store_that_is_not_known_or_has_no_bucket_is_a_start_up_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ImproperlyConfigured, match="COI_S3_BUCKET"):
        _configured(monkeypatch, COI_STORAGE="s3")
    with pytest.raises(ImproperlyConfigured, match="COI_STORAGE"):
        _configured(monkeypatch, COI_STORAGE="nfs")


def test_the_object_store_refuses_a_public_acl_and_gives_no_links() -> None:
    with pytest.raises(ImproperlyConfigured, match="public-read"):
        ObjectStore(bucket_name=BUCKET, default_acl="public-read")
    with pytest.raises(ImproperlyConfigured, match="public-read"):
        ObjectStore(bucket_name=BUCKET, object_parameters={"ACL": "public-read"})
    with pytest.raises(NotImplementedError):
        ObjectStore(bucket_name=BUCKET).url("records/ab/x.pdf")


# ---- records ------------------------------------------------------------------------------


def test_a_record_issued_end_to_end_lands_in_the_bucket_and_downloads_unchanged(
    org: Org, bucket: Bucket, django_capture_on_commit_callbacks: Any
) -> None:
    with IMMEDIATE, django_capture_on_commit_callbacks(execute=True):
        declaration = declaration_in(org, S.SUBMITTED)
    (record,) = records_of(declaration)
    assert record.status == RecordStatus.ISSUED  # the queue issued it after the commit
    (key,) = bucket.keys("records/")
    assert key == record.file.name
    assert key.startswith(f"records/{record.code.hex[:2]}/{record.code.hex}_")
    assert key.endswith(".pdf")
    stored = bucket.read(key)
    assert hashlib.sha256(stored).hexdigest() == record.sha256 and len(stored) == record.size
    # private: the owner's grant only, nothing for everyone or for authenticated users
    assert [g["Permission"] for g in bucket.grants(key)] == ["FULL_CONTROL"]

    response = client_for(org.servant).get(f"{BASE}/records/{record.code}/pdf/")
    assert response.status_code == 200 and response.content == stored
    assert response["Content-Type"] == "application/pdf"
    name = f"{declaration.registration_number}-notice.pdf".replace("/", "-")
    assert response["Content-Disposition"] == content_disposition_header(True, name)
    assert response["Content-Security-Policy"] == SANDBOX

    page = client_as(org.servant).get(f"/records/{record.code}/pdf/")
    assert page.status_code == 200 and page.content == stored
    assert page["Content-Type"] == "application/pdf"
    assert page["Content-Disposition"] == (
        f'attachment; filename="notice-{record.verification_code}.pdf"'
    )
    assert page["Content-Security-Policy"] == SANDBOX


def test_a_record_from_the_bucket_verifies_and_a_changed_one_does_not(
    org: Org, bucket: Bucket
) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    (record,) = issue_all(declaration)
    data = bucket.read(record.file.name)
    body = ok(
        client_for(None).post(
            f"{BASE}/verify/", {"file": _named(data, "record.pdf")}, format="multipart"
        )
    )
    assert body["valid"] is True and body["unaltered"] is True
    assert body["record"]["verification_code"] == record.verification_code
    tampered = data.replace(b"/Producer", b"/Producex", 1)
    body = ok(
        client_for(None).post(
            f"{BASE}/verify/", {"file": _named(tampered, "record.pdf")}, format="multipart"
        )
    )
    assert body["valid"] is False and body["ours"] is True
    page = client_as(None).post(
        f"/verify/{record.verification_code}", {"file": _named(data, "r.pdf")}
    )
    assert page.status_code == 200 and record.sha256 in page.content.decode()


def test_two_workers_racing_keep_one_object_each_and_the_loser_deletes_only_its_own(
    org: Org, bucket: Bucket
) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    (record,) = records_of(declaration)
    data, pages = issuing.record_produce(record)
    other, _pages = issuing.record_produce(record)
    assert data != other  # each render is sealed at its own time
    assert issuing._store(record, data, pages) == "issued"
    assert issuing._store(record, other, pages) == "issued by another worker"
    record.refresh_from_db()
    (key,) = bucket.keys("records/")
    assert key == record.file.name and bucket.read(key) == data == pdf_of(record)


def test_a_record_store_that_is_down_leaves_the_record_pending_until_it_is_back(
    org: Org, bucket: Bucket, settings: Any
) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    (record,) = records_of(declaration)
    working = settings.STORAGES
    options = {
        **working["default"]["OPTIONS"],
        "endpoint_url": f"http://127.0.0.1:{_free_port()}",  # nobody listens there
        "client_config": Config(retries={"total_max_attempts": 1}),
    }
    settings.STORAGES = {**working, "default": {**working["default"], "OPTIONS": options}}
    with pytest.raises(EndpointConnectionError):
        issuing.record_issue(record_id=record.pk)
    record.refresh_from_db()
    assert (record.status, record.file.name) == (RecordStatus.PENDING, "")
    assert "Could not connect" in record.last_error
    default_storage.connection.meta.client.close()
    settings.STORAGES = working
    (record,) = issue_all(declaration)
    assert record.status == RecordStatus.ISSUED and record.last_error == ""
    assert bucket.keys("records/") == [record.file.name]


def test_operators_see_the_stored_name_in_the_admin_and_no_link_to_the_bucket(
    org: Org, bucket: Bucket, client: Any
) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    (record,) = issue_all(declaration)
    client.force_login(org.admin)
    page = client.get(f"/admin/declarations/record/{record.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert record.file.name in html
    assert (
        "127.0.0.1" not in html and "X-Amz" not in html and f'href="{record.file.name}' not in html
    )


# ---- exports ------------------------------------------------------------------------------


def test_an_export_is_packed_into_the_bucket_and_streamed_from_it(
    org: Org, bucket: Bucket, django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    (notice,) = issue_all(declaration)  # the dossier carries it, read back from the bucket
    client = client_for(org.auditor)
    with IMMEDIATE, django_capture_on_commit_callbacks(execute=True):
        job = ok(client.post(f"{BASE}/exports/", {"body": [org.body.slug]}, format="json"), 202)
    export = ExportJob.objects.get(code=job["id"])
    assert export.status == "done"
    (key,) = bucket.keys("exports/")
    assert key == export.file.name and key.startswith(f"exports/{export.code.hex}_")
    stored = bucket.read(key)
    assert hashlib.sha256(stored).hexdigest() == export.sha256 and len(stored) == export.size

    response = client.get(f"{BASE}/exports/{export.code}/download/")
    assert response.status_code == 200 and response.streaming  # never read whole
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="export-{export.code}.zip"'
    assert response["Digest"] == f"sha-256={export.sha256}"
    assert response["Content-Security-Policy"] == SANDBOX
    assert int(response["Content-Length"]) == len(stored)
    assert b"".join(response.streaming_content) == stored

    page = client_as(org.auditor).get(f"/exports/{export.code}/download/")
    assert page.status_code == 200 and page.streaming
    assert page["Content-Disposition"] == f'attachment; filename="export-{export.code}.zip"'
    assert int(page["Content-Length"]) == len(stored)
    assert b"".join(page.streaming_content) == stored

    archive = zipfile.ZipFile(io.BytesIO(stored))
    (name,) = [n for n in archive.namelist() if n.startswith("dossiers/")]
    dossier = Record.objects.get(export=export)
    assert archive.read(name) == bucket.read(dossier.file.name)
    embedded = pypdf.PdfReader(io.BytesIO(archive.read(name))).attachments
    assert [bucket.read(notice.file.name)] in embedded.values()

    out = tmp_path / "export.zip"  # the command copies its ZIP out of the bucket
    call_command(
        "export_dossiers",
        "--auditor",
        org.auditor.username,
        "--workers",
        "1",
        "--output",
        str(out),
        stdout=io.StringIO(),
    )
    latest = ExportJob.objects.exclude(pk=export.pk).get()
    assert out.read_bytes() == bucket.read(latest.file.name)
    assert len(bucket.keys("exports/")) == 2


# ---- attachments --------------------------------------------------------------------------


def _named(data: bytes, name: str) -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = name
    return upload


def test_an_attachment_is_uploaded_to_the_bucket_downloaded_and_removed(
    org: Org, bucket: Bucket, django_capture_on_commit_callbacks: Any
) -> None:
    draft = new_draft(org)
    client = client_for(org.servant)
    body = ok(
        client.post(
            declaration_url(draft, "attachments"),
            {"file": _named(PDF, "evidence.pdf")},
            format="multipart",
        ),
        201,
    )
    attachment = Attachment.objects.get(code=body["id"])
    (key,) = bucket.keys("attachments/")
    assert key == attachment.file.name and key.startswith(f"attachments/{attachment.code.hex[:2]}/")
    assert bucket.read(key) == PDF

    response = client.get(f"{BASE}/attachments/{attachment.code}/")
    assert response.status_code == 200 and response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="evidence.pdf"'
    assert response["Content-Security-Policy"] == SANDBOX

    page = client_as(org.servant).get(f"/attachments/{attachment.code}/")
    assert page.status_code == 200 and page.streaming
    assert page["Content-Disposition"] == 'attachment; filename="evidence.pdf"'
    assert int(page["Content-Length"]) == len(PDF)
    assert b"".join(page.streaming_content) == PDF

    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"{BASE}/attachments/{attachment.code}/")
    assert response.status_code == 204
    assert bucket.keys("attachments/") == []
