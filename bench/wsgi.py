"""WSGI for the load test: the project with the benchmarks' settings (``bench/settings.py``).

``COI_BENCH_SCOPE=before`` serves the visibility scope as it was before issue 17's fix
(``bench/scope_before.py``), for the side-by-side knee of ``bench/load.py --scope before``.
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
application = get_wsgi_application()

if os.environ.get("COI_BENCH_SCOPE") == "before":
    from bench import scope_before

    scope_before.install()
