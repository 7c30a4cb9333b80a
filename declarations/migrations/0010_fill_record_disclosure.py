"""Dossiers issued before issue 12 were rendered with everything in them: the confidential
source and the internal comments. Mark them so, so that only readers entitled to both may
download them (``permissions.can_read_record``). Records of a step never carried either."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def fill(apps: Any, schema_editor: Any) -> None:
    Record = apps.get_model("declarations", "Record")
    dossiers = Record.objects.filter(kind="dossier")
    dossiers.update(internal_comments=True)
    dossiers.filter(declaration__source_confidential=True).update(confidential_source=True)


class Migration(migrations.Migration):
    dependencies = [("declarations", "0009_record_disclosure")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
