"""The visibility scope as it was before issue 17's fix (da8d13e^), for ``bench/load.py --scope
before``: one OR across the join with the servants, which PostgreSQL answers by reading every
declaration. Kept only so that the load test can put the knee with and without the fix side
by side on the same database, code and indexes; nothing in the product imports it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from declarations import selectors
from declarations.choices import DeclarationState, MeasureState, Role
from declarations.models import Declaration, Measure


def _needs_hr() -> Exists:
    return Exists(
        Measure.objects.filter(declaration=OuterRef("pk")).filter(
            Q(state=MeasureState.PENDING_ORDER) | ~Q(order_number="")
        )
    )


def declaration_list_visible_to(*, user: Any) -> QuerySet[Declaration]:
    qs = Declaration.objects.all()
    if not user.is_authenticated:
        return qs.none()
    grants = selectors.grants_of(user)
    wide = [
        b
        for b, roles in grants.items()
        if roles & {Role.MANAGEMENT, Role.ETHICS_COMMISSIONER, Role.AUDITOR}
    ]
    hr = [b for b, roles in grants.items() if Role.HR in roles and b not in wide]
    registered = ~Q(state=DeclarationState.DRAFT)
    scope = Q(declarant__user=user)
    scope |= registered & (Q(reviewer=user) | Q(opened_by=user))
    if wide:
        scope |= registered & Q(body_id__in=wide)
    if hr:
        qs = qs.annotate(_needs_hr=_needs_hr())
        scope |= registered & Q(body_id__in=hr, _needs_hr=True)
    return qs.filter(scope)


def install() -> None:
    """Every caller reaches the scope as ``selectors.declaration_list_visible_to`` (the module's
    own helpers through its globals), so replacing the module attribute replaces it everywhere."""
    selectors.declaration_list_visible_to = declaration_list_visible_to  # type: ignore[assignment]
