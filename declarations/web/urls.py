"""The web pages (STYLE.md rule 22: namespaced names)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from declarations.web import account, cases, records, steps

app_name = "declarations"

urlpatterns = [
    path("", cases.home, name="home"),
    path("language/", account.set_language, name="language"),
    path("cases/mine/", cases.mine, name="mine"),
    path("cases/reviews/", cases.reviews, name="reviews"),
    path("cases/overview/", cases.overview, name="overview"),
    path("cases/search/", cases.search, name="search"),
    path("cases/new/", cases.declare, name="declare"),
    path("cases/open/", steps.open_case, name="open"),
    path("cases/<uuid:code>/", cases.case_detail, name="case"),
    path("cases/<uuid:code>/edit/", cases.edit, name="edit"),
    path("cases/<uuid:code>/preview/", cases.preview, name="preview"),
    path("cases/<uuid:code>/submit/", cases.submit, name="submit"),
    path("cases/<uuid:code>/discard/", cases.discard, name="discard"),
    path("cases/<uuid:code>/start-review/", steps.start_review, name="start-review"),
    path("cases/<uuid:code>/decide/", steps.decide, name="decide"),
    path("cases/<uuid:code>/no-conflict/", steps.no_conflict, name="no-conflict"),
    path("cases/<uuid:code>/withdraw/", steps.withdraw, name="withdraw"),
    path("cases/<uuid:code>/reassign/", steps.reassign, name="reassign"),
    path("cases/<uuid:code>/comment/", steps.comment, name="comment"),
    path("cases/<uuid:code>/addendum/", steps.addendum, name="addendum"),
    path("attachments/<uuid:code>/", records.attachment_file, name="attachment"),
    path("attachments/<uuid:code>/remove/", cases.attachment_remove, name="attachment-remove"),
    path("cases/<uuid:code>/dossier/", records.dossier, name="dossier"),
    path("measures/<uuid:code>/consent/", steps.consent, name="consent"),
    path("measures/<uuid:code>/implement/", steps.implement, name="implement"),
    path("hr/", cases.hr_queue, name="hr"),
    path("records/<uuid:code>/pdf/", records.record_pdf, name="record-pdf"),
    path("exports/", records.exports, name="exports"),
    path("exports/<uuid:code>/", records.export_detail, name="export"),
    path("exports/<uuid:code>/download/", records.export_download, name="export-download"),
]

account_patterns = [
    path("login/", account.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
