from __future__ import annotations

import re

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

#: A clause as the legal-references table writes it: "8", "8 p.2" (its second paragraph),
#: "8 p.2(1)" (item 1 of that paragraph), "9(2)" (item 2 of clause 9).
_CLAUSE = re.compile(
    r"^(?P<clause>[\w.-]+?)(?:\s*p\.\s*(?P<paragraph>\w+))?(?:\((?P<item>\w+)\))?$"
)


def _language(language: str | None) -> str:
    return (language or translation.get_language() or "ru")[:2]


def cite_where(article: str, clause: str, language: str | None = None) -> str:
    """Where in an act, in ``language``'s own citation form (the catalogue holds the forms):
    en "Art. 15, cl. 3", ru «ст. 15, п. 3», kk «15-бап, 3-тармақ» (as 002 and 003 cite:
    «9-тармақ», «2) тармақша»)."""
    parts: list[str] = []
    with translation.override(_language(language)):
        if article:
            parts.append(pgettext("legal citation", "Art. %(n)s") % {"n": article.strip()})
        if clause:
            match = _CLAUSE.match(clause.strip())
            if match is None:  # an administrator's free-form clause: cited as written
                parts.append(pgettext("legal citation", "cl. %(n)s") % {"n": clause.strip()})
            else:
                parts.append(pgettext("legal citation", "cl. %(n)s") % {"n": match["clause"]})
                if match["paragraph"]:
                    parts.append(
                        pgettext("legal citation", "para. %(n)s") % {"n": match["paragraph"]}
                    )
                if match["item"]:
                    parts.append(pgettext("legal citation", "item %(n)s") % {"n": match["item"]})
    return ", ".join(parts)


def cite(act: str, article: str, clause: str, language: str | None = None) -> str:
    """``act``, then where in it: one citation in one language."""
    where = cite_where(article, clause, language)
    return f"{act}, {where}" if where else act


def citation_identity(act: str, article: str, clause: str) -> tuple[str, str, str]:
    """What makes two citations the same reference, whatever their keys or spacing."""

    def norm(value: str) -> str:
        return " ".join(value.split()).casefold()

    return norm(act), norm(article), norm(clause).replace(" ", "")


class LegalReference(models.Model):
    """A clause of a legal act, editable because acts are replaced and articles move."""

    key = models.SlugField(_("key"), max_length=64, unique=True)
    act = models.CharField(_("act"), max_length=500)
    # The act's name as each language cites it (issue 14); ``act`` stays the key events froze.
    act_kk = models.CharField(_("act (Kazakh)"), max_length=500, blank=True)
    act_ru = models.CharField(_("act (Russian)"), max_length=500, blank=True)
    act_en = models.CharField(_("act (English)"), max_length=500, blank=True)
    article = models.CharField(_("article"), max_length=32, blank=True)
    clause = models.CharField(_("clause"), max_length=32, blank=True)
    edition_date = models.DateField(_("edition date"), null=True, blank=True)
    url = models.URLField(_("link"), blank=True)
    source_file = models.CharField(_("source text in seeds/"), max_length=64, blank=True)
    in_force = models.BooleanField(_("in force"), default=True)
    text_kk = models.TextField(_("text (Kazakh)"), blank=True)
    text_ru = models.TextField(_("text (Russian)"), blank=True)
    text_en = models.TextField(_("text (English)"), blank=True)

    class Meta:
        verbose_name = _("legal reference")
        verbose_name_plural = _("legal references")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.citation()

    def act_name(self, language: str | None = None) -> str:
        """The act's name as ``language`` (default: the active one) cites it; else ``act``."""
        value: str = getattr(self, f"act_{_language(language)}", "")
        return value or self.act

    def citation(self, language: str | None = None) -> str:
        """The act and the place in it, in ``language`` (default: the active one)."""
        return cite(self.act_name(language), self.article, self.clause, language)

    @property
    def identity(self) -> tuple[str, str, str]:
        """The same act, article and clause is the same reference, under any key."""
        return citation_identity(self.act, self.article, self.clause)

    def text(self, language: str | None = None) -> str:
        """The text in ``language`` (default: the active one), falling back to ru, then en."""
        lang = (language or translation.get_language() or "ru")[:2]
        for candidate in (lang, "ru", "en", "kk"):
            value: str = getattr(self, f"text_{candidate}", "")
            if value:
                return value
        return ""


class LegalBasis(models.Model):
    """Which references a transition or a measure kind rests on (editable by administrators)."""

    topic = models.CharField(
        _("topic"),
        max_length=64,
        help_text=_(
            "A transition name (e.g. 'submit') or a measure kind (e.g. 'measure.transfer')."
        ),
    )
    reference = models.ForeignKey(LegalReference, on_delete=models.CASCADE, related_name="bases")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("legal basis")
        verbose_name_plural = _("legal bases")
        ordering = ["topic", "order"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "reference"], name="legal_basis_unique")
        ]

    def __str__(self) -> str:
        return f"{self.topic}: {self.reference}"
