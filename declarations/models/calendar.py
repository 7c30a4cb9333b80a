from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from declarations.choices import CalendarDayKind


class CalendarOverride(models.Model):
    """A day moved by government decree, applied on top of the ``holidays`` library.

    The library's KZ transfers stop at 2025, so administrators enter each year's decree here.
    """

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=CalendarDayKind.choices)
    reason = models.CharField(_("reason (decree)"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"
