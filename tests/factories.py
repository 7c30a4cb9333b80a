"""factory_boy factories for every model the tests build directly."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from declarations.models import CalendarOverride, Position, RoleGrant, Servant, StateBody, Unit


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.kz")
    password = factory.django.Password("pw")


class StateBodyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StateBody

    slug = factory.Sequence(lambda n: f"body{n}")
    name = factory.Sequence(lambda n: f"State body {n}")
    registration_prefix = "T"


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    body = factory.SubFactory(StateBodyFactory)
    name = factory.Sequence(lambda n: f"Unit {n}")


class PositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Position

    unit = factory.SubFactory(UnitFactory)
    body = factory.SelfAttribute("unit.body")
    title = factory.Sequence(lambda n: f"Position {n}")
    is_head = False


class ServantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Servant

    user = factory.SubFactory(UserFactory)
    position = factory.SubFactory(PositionFactory)
    body = factory.SelfAttribute("position.body")
    full_name = factory.Sequence(lambda n: f"Servant {n}")
    personnel_number = factory.Sequence(lambda n: f"N{n:05d}")


class RoleGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleGrant

    user = factory.SubFactory(UserFactory)
    body = factory.SubFactory(StateBodyFactory)
    role = "auditor"


class CalendarOverrideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CalendarOverride

    kind = "day_off"
    reason = "Government decree"
