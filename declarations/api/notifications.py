"""The caller's own notifications (issue 16): what they were told, marking it read, and which
kinds also come by e-mail.

- ``GET /notifications/?unread=true|false``: newest first, keyset-paged like every list;
- ``POST /notifications/{id}/read/``: one, answered with the notification as it is now;
- ``POST /notifications/read-all/``: every unread one, answered with how many;
- ``GET, PUT /notifications/preferences/``: e-mail on or off per kind; ``PUT`` sets the kinds
  it lists, all or none, and refuses to switch off a kind the rules require (400 at its
  ``email``).

Every read starts from the caller's own rows, so another user's notification id is a 404.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from declarations.api.common import StrictCursorPagination, acting, valid_input
from declarations.api.serializers.notifications import (
    NotificationFilterInput,
    NotificationOutput,
    NotificationPreferencesInput,
    NotificationPreferencesOutput,
    NotificationsReadAllInput,
    NotificationsReadOutput,
)
from declarations.selectors.notifications import notification_email_choices, notification_list_of
from declarations.services.inbox import notification_preferences_set
from declarations.services.notifications import notifications_mark_read

ID = OpenApiParameter(
    "id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The notification's id."
)


class NotificationPagination(StrictCursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    max_page_size = 200


class NotificationViewSet(viewsets.GenericViewSet):
    """The caller's notifications only."""

    lookup_field = "code"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    serializer_class = NotificationOutput
    pagination_class = NotificationPagination

    def get_queryset(self) -> Any:
        return notification_list_of(user=self.request.user)

    @extend_schema(
        tags=["notifications"],
        parameters=[NotificationFilterInput],
        responses=NotificationOutput(many=True),
    )
    def list(self, request: Request) -> Response:
        """What the caller was told, newest first."""
        query = NotificationFilterInput(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        notifications = self.get_queryset()
        if "unread" in query.validated_data:
            unread = query.validated_data["unread"] == "true"
            notifications = notifications.filter(read_at__isnull=unread)
        page = self.paginate_queryset(notifications)
        context = self.get_serializer_context()
        return self.get_paginated_response(
            NotificationOutput(page, many=True, context=context).data
        )

    @extend_schema(
        tags=["notifications"], parameters=[ID], request=None, responses=NotificationOutput
    )
    @action(detail=True, methods=["post"])
    def read(self, request: Request, id: str) -> Response:
        """Mark one notification read (again: no change)."""
        notification = self.get_object()
        notifications_mark_read(user=acting(request), ids=[notification.pk])
        return Response(
            NotificationOutput(self.get_object(), context=self.get_serializer_context()).data
        )

    @extend_schema(
        tags=["notifications"], request=NotificationsReadAllInput, responses=NotificationsReadOutput
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        """Mark the caller's unread notifications read (up to a time, when given)."""
        data = NotificationsReadAllInput(data=request.data)
        data.is_valid(raise_exception=True)
        marked = notifications_mark_read(
            user=acting(request), up_to=data.validated_data.get("up_to")
        )
        return Response(NotificationsReadOutput({"marked": marked}).data)


class NotificationPreferencesView(APIView):
    """Which kinds also come by e-mail: a resource of its own, next to the list."""

    @extend_schema(tags=["notifications"], responses=NotificationPreferencesOutput)
    def get(self, request: Request) -> Response:
        """Every kind, with the caller's choice and whether the rules require it."""
        return self._respond(request)

    @extend_schema(
        tags=["notifications"],
        request=NotificationPreferencesInput,
        responses=NotificationPreferencesOutput,
    )
    def put(self, request: Request) -> Response:
        """Set the kinds listed, all or none; the others keep their choice."""
        items = valid_input(NotificationPreferencesInput, request)["preferences"]
        try:
            notification_preferences_set(
                user=acting(request), emails={item["kind"]: item["email"] for item in items}
            )
        except DjangoValidationError as exc:
            # the service refuses by kind, and only ever the e-mail (the input serializer
            # checked the kinds): each message goes to its item, keyed by its index as DRF
            # keys the errors of a list, so that every refusal here has one shape
            index = {item["kind"]: i for i, item in enumerate(items)}
            raise serializers.ValidationError(
                {
                    "preferences": {
                        str(index[kind]): {"email": messages}
                        for kind, messages in exc.message_dict.items()
                    }
                }
            ) from None
        return self._respond(request)

    def _respond(self, request: Request) -> Response:
        choices = notification_email_choices(user=request.user)
        return Response(NotificationPreferencesOutput({"preferences": choices}).data)
