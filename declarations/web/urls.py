"""The web pages (STYLE.md rule 22: namespaced names)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from declarations.web import (
    account,
    common,
    declaration,
    lists,
    measures,
    notices,
    notifications,
    records,
    steps,
)

app_name = "declarations"

# The pages said "cases/" until the code took one name for the entity (issue 13); a bookmark or
# a form left open on an old page is sent on with a 308, which keeps a POST a POST.

urlpatterns = [
    path("", lists.home, name="home"),
    path("language/", account.set_language, name="language"),
    path("declarations/mine/", lists.mine, name="mine"),
    path("declarations/reviews/", lists.reviews, name="reviews"),
    path("declarations/overview/", lists.overview, name="overview"),
    path("declarations/search/", lists.search, name="search"),
    path("declarations/new/", notices.declare, name="declare"),
    path("declarations/open/", steps.open_declaration, name="open"),
    path("declarations/<uuid:code>/", declaration.declaration_detail, name="declaration"),
    path("declarations/<uuid:code>/edit/", notices.edit, name="edit"),
    path("declarations/<uuid:code>/preview/", notices.preview, name="preview"),
    path("declarations/<uuid:code>/submit/", notices.submit, name="submit"),
    path("declarations/<uuid:code>/discard/", notices.discard, name="discard"),
    path("declarations/<uuid:code>/start-review/", steps.start_review, name="start-review"),
    path("declarations/<uuid:code>/decide/", steps.decide, name="decide"),
    path("declarations/<uuid:code>/no-conflict/", steps.no_conflict, name="no-conflict"),
    path("declarations/<uuid:code>/withdraw/", steps.withdraw, name="withdraw"),
    path("declarations/<uuid:code>/reassign/", steps.reassign, name="reassign"),
    path("declarations/<uuid:code>/comment/", steps.comment, name="comment"),
    path("declarations/<uuid:code>/addendum/", steps.addendum, name="addendum"),
    path("attachments/<uuid:code>/", records.attachment_file, name="attachment"),
    path("attachments/<uuid:code>/remove/", notices.attachment_remove, name="attachment-remove"),
    path("declarations/<uuid:code>/dossier/", records.dossier, name="dossier"),
    path("measures/<uuid:code>/consent/", measures.consent, name="consent"),
    path("measures/<uuid:code>/implement/", measures.implement, name="implement"),
    path("hr/", lists.hr_queue, name="hr"),
    path("records/<uuid:code>/pdf/", records.record_pdf, name="record-pdf"),
    path("exports/", records.exports, name="exports"),
    path("exports/<uuid:code>/", records.export_detail, name="export"),
    path("exports/<uuid:code>/download/", records.export_download, name="export-download"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read/", notifications.notifications_read_all, name="notifications-read"),
    path(
        "notifications/settings/",
        notifications.notification_settings,
        name="notification-settings",
    ),
    path(
        "notifications/<uuid:code>/open/",
        notifications.notification_open,
        name="notification-open",
    ),
    path(
        "notifications/<uuid:code>/read/",
        notifications.notification_read,
        name="notification-read",
    ),
    re_path(r"^cases/(?P<rest>.*)$", common.old_declaration_path),
]

account_patterns = [
    path("login/", account.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
