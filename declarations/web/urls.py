"""The web pages (STYLE.md rule 22: namespaced names)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from declarations.web import account, case, lists, measures, notices, records, steps

app_name = "declarations"

urlpatterns = [
    path("", lists.home, name="home"),
    path("language/", account.set_language, name="language"),
    path("cases/mine/", lists.mine, name="mine"),
    path("cases/reviews/", lists.reviews, name="reviews"),
    path("cases/overview/", lists.overview, name="overview"),
    path("cases/search/", lists.search, name="search"),
    path("cases/new/", notices.declare, name="declare"),
    path("cases/open/", steps.open_case, name="open"),
    path("cases/<uuid:code>/", case.case_detail, name="case"),
    path("cases/<uuid:code>/edit/", notices.edit, name="edit"),
    path("cases/<uuid:code>/preview/", notices.preview, name="preview"),
    path("cases/<uuid:code>/submit/", notices.submit, name="submit"),
    path("cases/<uuid:code>/discard/", notices.discard, name="discard"),
    path("cases/<uuid:code>/start-review/", steps.start_review, name="start-review"),
    path("cases/<uuid:code>/decide/", steps.decide, name="decide"),
    path("cases/<uuid:code>/no-conflict/", steps.no_conflict, name="no-conflict"),
    path("cases/<uuid:code>/withdraw/", steps.withdraw, name="withdraw"),
    path("cases/<uuid:code>/reassign/", steps.reassign, name="reassign"),
    path("cases/<uuid:code>/comment/", steps.comment, name="comment"),
    path("cases/<uuid:code>/addendum/", steps.addendum, name="addendum"),
    path("attachments/<uuid:code>/", records.attachment_file, name="attachment"),
    path("attachments/<uuid:code>/remove/", notices.attachment_remove, name="attachment-remove"),
    path("cases/<uuid:code>/dossier/", records.dossier, name="dossier"),
    path("measures/<uuid:code>/consent/", measures.consent, name="consent"),
    path("measures/<uuid:code>/implement/", measures.implement, name="implement"),
    path("hr/", lists.hr_queue, name="hr"),
    path("records/<uuid:code>/pdf/", records.record_pdf, name="record-pdf"),
    path("exports/", records.exports, name="exports"),
    path("exports/<uuid:code>/", records.export_detail, name="export"),
    path("exports/<uuid:code>/download/", records.export_download, name="export-download"),
]

account_patterns = [
    path("login/", account.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
