"""Seed the legal-references table from the source texts (shared/seeds) and Law 410-V Art. 15.

Administrators edit these rows when acts are replaced; this migration never imports project code.
The Law 410-V texts are the product's own summaries of the article, marked as such, to be checked
against the official edition (the link) by the administrator.
"""

from __future__ import annotations

import datetime

from django.db import migrations

AKIMAT = "Алматы қаласы әкімдігінің 2013 жылғы 28 қарашадағы N 4/1030 қаулысымен бекітілген қызмет этикасы қағидалары (күші жойылған 05.07.2016)"
CODE_2015 = "Code of Ethics for Civil Servants of the Republic of Kazakhstan (Decree No. 153 of 29.12.2015)"
LAW_410 = "Law of the Republic of Kazakhstan No. 410-V of 18.11.2015 “On Combating Corruption”"

REFERENCES = [
    {
        "key": "akimat-2013-cl6",
        "act": AKIMAT, "clause": "6", "edition_date": datetime.date(2013, 11, 28),
        "source_file": "003_04c0ec54f7aabc7e.txt", "in_force": False,
        "text_kk": "Егер мүдделер қақтығысы бар болса, мемлекеттік қызметшінің лауазымдық өкілеттіктерді жүзеге асыруына тыйым салынады.",
        "text_ru": "При наличии конфликта интересов государственному служащему запрещается осуществлять должностные полномочия (перевод).",
        "text_en": "Where a conflict of interest exists, the civil servant is prohibited from exercising his official powers (translation).",
    },
    {
        "key": "akimat-2013-cl8-p1",
        "act": AKIMAT, "clause": "8 p.1", "edition_date": datetime.date(2013, 11, 28),
        "source_file": "003_04c0ec54f7aabc7e.txt", "in_force": False,
        "text_kk": "Туындаған мүдделер қақтығысы туралы немесе оның туындау мүмкіндігі туралы өзіне белгілі болған сәтте мемлекеттік қызметші өзінің тікелей басшысына немесе мемлекеттік органның басшылығына бұл туралы жазбаша түрде хабарлауға міндетті.",
        "text_ru": "Как только государственному служащему стало известно о возникшем конфликте интересов или о возможности его возникновения, он обязан письменно уведомить своего непосредственного руководителя или руководство государственного органа (перевод).",
        "text_en": "As soon as the civil servant learns that a conflict of interest has arisen, or may arise, he must notify his direct superior or the management of the state body in writing (translation).",
    },
    {
        "key": "akimat-2013-cl8-p2",
        "act": AKIMAT, "clause": "8 p.2", "edition_date": datetime.date(2013, 11, 28),
        "source_file": "003_04c0ec54f7aabc7e.txt", "in_force": False,
        "text_kk": "Тікелей басшысы немесе мемлекеттік органның басшылығы мемлекеттік қызметшінің өтініші бойынша немесе басқа көздерден ақпарат алған кезде, мүдделер қақтығысын болғызбау және оны реттеу бойынша уақтылы шаралар қабылдауға тиіс.",
        "text_ru": "Непосредственный руководитель или руководство государственного органа по обращению служащего или при получении информации из иных источников обязаны своевременно принять меры по предотвращению и урегулированию конфликта интересов (перевод).",
        "text_en": "The direct superior or the management, on the servant's notice or on information from other sources, must take timely measures to prevent and settle the conflict (translation).",
    },
    {
        "key": "akimat-2013-cl8-p2-1",
        "act": AKIMAT, "clause": "8 p.2(1)", "edition_date": datetime.date(2013, 11, 28),
        "source_file": "003_04c0ec54f7aabc7e.txt", "in_force": False,
        "text_kk": "оған байланысты мүдделер қақтығысы туындаған немесе туындауы мүмкін мәселе бойынша мемлекеттік қызметшінің лауазымдық міндеттерін атқаруды басқа адамға тапсыруға;",
        "text_ru": "поручить исполнение обязанностей по вопросу, в связи с которым возник или может возникнуть конфликт интересов, другому лицу (перевод);",
        "text_en": "assigning the performance of the duties on the matter in which the conflict arises or may arise to another person (translation);",
    },
    {
        "key": "akimat-2013-cl8-p2-2",
        "act": AKIMAT, "clause": "8 p.2(2)", "edition_date": datetime.date(2013, 11, 28),
        "source_file": "003_04c0ec54f7aabc7e.txt", "in_force": False,
        "text_kk": "мемлекеттік қызметшінің лауазымдық міндеттерін өзгертуге;",
        "text_ru": "изменить должностные обязанности государственного служащего (перевод);",
        "text_en": "changing the servant's official duties (translation);",
    },
    {
        "key": "akimat-2013-cl8-p2-3",
        "act": AKIMAT, "clause": "8 p.2(3)", "edition_date": datetime.date(2013, 11, 28),
        "source_file": "003_04c0ec54f7aabc7e.txt", "in_force": False,
        "text_kk": "Қазақстан Республикасының заңнамасында белгіленген тәртіппен мемлекеттік қызметшінің келісімі бойынша оны басқа лауазымға ауыстыруға тиіс.",
        "text_ru": "перевести государственного служащего с его согласия на другую должность в порядке, установленном законодательством (перевод).",
        "text_en": "transferring the servant to another position, with his consent, in the manner set by law (translation).",
    },
    {
        "key": "akimat-2013-cl9",
        "act": AKIMAT, "clause": "9", "edition_date": datetime.date(2013, 11, 28),
        "source_file": "003_04c0ec54f7aabc7e.txt", "in_force": False,
        "text_kk": "Мемлекеттік қызметші, оның тікелей басшысы және мемлекеттік органның басшылығы өздеріне белгілі болған мүдделер қақтығысы жағдайларын болғызбау және оны реттеу бойынша шаралар қабылдамағаны үшін тәртіптік жауапкершілікке тартылады.",
        "text_ru": "Государственный служащий, его непосредственный руководитель и руководство государственного органа несут дисциплинарную ответственность за непринятие мер по предотвращению и урегулированию известных им конфликтов интересов (перевод).",
        "text_en": "The civil servant, his direct superior and the management of the state body bear disciplinary liability for failing to take measures on conflicts of interest known to them (translation).",
    },
    {
        "key": "code-2015-cl9-2",
        "act": CODE_2015, "clause": "9(2)", "edition_date": datetime.date(2015, 12, 29),
        "source_file": "000_106317a1e22a7756.txt",
        "text_kk": "кадр мәселелерін шешуде туыстық, жерлестік және жеке адалдық белгілері бойынша артықшылық бермеуге (002, 9-тармақ 2-тармақша).",
        "text_ru": "при решении кадровых вопросов не оказывать предпочтения по признакам родства, землячества и личной преданности (перевод).",
        "text_en": "in deciding personnel issues not to give preference on the grounds of kinship, fraternity and personal devotion.",
    },
    {
        "key": "law-410v-art15-p1",
        "act": LAW_410, "article": "15", "clause": "1", "edition_date": datetime.date(2015, 11, 18),
        "url": "https://adilet.zan.kz/rus/docs/Z1500000410",
        "text_kk": "Мүдделер қақтығысы болған кезде лауазымдық міндеттерді атқаруға жол берілмейді (өнімнің қысқаша мазмұны; ресми мәтінмен салыстырыңыз).",
        "text_ru": "Исполнение должностных обязанностей при наличии конфликта интересов не допускается (краткое изложение; сверить с официальным текстом).",
        "text_en": "No duties are performed while a conflict of interest exists (summary; check against the official text).",
    },
    {
        "key": "law-410v-art15-p2",
        "act": LAW_410, "article": "15", "clause": "2", "edition_date": datetime.date(2015, 11, 18),
        "url": "https://adilet.zan.kz/rus/docs/Z1500000410",
        "text_kk": "Нақты немесе ықтимал мүдделер қақтығысы туралы белгілі болған бойда тікелей басшыға немесе ұйым басшылығына жазбаша хабарлау (қысқаша мазмұны; ресми мәтінмен салыстырыңыз).",
        "text_ru": "Письменно уведомить непосредственного руководителя или руководство организации о возникшем или возможном конфликте интересов, как только станет об этом известно (краткое изложение; сверить с официальным текстом).",
        "text_en": "Notify the direct manager or the organisation's management in writing of an actual or potential conflict of interest as soon as it is known (summary; check against the official text).",
    },
    {
        "key": "law-410v-art15-p3",
        "act": LAW_410, "article": "15", "clause": "3", "edition_date": datetime.date(2015, 11, 18),
        "url": "https://adilet.zan.kz/rus/docs/Z1500000410",
        "text_kk": "Тікелей басшы немесе ұйым басшылығы хабарлама бойынша немесе басқа көздерден ақпарат алған кезде уақтылы шаралар қабылдауға міндетті: 1) тұлғаны міндеттерден шеттетіп, мәселені басқа адамға тапсыру; 2) лауазымдық міндеттерді өзгерту; 3) өзге де шаралар (қысқаша мазмұны).",
        "text_ru": "Непосредственный руководитель или руководство организации по обращению или при получении информации из иных источников обязаны своевременно: 1) отстранить лицо и поручить исполнение обязанностей по вопросу другому лицу; 2) изменить должностные обязанности; 3) принять иные меры (краткое изложение).",
        "text_en": "The manager, on the notice or on information from other sources, must timely (1) remove the person from the duties and give the matter to another person, (2) change the duties, (3) take other measures (summary).",
    },
    {
        "key": "law-410v-art24",
        "act": LAW_410, "article": "24", "edition_date": datetime.date(2015, 11, 18),
        "url": "https://adilet.zan.kz/rus/docs/Z1500000410",
        "text_kk": "Сыбайлас жемқорлық құқық бұзушылық туралы хабарлаған адамды мемлекет қорғайды; оның мәліметтері құпия сақталады (қысқаша мазмұны).",
        "text_ru": "Лицо, сообщившее о коррупционном правонарушении, находится под защитой государства; сведения о нём конфиденциальны (краткое изложение).",
        "text_en": "A person who reports a corruption offence is protected by the state and their identity is kept confidential (summary).",
    },
]

BASES = {
    "submit": ["akimat-2013-cl8-p1", "law-410v-art15-p2"],
    "recusal": ["akimat-2013-cl6", "law-410v-art15-p1"],
    "open_from_source": ["akimat-2013-cl8-p2", "law-410v-art15-p3", "law-410v-art24"],
    "decide": ["akimat-2013-cl8-p2", "law-410v-art15-p3"],
    "measure.reassign": ["akimat-2013-cl8-p2-1", "law-410v-art15-p3"],
    "measure.change_duties": ["akimat-2013-cl8-p2-2", "law-410v-art15-p3"],
    "measure.transfer": ["akimat-2013-cl8-p2-3"],
    "measure.other": ["law-410v-art15-p3"],
    "deadline": ["akimat-2013-cl9"],
    "category.kinship": ["code-2015-cl9-2"],
}


def fill(apps, schema_editor):
    LegalReference = apps.get_model("declarations", "LegalReference")
    LegalBasis = apps.get_model("declarations", "LegalBasis")
    refs = {}
    for row in REFERENCES:
        ref, _ = LegalReference.objects.update_or_create(key=row["key"], defaults=row)
        refs[row["key"]] = ref
    for topic, keys in BASES.items():
        for order, key in enumerate(keys):
            LegalBasis.objects.get_or_create(topic=topic, reference=refs[key], defaults={"order": order})


class Migration(migrations.Migration):
    dependencies = [("declarations", "0001_initial")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
