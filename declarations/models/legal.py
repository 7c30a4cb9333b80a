from __future__ import annotations

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _


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
        parts = [
            self.act,
            self.article and f"art. {self.article}",
            self.clause and f"cl. {self.clause}",
        ]
        return ", ".join(p for p in parts if p)

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
