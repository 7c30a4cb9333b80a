"""Records, dossiers, exports and verification through the API and the public page."""

from __future__ import annotations

import io
import zipfile

from django.test import Client

from declarations.choices import DeclarationState
from tests.api import BASE, client_for, declaration_url, ok
from tests.builders import Org, declaration_in
from tests.records import IMMEDIATE, flat, issue_all, records_of, text_of

S = DeclarationState


def _upload(client, data: bytes):
    upload = io.BytesIO(data)
    upload.name = "record.pdf"
    return client.post(f"{BASE}/verify/", {"file": upload}, format="multipart")


def test_records_are_listed_pending_then_issued_and_downloaded(org: Org) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    client = client_for(org.servant)
    (row,) = ok(client.get(declaration_url(declaration, "records")))
    assert (row["kind"], row["status"], row["sha256"]) == ("notice", "pending", "")
    response = client.get(f"{BASE}/records/{row['id']}/pdf/")
    assert response.status_code == 409
    issue_all(declaration)
    (row,) = ok(client.get(declaration_url(declaration, "records")))
    assert row["status"] == "issued" and row["development_seal"] is True
    response = client.get(f"{BASE}/records/{row['id']}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    import hashlib

    assert hashlib.sha256(response.content).hexdigest() == row["sha256"]


def test_anyone_can_verify_a_pdf(org: Org) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    (record,) = issue_all(declaration)
    with record.file.open("rb") as f:
        data = f.read()
    body = ok(_upload(client_for(None), data))
    assert body["valid"] is True and body["unaltered"] is True
    assert body["record"]["verification_code"] == record.verification_code
    assert body["record"]["registration_number"] == declaration.registration_number
    tampered = data.replace(b"/Producer", b"/Producex", 1)
    body = ok(_upload(client_for(None), tampered))
    assert body["valid"] is False and body["ours"] is True and body["problems"]
    body = ok(_upload(client_for(None, HTTP_ACCEPT_LANGUAGE="kk"), b"not a pdf"))
    assert body["valid"] is False
    assert "Бұл оқылатын PDF емес." in body["problems"]
    response = client_for(None).post(f"{BASE}/verify/", {}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()["fields"]


def test_the_dossier_in_the_readers_language(org: Org) -> None:
    declaration = declaration_in(org, S.RESOLVED)
    client = client_for(org.auditor, HTTP_ACCEPT_LANGUAGE="kk")
    response = client.get(declaration_url(declaration, "dossier"))
    assert response.status_code == 200
    assert "Мүдделер қақтығысы ісінің құжаттамасы" in flat(text_of(response.content))
    response = client.get(declaration_url(declaration, "dossier"), {"language": "kk-ru"})
    text = flat(text_of(response.content))
    assert "Мүдделер қақтығысы ісінің құжаттамасы / Досье дела о конфликте интересов" in text
    response = client.get(declaration_url(declaration, "dossier"), {"language": "de"})
    assert response.status_code == 400 and "language" in response.json()["fields"]
    # every request is a new dossier record, listed for those who may see it
    rows = ok(client.get(declaration_url(declaration, "records")))
    assert [r["kind"] for r in rows].count("dossier") == 2
    assert "dossier" not in [
        r["kind"] for r in ok(client_for(org.servant).get(declaration_url(declaration, "records")))
    ]


def test_an_export_through_the_api(org: Org, django_capture_on_commit_callbacks) -> None:
    declaration_in(org, S.RESOLVED)
    declaration_in(org, S.SUBMITTED)
    client = client_for(org.auditor)
    with IMMEDIATE, django_capture_on_commit_callbacks(execute=True):
        job = ok(client.post(f"{BASE}/exports/", {"body": [org.body.slug]}, format="json"), 202)
    job = ok(client.get(f"{BASE}/exports/{job['id']}/"))
    assert (job["status"], job["total"], job["done"]) == ("done", 2, 2)
    response = client.get(f"{BASE}/exports/{job['id']}/download/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Digest"] == f"sha-256={job['sha256']}"
    assert response.streaming  # read from storage as it is sent, never whole into memory
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body)
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert {"register.csv", "SHA256SUMS"} <= set(names)
    bad = client.post(f"{BASE}/exports/", {"body": ["nowhere"], "size": 1}, format="json")
    assert bad.status_code == 400 and set(bad.json()["fields"]) == {"size"}
    bad = client.post(f"{BASE}/exports/", {"body": ["nowhere"]}, format="json")
    assert bad.status_code == 400 and set(bad.json()["fields"]) == {"body"}


def test_the_public_verify_page(org: Org) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    (record,) = issue_all(declaration)
    browser = Client(HTTP_ACCEPT_LANGUAGE="ru")
    page = browser.get(f"/verify/{record.verification_code.lower()}")
    assert page.status_code == 200
    html = page.content.decode()
    assert declaration.registration_number in html and record.sha256 in html
    assert org.servants["servant"].full_name not in html  # no personal data for a typed code
    assert "Проверка документа" in html
    assert "script-src 'self'" in page["Content-Security-Policy"]  # strict, no inline code
    assert "'unsafe-inline'" not in page["Content-Security-Policy"]
    assert browser.get("/verify/AAAA-BBBB-CCCC").status_code == 404
    with record.file.open("rb") as f:
        data = f.read()
    upload = io.BytesIO(data)
    upload.name = "r.pdf"
    page = browser.post(f"/verify/{record.verification_code}", {"file": upload})
    assert "Действителен" in page.content.decode()
    assert records_of(declaration)[0].status == "issued"
