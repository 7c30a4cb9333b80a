"""Personal-signature benchmark (issue 15): the time of a full verification of a notice signed
with the NCA test key — CMS, GOST signature, chain to the root, CRL — in pure Python.

Run (no database needed):

    python -m bench.eds [--rounds 15]

Prints medians over the rounds of

1. an uncached verification: the trust store (root self-signature, root -> CA) and the CRL
   (10 KB, 195 entries, its GOST signature) read and verified again every time (a process's
   first signature);
2. a cached verification: the CA chain and the CRL verified once per process, so each signature
   costs its own checks (messageDigest, the CMS signature, the signer's certificate by the CA)
   — target ≤ 500 ms.

The clock is pinned to 2026-12-01, inside the test certificates' and the CRL's validity.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

import time_machine  # noqa: E402
from django.conf import settings  # noqa: E402

from declarations.signatures import algorithms, conf  # noqa: E402
from declarations.signatures.cms import build_detached  # noqa: E402
from declarations.signatures.dev_signer import load_test_key  # noqa: E402
from declarations.signatures.verify import reset_caches, verify_signature  # noqa: E402

AT = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
NOTICE = b'{"action":"declaration.submitted","case":"3f6c","text":"I declare a conflict"}'
TARGET_MS = 500


def median_ms(rounds: int, before: Callable[[], None], run: Callable[[], object]) -> float:
    times = []
    for _ in range(rounds):
        before()
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds

    settings.COI_EDS_TRUSTED_ROOTS = [str(conf.TEST_ROOT)]
    settings.COI_EDS_CA_CERTS = [str(conf.TEST_CA)]
    settings.COI_EDS_CRLS = [str(conf.TEST_CRL)]
    settings.COI_EDS_OCSP_URL = ""

    with time_machine.travel(AT, tick=True):
        # The signature NCALayer would send, made with the real test key.
        private, certificate, curve_oid = load_test_key("individual/valid")
        cms = build_detached(
            content_digest=algorithms.digest(algorithms.GOST_512, NOTICE),
            certificate=certificate,
            algorithm=algorithms.GOST_512,
            sign=lambda data: algorithms.gost_sign(
                algorithm=algorithms.GOST_512,
                curve_oid=curve_oid,
                private_key_le=private,
                data=data,
            ),
            signing_time=AT,
        )

        def verify() -> object:
            return verify_signature(cms, content=NOTICE, iin="123456789011", at=AT)

        uncached = median_ms(rounds, reset_caches, verify)
        reset_caches()
        verify()  # warm the per-process caches once
        cached = median_ms(rounds, lambda: None, verify)

    print(f"full verification (CMS, GOST, chain, CRL), median of {rounds} rounds:")
    print(f"  uncached (trust store and CRL verified each time): {uncached:7.1f} ms")
    verdict = "ok" if cached <= TARGET_MS else "OVER TARGET"
    print(
        f"  cached (CA chain and CRL verified once per process): {cached:5.1f} ms  "
        f"(target ≤ {TARGET_MS} ms: {verdict})"
    )


if __name__ == "__main__":
    main()
