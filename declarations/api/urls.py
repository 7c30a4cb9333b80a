"""``/api/v1/`` (DESIGN.md §6 "Resource map")."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from declarations.api import access, declarations, measures, notifications, people, records, signing

app_name = "declarations-api"

router = SimpleRouter()
router.register("declarations", declarations.DeclarationViewSet, basename="declaration")
router.register("measures", measures.MeasureViewSet, basename="measure")
router.register("servants", people.ServantViewSet, basename="servant")
router.register("positions", people.PositionViewSet, basename="position")
router.register("records", records.RecordViewSet, basename="record")
router.register("exports", records.ExportViewSet, basename="export")
router.register("access", access.AccessViewSet, basename="access")
router.register("notifications", notifications.NotificationViewSet, basename="notification")

UUID = "<uuid:id>"

urlpatterns = [
    path("auth/token/", people.TokenView.as_view(), name="token"),
    path("auth/tokens/", people.TokenListView.as_view(), name="tokens"),
    path(f"auth/tokens/{UUID}/", people.TokenDetailView.as_view(), name="token-detail"),
    path("me/", people.MeView.as_view(), name="me"),
    path(
        "notifications/preferences/",
        notifications.NotificationPreferencesView.as_view(),
        name="notification-preferences",
    ),
    path(
        f"declarations/{UUID}/attachments/",
        declarations.AttachmentViewSet.as_view(
            {"get": "list_for_declaration", "post": "create_for_declaration"}
        ),
        name="declaration-attachments",
    ),
    path(
        f"attachments/{UUID}/",
        declarations.AttachmentViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
        name="attachment-detail",
    ),
    path(
        f"declarations/{UUID}/records/",
        records.RecordViewSet.as_view({"get": "list_for_declaration"}),
        name="declaration-records",
    ),
    path(f"declarations/{UUID}/dossier/", records.DossierView.as_view(), name="dossier"),
    path("verify/", records.VerifyView.as_view(), name="verify"),
    *(
        path(
            f"declarations/{UUID}/statement/{step}/",
            view.as_view(),
            name=f"declaration-statement-{step}",
        )
        for step, view in signing.STEPS.items()
    ),
    path(
        f"measures/{UUID}/statement/consent/",
        signing.MeasureStatementView.as_view(),
        name="measure-statement",
    ),
    *router.urls,
]
