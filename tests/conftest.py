"""Personas and shared fixtures.

``org`` builds one body with every persona (see ``builders.Org`` for who may do what); the
persona fixtures below are shortcuts to its users.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.utils import translation
from hypothesis import HealthCheck, settings

from tests.builders import Org, build_org

settings.register_profile(
    "default",
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("default")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (the test command runs these there)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    """Rate-limit counters live in the cache and are keyed by user id, which a rolled-back
    test database hands out again: every test starts with none. A test that switches the
    language (a page in Russian) leaves the next one in the settings' language."""
    cache.clear()
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture
def org(db: None) -> Org:
    return build_org()


@pytest.fixture
def servant(org: Org) -> Any:
    """Files notices; sees only their own declarations."""
    return org.servant


@pytest.fixture
def manager(org: Org) -> Any:
    """Direct superior of servant and servant2: reviews their notices."""
    return org.manager


@pytest.fixture
def outsider(org: Org) -> Any:
    """Management of another body: sees and does nothing here."""
    return org.outsider
