"""Name every act in the legal-references table in Kazakh, Russian and English (issue 14).

A Kazakh or Russian record cited Law 410-V and the Code of Ethics in English and the Almaty
rules in Kazakh only. The names are the acts' own titles as the source texts give them:

- the Almaty rules: seeds/003 (kk) — the title «Алматы қаласы әкімдігі мемлекеттік
  қызметшілерінің қызметтік этика қағидалары» and the resolution that approved them,
  «Алматы қаласы әкімдігінің 2013 жылғы 28 қарашадағы N 4/1030 қаулысы»;
- the Code of Ethics: seeds/002 (kk) and seeds/000 (en), approved by Decree No. 153 of
  29.12.2015;
- Law No. 410-V of 18.11.2015: named by seeds/002 cl. 2 («Сыбайлас жемқорлыққа қарсы
  іс-қимыл туралы» 2015 жылғы 18 қарашадағы Қазақстан Республикасының заңы) and seeds/000
  cl. 2; its Russian title is the official one («О противодействии коррупции»).

Rows are matched by the act each earlier data migration (0002, 0012) wrote, so a reference an
administrator added for the same act is named too; a name an administrator already gave is
kept. This migration never imports project code.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

#: The ``act`` the earlier data migrations wrote (0002, 0012), and its names.
AKIMAT = (
    "Алматы қаласы әкімдігінің 2013 жылғы 28 қарашадағы N 4/1030 қаулысымен бекітілген қызмет "
    "этикасы қағидалары (күші жойылған 05.07.2016)"
)
CODE_2015 = (
    "Code of Ethics for Civil Servants of the Republic of Kazakhstan (Decree No. 153 of 29.12.2015)"
)
LAW_410 = "Law of the Republic of Kazakhstan No. 410-V of 18.11.2015 “On Combating Corruption”"

NAMES: dict[str, dict[str, str]] = {
    AKIMAT: {
        "act_kk": (
            "Алматы қаласы әкімдігі мемлекеттік қызметшілерінің қызметтік этика қағидалары "
            "(Алматы қаласы әкімдігінің 2013 жылғы 28 қарашадағы № 4/1030 қаулысымен бекітілген)"
        ),
        "act_ru": (
            "Правила служебной этики государственных служащих акимата города Алматы "
            "(утверждены постановлением акимата города Алматы от 28 ноября 2013 года № 4/1030)"
        ),
        "act_en": (
            "Rules of service ethics of civil servants of the Almaty city akimat "
            "(approved by resolution of the Almaty city akimat No. 4/1030 of 28 November 2013)"
        ),
    },
    CODE_2015: {
        "act_kk": (
            "Қазақстан Республикасы мемлекеттік қызметшілерінің әдеп кодексі "
            "(Қазақстан Республикасы Президентінің 2015 жылғы 29 желтоқсандағы № 153 "
            "Жарлығымен бекітілген)"
        ),
        "act_ru": (
            "Этический кодекс государственных служащих Республики Казахстан "
            "(утверждён Указом Президента Республики Казахстан от 29 декабря 2015 года № 153)"
        ),
        "act_en": (
            "Code of Ethics for Civil Servants of the Republic of Kazakhstan "
            "(approved by Decree of the President of the Republic of Kazakhstan No. 153 "
            "of 29 December 2015)"
        ),
    },
    LAW_410: {
        "act_kk": (
            "«Сыбайлас жемқорлыққа қарсы іс-қимыл туралы» Қазақстан Республикасының "
            "2015 жылғы 18 қарашадағы № 410-V Заңы"
        ),
        "act_ru": (
            "Закон Республики Казахстан от 18 ноября 2015 года № 410-V "
            "«О противодействии коррупции»"
        ),
        "act_en": (
            "Law of the Republic of Kazakhstan No. 410-V of 18 November 2015 "
            "“On Combating Corruption”"
        ),
    },
}

#: The keys 0002 and 0012 created, for a row whose ``act`` an administrator has since edited.
KEYS: dict[str, str] = {
    "akimat-2013-cl6": AKIMAT,
    "akimat-2013-cl8-p1": AKIMAT,
    "akimat-2013-cl8-p2": AKIMAT,
    "akimat-2013-cl8-p2-1": AKIMAT,
    "akimat-2013-cl8-p2-2": AKIMAT,
    "akimat-2013-cl8-p2-3": AKIMAT,
    "akimat-2013-cl9": AKIMAT,
    "code-2015-cl9-2": CODE_2015,
    "code-2015-cl10-2": CODE_2015,
    "law-410v-art15-p1": LAW_410,
    "law-410v-art15-p2": LAW_410,
    "law-410v-art15-p3": LAW_410,
    "law-410v-art24": LAW_410,
}


def fill(apps: Any, schema_editor: Any) -> None:
    LegalReference = apps.get_model("declarations", "LegalReference")
    for reference in LegalReference.objects.all():
        act = reference.act if reference.act in NAMES else KEYS.get(reference.key)
        if act is None:
            continue
        changed = []
        for field, name in NAMES[act].items():
            if not getattr(reference, field):
                setattr(reference, field, name)
                changed.append(field)
        if changed:
            reference.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [("declarations", "0016_evidence")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
