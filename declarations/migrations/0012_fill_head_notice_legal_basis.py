"""The legal basis of routing the head's own notice (decisions.md "The head's own notice").

Law 410-V Art. 15 p.2 addresses a notice to the direct manager or the organisation's
management; where the head of the body is the whole of its management, nobody there can
review their own conflict. The Code of Ethics (seeds/000 cl. 10(2)) names the ethics
commissioner beside the management as the one to be told; the body's settings may name an
official of the superior body instead. Administrators may edit both rows.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import migrations

CODE_2015 = "Code of Ethics for Civil Servants of the Republic of Kazakhstan (Decree No. 153 of 29.12.2015)"

REFERENCE = {
    "key": "code-2015-cl10-2",
    "act": CODE_2015,
    "clause": "10(2)",
    "edition_date": datetime.date(2015, 12, 29),
    "source_file": "000_106317a1e22a7756.txt",
    "text_kk": "өздеріне мәлім болған қызметтік әдеп нормаларының бұзу жағдайлары және мемлекеттік қызметке кір келтіретін тәртіптік теріс қылықтар туралы басшылыққа және әдеп жөніндегі уәкілге дереу хабарлауға (002, 10-тармақ 2-тармақша).",
    "text_ru": "незамедлительно доводить до сведения руководства и уполномоченного по этике о ставших известными случаях нарушения служебной этики (перевод).",
    "text_en": "immediately bring to the attention of the management and the ethics commissioner cases of violations of professional ethics that have become known to them.",
}

TOPIC = "route.head"
KEYS = ["law-410v-art15-p2", "code-2015-cl10-2"]


def fill(apps: Any, schema_editor: Any) -> None:
    LegalReference = apps.get_model("declarations", "LegalReference")
    LegalBasis = apps.get_model("declarations", "LegalBasis")
    LegalReference.objects.update_or_create(key=REFERENCE["key"], defaults=REFERENCE)
    for order, key in enumerate(KEYS):
        reference = LegalReference.objects.filter(key=key).first()
        if reference is not None:
            LegalBasis.objects.get_or_create(
                topic=TOPIC, reference=reference, defaults={"order": order}
            )


class Migration(migrations.Migration):
    dependencies = [("declarations", "0011_head_notice_reviewer")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
