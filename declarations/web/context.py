"""What every page's navigation needs to know about the reader: the roles they hold, and how
many of their notifications are unread (one query, on a partial index)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from declarations import selectors
from declarations.choices import Role
from declarations.selectors.notifications import notification_unread_count
from declarations.signatures.dev_signer import development_signer_available


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    signing = {
        # where sign.js finds NCALayer, and whether the development signer stands in (issue 15)
        "ncalayer_url": settings.COI_NCALAYER_URL,
        "dev_signer": development_signer_available(),
    }
    roles = {role for granted in selectors.grants_of(user).values() for role in granted}
    servant = selectors.servant_of(user)
    return {
        **signing,
        "nav": {
            "servant": servant is not None,
            "reviews": servant is not None,
            "overview": bool(roles & {Role.MANAGEMENT, Role.ETHICS_COMMISSIONER}),
            "hr": Role.HR in roles,
            "auditor": Role.AUDITOR in roles,
            "open_declaration": bool(roles & {Role.MANAGEMENT, Role.ETHICS_COMMISSIONER})
            or servant is not None,
            "unread": notification_unread_count(user=user),
        },
    }
