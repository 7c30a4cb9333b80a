"""Drafts: only the declarant edits or discards them; once filed, the text is frozen and
corrections are addenda (events)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from declarations.choices import AuditAction, DeclarationState
from declarations.models import Declaration
from declarations.services.declarations import (
    declaration_add_addendum,
    declaration_create,
    declaration_discard,
    declaration_update_draft,
)
from declarations.services.transitions import declaration_submit
from tests.builders import Org, declaration_in, new_draft

S = DeclarationState


def test_only_a_servant_files_a_notice(org: Org) -> None:
    with pytest.raises(PermissionDenied):
        new_draft(org, "auditor")


def test_future_awareness_and_bad_choices_are_refused_per_field(org: Org) -> None:
    with pytest.raises(ValidationError) as exc:
        new_draft(org, aware_since=timezone.localdate() + timedelta(days=1))
    assert "aware_since" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        declaration_create(
            actor=org.servant,
            conflict_type="maybe",
            category="gossip",
            matter="",
            personal_interest="x" * 6000,
            aware_since=timezone.localdate(),
        )
    assert {"conflict_type", "category", "matter", "personal_interest"} <= set(
        exc.value.message_dict
    )
    assert not Declaration.objects.exists()


def test_declarant_edits_their_draft(org: Org) -> None:
    declaration = new_draft(org)
    declaration_update_draft(declaration=declaration, actor=org.servant, matter="Tender 43")
    assert declaration.matter == "Tender 43"
    with pytest.raises(PermissionDenied):
        declaration_update_draft(declaration=declaration, actor=org.manager, matter="x")
    with pytest.raises(ValidationError):
        declaration_update_draft(declaration=declaration, actor=org.servant, state="resolved")


def test_filed_text_is_frozen_and_corrected_by_addenda(org: Org) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    with pytest.raises(TransitionNotAllowed):
        declaration_update_draft(declaration=declaration, actor=org.servant, matter="Changed")
    declaration_add_addendum(declaration=declaration, actor=org.servant, text="Also my uncle bids.")
    declaration.refresh_from_db()
    assert declaration.matter == "Tender 42"
    events = list(declaration.events.order_by("seq"))
    assert events[0].data["notice"]["matter"] == "Tender 42"
    assert (
        events[1].action == AuditAction.ADDENDUM and events[1].data["text"] == "Also my uncle bids."
    )


def test_discard_deletes_only_drafts_and_only_the_declarants(org: Org) -> None:
    declaration = new_draft(org)
    with pytest.raises(PermissionDenied):
        declaration_discard(declaration=declaration, actor=org.manager)
    declaration_discard(declaration=declaration, actor=org.servant)
    assert not Declaration.objects.filter(pk=declaration.pk).exists()
    filed = declaration_in(org, S.SUBMITTED)
    with pytest.raises(TransitionNotAllowed):
        declaration_discard(declaration=filed, actor=org.servant)


def test_notice_to_manager_without_a_manager_is_refused(org: Org) -> None:
    declaration = new_draft(org, "head")
    with pytest.raises(ValidationError) as exc:
        declaration_submit(declaration=declaration, actor=org.head)
    assert "addressee" in exc.value.message_dict
    declaration.refresh_from_db()
    assert declaration.state == S.DRAFT and declaration.registration_number is None


def test_registration_numbers_are_sequential_per_body_and_year(org: Org) -> None:
    numbers = [declaration_in(org, S.SUBMITTED).registration_number for _ in range(3)]
    year = timezone.localdate().year
    assert numbers == [f"T-{year}-{i:06d}" for i in (1, 2, 3)]
