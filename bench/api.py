"""API benchmark on the large demo org (DESIGN.md §6; issue 3).

Prerequisite, once (about 4 minutes on SQLite):

    COI_VAR_DIR=/tmp/coi-bench python manage.py migrate
    COI_VAR_DIR=/tmp/coi-bench python manage.py seed_demo --password PW \\
        --servants 100000 --declarations 200000

Run:

    COI_VAR_DIR=/tmp/coi-bench python -m bench.api

Three comparisons, each interleaved (A, B, A, B, ...) in one run so that drift hits both arms,
and reported as medians:

1. the declarations list (page of 50, an auditor of the 200,000-declaration body) through the API,
   against a plain Django view returning the same rows with ``.values()`` — target ≤ 2.5×;
2. page 1 against a page 50,000 rows deep (keyset cursor) — target ≤ 1.1×; page-number
   (OFFSET) pagination on the same query is shown for comparison;
3. a transition (``start_review``) with its audit event against the same transition with the
   audit write patched out — target ≤ 1.3×. Run inside a transaction that is rolled back, so
   the database is left as it was.
"""

from __future__ import annotations

import base64
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def interleave(arms: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in arms}
    for _ in range(3):  # warm-up
        for fn in arms.values():
            fn()
    for _ in range(rounds):
        for name, fn in arms.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: median_ms(samples) for name, samples in times.items()}


def cursor_at(position: Any) -> str:
    """A DRF cursor pointing at ``position`` (what ``next`` links carry)."""
    return base64.b64encode(urlencode({"p": str(position)}).encode("ascii")).decode("ascii")


def main() -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test import Client

    from declarations.choices import DeclarationState, Role
    from declarations.models import Declaration, StateBody
    from declarations.seeding.large_org import BENCH_SLUG
    from declarations.services import transitions
    from declarations.services.organization import role_grant

    body = StateBody.objects.filter(slug=BENCH_SLUG).first()
    if body is None:
        sys.exit("No large demo org here: run seed_demo --servants ... first (see the docstring).")
    total = Declaration.objects.filter(body=body).count()
    auditor, _ = get_user_model().objects.get_or_create(username="bench-auditor")
    role_grant(user=auditor, body=body, role=Role.AUDITOR)
    client = Client()
    client.force_login(auditor)
    print(f"database: {connection.vendor}; body {BENCH_SLUG!r}: {total:,} cases")

    def get(url: str) -> Callable[[], Any]:
        def call() -> Any:
            response = client.get(url)
            assert response.status_code == 200, response.content[:300]
            return response

        return call

    # 1. API page vs plain .values() page
    api_rows = get("/api/v1/declarations/?page_size=50")().json()["results"]
    plain_rows = get("/bench/plain/")().json()["results"]
    assert [r["id"] for r in api_rows] == [r["code"] for r in plain_rows], "not the same rows"
    r1 = interleave(
        {"api": get("/api/v1/declarations/?page_size=50"), "plain": get("/bench/plain/")},
        rounds=60,
    )
    print(
        f"1. list, page of 50: API {r1['api']:.1f} ms, plain .values() {r1['plain']:.1f} ms "
        f"-> {r1['api'] / r1['plain']:.2f}x (target <= 2.5x)"
    )

    # 2. page 1 vs a page 50,000 rows deep
    deep = (
        Declaration.objects.filter(body=body)
        .exclude(state=DeclarationState.DRAFT)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[50_000]
    )
    deep_url = f"/api/v1/declarations/?page_size=50&cursor={cursor_at(deep)}"
    assert len(get(deep_url)().json()["results"]) == 50

    from declarations.selectors import declaration_list_visible_to

    scoped = declaration_list_visible_to(user=auditor).order_by("-created_at")

    def offset_page(start: int) -> Callable[[], Any]:
        return lambda: list(scoped.values("code", "created_at")[start : start + 50])

    r2 = interleave(
        {
            "page1": get("/api/v1/declarations/?page_size=50"),
            "deep": get(deep_url),
            "offset1": offset_page(0),
            "offset_deep": offset_page(50_000),
        },
        rounds=40,
    )
    print(
        f"2. keyset: page 1 {r2['page1']:.1f} ms, 50,000 rows deep {r2['deep']:.1f} ms "
        f"-> {r2['deep'] / r2['page1']:.2f}x (target <= 1.1x); "
        f"OFFSET for comparison: {r2['offset1']:.1f} ms vs {r2['offset_deep']:.1f} ms "
        f"-> {r2['offset_deep'] / r2['offset1']:.2f}x"
    )

    # 3. start_review with and without its audit event (rolled back)
    submitted = list(
        Declaration.objects.filter(body=body, state=DeclarationState.SUBMITTED)
        .exclude(reviewer=None)
        .select_related("body", "declarant__user")[:400]
    )
    if len(submitted) < 200:
        sys.exit("Not enough submitted cases in the large org for the transition arm.")
    reviewers = {
        u.pk: u for u in get_user_model().objects.filter(pk__in={c.reviewer_id for c in submitted})
    }
    real_audit = transitions.audit_record

    def no_audit(**kwargs: Any) -> None:
        return None

    with_audit: list[float] = []
    without: list[float] = []
    try:
        with transaction.atomic():
            for i, declaration in enumerate(submitted):
                actor = reviewers[declaration.reviewer_id]
                audited = i % 2 == 0
                transitions.audit_record = real_audit if audited else no_audit  # type: ignore[assignment]
                start = time.perf_counter()
                transitions.declaration_start_review(declaration=declaration, actor=actor)
                elapsed = time.perf_counter() - start
                if i >= 10:  # warm-up
                    (with_audit if audited else without).append(elapsed)
            raise _Rollback
    except _Rollback:
        pass
    finally:
        transitions.audit_record = real_audit  # type: ignore[assignment]
    a, b = median_ms(with_audit), median_ms(without)
    print(
        f"3. start_review: with audit event {a:.2f} ms, without {b:.2f} ms -> {a / b:.2f}x "
        f"(target <= 1.3x; {len(with_audit)}+{len(without)} transitions, rolled back)"
    )


class _Rollback(Exception):
    pass


if __name__ == "__main__":
    main()
