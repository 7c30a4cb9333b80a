"""PDF benchmark (issue 4): render and seal costs, export throughput, worker memory.

Run (builds its own small database in a temporary folder; nothing to prepare):

    python -m bench.pdf [--export-declarations 60] [--rounds 7]

Prints, interleaved in one run (A, B, C, A, B, C, ...) and as medians:

1. for a 2-page notice, a 5-page and a 20-page dossier: ms per record for the project's render
   (shared fonts, fetcher and stylesheet, PDF/A-3b), for the seal, and for raw WeasyPrint with
   default settings on the same HTML — targets: render ≤ 0.7× raw; ≤ 220 ms per page; 20-page
   ms/page ≤ 1.15× 5-page ms/page; a sealed 2-page notice ≤ 1.15× its render;
2. bulk-export throughput (dossiers per minute) with 1 and 2 worker processes on five-page
   dossiers, and the time 1,000 of them would take — target ≤ 8 minutes on 2 cores;
3. a worker's resident memory after 20 and after 200 records — target: flat.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

VAR = Path(tempfile.mkdtemp(prefix="coi-bench-pdf-"))
os.environ["COI_VAR_DIR"] = str(VAR)
os.environ.pop("DATABASE_URL", None)
os.environ["COI_SEAL_ALLOW_DEVELOPMENT"] = "true"
os.environ["COI_DEV_SEAL_DIR"] = str(VAR / "seal")
os.environ["COI_RECORD_LANGUAGE"] = "ru"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from weasyprint import CSS, HTML  # noqa: E402
from weasyprint.text.fonts import FontConfiguration  # noqa: E402

from declarations.models import Record  # noqa: E402
from declarations.records.content import record_html  # noqa: E402
from declarations.records.issuing import dossier_record, record_issue  # noqa: E402
from declarations.records.pdf import ASSET_ROOT, STYLESHEET, render_pdf  # noqa: E402
from declarations.records.signing import current_seal, pdf_sign  # noqa: E402
from declarations.services.declarations import declaration_comment  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def raw_weasyprint(html: str) -> bytes:
    """WeasyPrint as its documentation shows it: default fetcher and options, the same HTML and
    stylesheet, and a ``FontConfiguration`` for the stylesheet's ``@font-face`` rules.

    Without that font configuration WeasyPrint ignores ``@font-face`` in a stylesheet object and
    silently sets the text in whatever the system's fontconfig offers for the family — DejaVu
    Sans on this machine, another font (or boxes for Kazakh letters) elsewhere — which is not
    the same document.
    """
    font_config = FontConfiguration()
    stylesheet = CSS(filename=str(ASSET_ROOT / STYLESHEET), font_config=font_config)
    return HTML(string=html, base_url=str(ASSET_ROOT / "pdf") + "/").write_pdf(
        stylesheets=[stylesheet], font_config=font_config
    )


def build(export_declarations: int) -> dict[str, Any]:
    from declarations.services.transitions import declaration_submit
    from tests.builders import build_org, declaration_in, new_draft

    with transaction.atomic():
        org = build_org()
        notice_declaration = new_draft(
            org,
            personal_interest="Мой брат участвует в тендере как учредитель поставщика. " * 35,
        )
        declaration_submit(declaration=notice_declaration, actor=org.servant)

        def dossier_declaration(comments: int) -> Any:
            declaration = declaration_in(org, "resolved")
            for i in range(comments):
                declaration_comment(
                    declaration=declaration,
                    actor=org.ethics,
                    text=f"Проверка № {i}: запрошены документы о закупке, ответ получен. " * 3,
                )
            return declaration

        five, twenty = dossier_declaration(22), dossier_declaration(120)
        for _ in range(export_declarations):
            dossier_declaration(22)
    for record in Record.objects.filter(status="pending"):
        record_issue(record_id=record.pk)
    notice = Record.objects.get(declaration=notice_declaration)
    return {
        "org": org,
        "notice": notice,
        "dossier5": dossier(five, org.auditor),
        "dossier20": dossier(twenty, org.auditor),
    }


def dossier(declaration: Any, reader: Any) -> Record:
    record = dossier_record(declaration=declaration, reader=reader, language="ru")
    record.save()
    return record


def interleaved(arms: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in arms}
    for fn in arms.values():
        fn()  # warm-up
    for _ in range(rounds):
        for name, fn in arms.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--export-declarations", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(f"building the data in {VAR} ...", flush=True)
    call_command("migrate", verbosity=0)
    data = build(args.export_declarations)
    seal = current_seal()
    docs = {}
    for name in ("notice", "dossier5", "dossier20"):
        record = data[name]
        html, embedded = record_html(record, development=True)
        rendered = render_pdf(html, attachments=embedded)
        docs[name] = (html, embedded, rendered)
        print(f"{name}: {rendered.pages} pages, {len(embedded)} embedded records", flush=True)

    arms: dict[str, Callable[[], Any]] = {}
    for name, (html, embedded, rendered) in docs.items():
        arms[f"{name} render"] = lambda h=html, e=embedded: render_pdf(h, attachments=e)
        arms[f"{name} raw"] = lambda h=html: raw_weasyprint(h)
        arms[f"{name} sign"] = lambda d=rendered.data: pdf_sign(pdf=d, reason="bench", seal=seal)
    # The per-document cost that is not layout: one line of text, same stylesheet and fonts.
    # This is all a renderer can save over WeasyPrint's defaults on the same HTML.
    one_line = "<p>Хабарлама · Уведомление · Notice — әғқңөұүһі</p>"
    arms["one line render"] = lambda: render_pdf(one_line)
    arms["one line raw"] = lambda: raw_weasyprint(one_line)
    ms = interleaved(arms, args.rounds)

    print("\n== 1. render and seal (medians, interleaved) ==")
    print(
        f"{'document':<10} {'pages':>5} {'render':>9} {'raw WP':>9} {'ratio':>6} "
        f"{'ms/page':>8} {'sign':>7}"
    )
    per_page = {}
    for name, (_h, _e, rendered) in docs.items():
        render, raw, sign = ms[f"{name} render"], ms[f"{name} raw"], ms[f"{name} sign"]
        per_page[name] = render / rendered.pages
        print(
            f"{name:<10} {rendered.pages:>5} {render:>8.1f}ms {raw:>8.1f}ms "
            f"{render / raw:>6.2f} {per_page[name]:>8.1f} {sign:>6.1f}ms"
        )
    fixed_saved = ms["one line raw"] - ms["one line render"]
    print(
        f"one line: render {ms['one line render']:.1f}ms, raw WP {ms['one line raw']:.1f}ms "
        f"— the per-document cost shared fonts, fetcher and stylesheet save: {fixed_saved:.1f}ms"
    )
    notice_render = ms["notice render"]
    print(
        "render ≤ 0.7× raw:        "
        + ", ".join(f"{n} {ms[f'{n} render'] / ms[f'{n} raw']:.2f}" for n in docs)
    )
    print(f"≤ 220 ms/page:            max {max(per_page.values()):.1f}")
    print(
        f"linear (20p/5p per page): {per_page['dossier20'] / per_page['dossier5']:.2f} "
        "(target ≤ 1.15)"
    )
    print(
        f"sealed notice / render:   {(notice_render + ms['notice sign']) / notice_render:.2f} "
        "(target ≤ 1.15)"
    )

    print("\n== 2. bulk export (five-page dossiers) ==")
    from io import StringIO

    auditor = data["org"].auditor.username
    for workers in (1, 2):
        out = VAR / f"export-{workers}.zip"
        gc.collect()
        start = time.perf_counter()
        call_command(
            "export_dossiers",
            "--auditor",
            auditor,
            "--workers",
            str(workers),
            "--language",
            "ru",
            "--output",
            str(out),
            stdout=StringIO(),
        )
        seconds = time.perf_counter() - start
        count = (
            Record.objects.filter(kind="dossier", export__isnull=False)
            .order_by("-export__created_at")
            .first()
            .export.total
        )
        rate = count / seconds * 60
        print(
            f"{workers} worker(s): {count} dossiers in {seconds:.1f} s = {rate:.0f}/min; "
            f"1,000 would take {1000 / rate:.1f} min (target ≤ 8 min on 2 cores)"
        )

    print("\n== 3. worker memory (render + seal of notices in one process) ==")
    html, embedded, _ = docs["notice"]
    marks = {}
    for i in range(1, 201):
        pdf_sign(pdf=render_pdf(html).data, reason="bench", seal=seal)
        if i in (20, 200):
            gc.collect()
            marks[i] = rss_mb()
    print(
        f"RSS after 20: {marks[20]:.1f} MB, after 200: {marks[200]:.1f} MB "
        f"(growth {marks[200] - marks[20]:+.1f} MB)"
    )


if __name__ == "__main__":
    main()
