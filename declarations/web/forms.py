"""Input validation for the web pages only (STYLE.md rule 21): the services decide the rest.

Every text a reader types is a ``TextField``: in NFC, and refused if it holds an invisible format
or control character (``declarations.text``, issue 14), as the API's ``StrictCharField`` does.

Errors a service raises (``ValidationError`` keyed by field) are put back on these forms by
``common.put_errors``, so a page shows every message next to its field, in the reader's
language, with what was typed kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from declarations.choices import Addressee, Category, ConflictType, DeclarationState, MeasureKind
from declarations.dates import (
    DATE_CEILING,
    DATE_FLOOR,
    measure_bounds,
    past_bounds,
    validate_typed_date,
)
from declarations.models.declaration import MATTER_MAX, REASON_MAX
from declarations.selectors.notifications import EmailChoice
from declarations.text import clean_text

TEXT_MAX = 5000


class TextField(forms.CharField):
    """Free text (issue 14): stored in NFC with ``\\n`` line endings, and refused, with a
    message naming them, if it holds a bidirectional override, a zero-width or another format
    or control character. A field drawn as a ``Textarea`` takes lines (and tabs); any other
    takes one line. Every text field of these forms is one (``tests/test_text_input.py`` walks
    them), so none can be forgotten."""

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if not value:
            return value
        return clean_text(value, multiline=isinstance(self.widget, forms.Textarea))


class DateInput(forms.DateInput):
    """The browser's own date picker; it sends ISO dates whatever the reader's language.

    Its ``min``/``max`` are the typed bounds (``dates.typed_bounds``), so the picker offers no
    day the server refuses anyway; the fields check them again (a request need not come from
    the picker).
    """

    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        attrs = {"min": DATE_FLOOR.isoformat(), "max": DATE_CEILING.isoformat()}
        attrs.update(kwargs.pop("attrs", None) or {})
        super().__init__(format="%Y-%m-%d", attrs=attrs, **kwargs)


class TypedDateField(forms.DateField):
    """A filter's date, within ``DATE_FLOOR``..``DATE_CEILING`` (issue 12: 0001-01-01 used to
    reach the calendar maths and answer 500). Dates with bounds of their own (a notice's, a
    measure's, an order's) are checked against those, so that the message says which."""

    widget = DateInput
    default_validators = [validate_typed_date]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class LoginForm(AuthenticationForm):
    """Django's login form with our own messages (Django's Kazakh catalogue lacks them)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.error_messages = {
            "invalid_login": _(
                "The user name or the password is wrong. Both are case-sensitive. After "
                "%(limit)d wrong attempts, signing in is paused for %(minutes)d minutes."
            )
            % {
                "limit": settings.AXES_FAILURE_LIMIT,
                "minutes": round(float(settings.AXES_COOLOFF_TIME) * 60),
            },
            "inactive": _("This account is disabled."),
        }
        self.fields["username"].label = _("User name")
        self.fields["password"].label = _("Password")


class NoticeForm(forms.Form):
    """What a written notice of a conflict of interest says (DESIGN.md §2 R1, §6 fields)."""

    conflict_type = forms.ChoiceField(
        label=_("Is the conflict actual or potential?"),
        choices=ConflictType.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Actual: your personal interest already affects a matter you handle. Potential: it "
            "may come to affect it."
        ),
    )
    category = forms.ChoiceField(label=_("What kind of interest is it?"), choices=Category.choices)
    matter = TextField(
        label=_("The matter in your duties that the conflict concerns"),
        max_length=MATTER_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: the evaluation of bids in procurement No. 123."),
    )
    personal_interest = TextField(
        label=_("Your personal interest"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Who gains or loses, and how it touches you or people close to you."),
    )
    related_persons = TextField(
        label=_("Related persons (if any)"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Names and how they are related to you."),
    )
    aware_since = forms.DateField(
        label=_("When did you learn of the conflict?"),
        widget=DateInput(),
        help_text=_("The rules ask you to give notice as soon as you learn of it."),
    )
    addressee = forms.ChoiceField(
        label=_("Whom do you notify?"),
        choices=Addressee.choices,
        initial=Addressee.MANAGER,
        widget=forms.RadioSelect,
        help_text=_(
            "Your direct manager, unless they are a party to the conflict: then the management."
        ),
    )
    attachments = MultipleFileField(
        label=_("Supporting documents (PDF, PNG or JPEG; optional)"),
        required=False,
        help_text=_("You can add several files. Each one is kept with its SHA-256 checksum."),
    )

    def clean_aware_since(self) -> Any:
        """Not in the future (Almaty), not before ``DATE_FLOOR`` (as ``notice_validate``)."""
        value = self.cleaned_data["aware_since"]
        today = timezone.localdate()
        if value > today:
            raise forms.ValidationError(_("This date is in the future."))
        past_bounds(today=today).validate(value)
        return value


class OtherSourceForm(NoticeForm):
    """A declaration opened about a servant from information from other sources (R3)."""

    declarant = forms.TypedChoiceField(label=_("The servant concerned"), coerce=str)
    source_description = TextField(
        label=_("Where the information comes from"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    source_confidential = forms.BooleanField(
        label=_("The source is confidential (only ethics commissioners and auditors see it)"),
        required=False,
    )

    def __init__(self, *args: Any, servants: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["declarant"].choices = [("", "—"), *servants]  # type: ignore[attr-defined]
        del self.fields["attachments"]
        self.fields["aware_since"].label = _("When did the information arrive?")
        self.fields["matter"].label = _("The matter the conflict concerns")
        self.fields["personal_interest"].label = _("The servant's personal interest")


class ReasonForm(forms.Form):
    reason = TextField(
        label=_("Reason"), max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )


class CommentForm(forms.Form):
    text = TextField(
        label=_("Comment"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )


class AddendumForm(forms.Form):
    text = TextField(
        label=_("Addition or correction"),
        help_text=_("The filed notice stays as it was; this text is added to the case's record."),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MeasureForm(forms.Form):
    """One measure of a decision; an empty kind means the row is unused."""

    kind = forms.ChoiceField(
        label=_("Measure"), choices=[("", "—"), *MeasureKind.choices], required=False
    )
    matter = TextField(label=_("The matter handed over"), max_length=MATTER_MAX, required=False)
    substitute = forms.ChoiceField(label=_("Substitute"), required=False)
    description = TextField(
        label=_("Description"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    effective_date = forms.DateField(label=_("Effective date"), required=False, widget=DateInput())
    position = forms.ChoiceField(label=_("Vacant position"), required=False)
    proposed_date = forms.DateField(label=_("Proposed date"), required=False, widget=DateInput())
    needs_order = forms.BooleanField(label=_("Needs an HR order"), required=False)

    def __init__(
        self,
        *args: Any,
        substitutes: list[tuple[str, str]],
        positions: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["substitute"].choices = [("", "—"), *substitutes]  # type: ignore[attr-defined]
        self.fields["position"].choices = [("", "—"), *positions]  # type: ignore[attr-defined]

    def _measure_date(self, name: str) -> Any:
        """The decision is made today (Almaty), and ``declaration_decide`` checks the same; here
        the message lands next to its field of its row."""
        value = self.cleaned_data[name]
        if value is not None:
            measure_bounds(decided_on=timezone.localdate()).validate(value)
        return value

    def clean_effective_date(self) -> Any:
        return self._measure_date("effective_date")

    def clean_proposed_date(self) -> Any:
        return self._measure_date("proposed_date")


class DecideForm(forms.Form):
    reason = TextField(
        label=_("Reasons for the decision"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    substitute_search = TextField(
        label=_("Find a substitute by name"), max_length=100, required=False
    )
    position_search = TextField(
        label=_("Find a vacant position by title or unit"), max_length=100, required=False
    )


class ConsentForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Your answer"),
        choices=[("accept", _("I agree to the transfer")), ("decline", _("I decline"))],
        widget=forms.RadioSelect,
    )
    reason = TextField(
        label=_("Reasons (required when you decline)"),
        max_length=REASON_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ImplementForm(forms.Form):
    order_number = TextField(label=_("Order number"), max_length=64)
    # its bounds (the decision's day to today) are the service's, which knows the decision
    order_date = forms.DateField(label=_("Order date"), widget=DateInput())


class ReassignForm(forms.Form):
    reviewer = forms.ChoiceField(label=_("New reviewer"))
    reason = TextField(
        label=_("Reason"), max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, reviewers: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].choices = [("", "—"), *reviewers]  # type: ignore[attr-defined]


STATE_CHOICES = [("", _("Any state")), *DeclarationState.choices]


class DeclarationFilterForm(forms.Form):
    """Search and filters of the declaration lists (GET; an invalid filter is a 400 at its field,
    the list shown unfiltered)."""

    q = TextField(label=_("Search"), max_length=100, required=False)
    state = forms.ChoiceField(label=_("State"), choices=STATE_CHOICES, required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    submitted_from = TypedDateField(label=_("Filed from"), required=False)
    submitted_to = TypedDateField(label=_("Filed until"), required=False)


RECORD_LANGUAGES = [
    ("kk", _("Kazakh")),
    ("ru", _("Russian")),
    ("en", _("English")),
    ("kk-ru", _("Kazakh and Russian side by side")),
]


class ExportForm(forms.Form):
    body = forms.MultipleChoiceField(
        label=_("State bodies"), widget=forms.CheckboxSelectMultiple, required=False
    )
    state = forms.MultipleChoiceField(
        label=_("States"),
        choices=DeclarationState.choices[1:],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    submitted_from = TypedDateField(label=_("Filed from"), required=False)
    submitted_to = TypedDateField(label=_("Filed until"), required=False)
    language = forms.ChoiceField(label=_("Language of the dossiers"), choices=RECORD_LANGUAGES)

    def __init__(self, *args: Any, bodies: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].choices = bodies  # type: ignore[attr-defined]


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=settings.LANGUAGES)
    # a path on this site to go back to, checked by the view: not text, and reaches no record
    next = forms.CharField(required=False)


#: the same words as the service's refusal (``notification_preference_set``): one msgid
MANDATORY_REASON = _("The rules require this notification; its e-mail cannot be switched off.")


class NotificationEmailForm(forms.Form):
    """One checkbox per kind of notification: its e-mail on or off (issue 16). A kind the
    rules require is shown on and disabled, with the reason; being disabled, it ignores
    whatever is posted for it, and the service would refuse it anyway."""

    def __init__(self, *args: Any, choices: Sequence[EmailChoice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for choice in choices:
            self.fields[choice.kind.value] = forms.BooleanField(
                label=choice.kind.label,
                required=False,
                initial=choice.email,
                disabled=choice.mandatory,
                help_text=MANDATORY_REASON if choice.mandatory else "",
            )

    def emails(self) -> dict[str, bool]:
        """The choices the reader may make, as sent: ``{kind: e-mail on}``."""
        return {
            name: bool(value)
            for name, value in self.cleaned_data.items()
            if not self.fields[name].disabled
        }
