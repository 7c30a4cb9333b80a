"""Notifications get a public id (STYLE.md rule 17): their pages, API and e-mail Message-ID name
them by UUID, never by the row's integer id (issue 16). Existing rows each get their own."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    Notification = apps.get_model("declarations", "Notification")
    for pk in Notification.objects.filter(code__isnull=True).values_list("pk", flat=True):
        Notification.objects.filter(pk=pk).update(code=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("declarations", "0023_checkpoint_high_water")]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="code",
            field=models.UUIDField(editable=False, null=True, verbose_name="public id"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="notification",
            name="code",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, unique=True, verbose_name="public id"
            ),
        ),
    ]
