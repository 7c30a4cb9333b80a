"""The scheduler's own state (issue 16): one row per periodic job, with a lease.

A scheduler takes a job by a conditional UPDATE (due, and no live lease): of two schedulers
started at the same moment, one UPDATE matches and the other matches nothing, on SQLite and on
PostgreSQL alike. The lease runs out on its own if the scheduler holding it dies.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScheduledJob(models.Model):
    name = models.CharField(_("job"), max_length=64, primary_key=True)
    next_run_at = models.DateTimeField(_("next run"))
    lease_owner = models.CharField(_("held by"), max_length=128, blank=True)
    lease_until = models.DateTimeField(_("held until"), null=True, blank=True)
    last_started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    last_result = models.CharField(_("last result"), max_length=255, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    runs = models.PositiveIntegerField(_("runs"), default=0)

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
