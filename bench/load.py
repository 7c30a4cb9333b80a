"""Load test of the production profile (issue 17): locust, headless, bounded in time, loopback.

    python -m bench.load --database-url postgres://coi@127.0.0.1:PORT/coi \\
        --servants 100000 --cases 200000 --users 10 25 50 100 --seconds 60

Against a PostgreSQL database (seeded with the large organisation when it has none), it starts
gunicorn (``--workers``, default 2) with the production settings (DEBUG off, no throttling: the
load comes from one address; ``bench/settings.py``) on a free loopback port, then for each
number of users runs locust for ``--seconds`` with think time (1–3 s) and this mix:

- servants: their own list (5), one of their cases (3), file and submit a notice (1);
- managers (unit heads, the reviewers): the inbox of submitted cases (5), open one (2), start
  its review (1);
- auditors: a search over the body (3), a case (2), the records list (1);
- the floor: the same scoped rows as the servants' list, from a bare Django view
  (``bench/plain-token/``: no serializer, no pagination), so each figure can be read against it.

It prints, per user count, p50/p99 per endpoint, throughput and errors, and the knee: the
first user count at which a read's p99 passes 100 ms or a transition's 300 ms. ``--scope
before`` serves the visibility scope as it was before the fix (``bench/scope_before.py``) with
everything else the same, for the knee "with and without". Nothing leaves the machine.
"""

from __future__ import annotations

from gevent import monkey  # type: ignore[import-untyped]

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # type: ignore[import-untyped]  # noqa: E402
from locust import HttpUser, between, task  # noqa: E402
from locust.env import Environment  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-load-password"  # noqa: S105 - a generated organisation on loopback
READ_P99_MS, WRITE_P99_MS = 100.0, 300.0
WRITES = {"submit", "start-review", "create"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def throwaway_postgres(folder: Path) -> tuple[str, Any]:
    """A PostgreSQL cluster in ``folder`` on a free loopback port (as ``.ci/test`` starts one;
    kept between runs so the seeded organisation is reused); returns its URL and a stopper."""
    binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data = folder / "pgdata"
    if not data.exists():
        folder.mkdir(parents=True, exist_ok=True)
        data.mkdir()
        if as_pg:
            subprocess.run(["chown", "-R", "postgres", str(folder)], check=True)  # noqa: S603,S607
        subprocess.run(  # noqa: S603
            [*as_pg, str(binaries / "initdb"), "-D", str(data), "-U", "coi", "--auth=trust"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    port = free_port()
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=200"
    pg_ctl = [*as_pg, str(binaries / "pg_ctl"), "-D", str(data)]
    subprocess.run(  # noqa: S603
        [*pg_ctl, "-l", str(data / "log"), "-w", "-o", options, "start"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    psql = [str(binaries / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "coi"]
    subprocess.run(  # noqa: S603
        [*psql, "-d", "postgres", "-qc", "CREATE DATABASE coi"],
        stderr=subprocess.DEVNULL,
        check=False,  # already there on a second run
    )

    def stop() -> None:
        subprocess.run(  # noqa: S603
            [*pg_ctl, "-m", "fast", "stop"],
            check=False,
            stdout=subprocess.DEVNULL,
        )

    return f"postgres://coi@127.0.0.1:{port}/coi", stop


def django_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DJANGO_DEBUG": "false",
            "PYTHONPATH": str(ROOT),
            # no record is issued here, but the start-up check wants a seal (coi.E022)
            "COI_SEAL_ALLOW_DEVELOPMENT": "true",
            "COI_DEV_SEAL_DIR": str(Path(tempfile.gettempdir()) / "coi-bench-load-seal"),
        }
    )
    return env


def prepare(database_url: str, servants: int, cases: int) -> dict[str, Any]:
    """Migrate, seed when empty, grant an auditor; return the usernames by role."""
    script = f"""
import django, json
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from declarations.models import RoleGrant, Servant, StateBody
from declarations.choices import Role
from declarations.seeding.large_org import BENCH_SLUG, seed_large
body = StateBody.objects.filter(slug=BENCH_SLUG).first()
if body is None:
    seed_large(servants={servants}, declarations={cases}, password={PASSWORD!r})
    body = StateBody.objects.get(slug=BENCH_SLUG)
    from django.db import connection
    if connection.vendor == "postgresql":
        connection.cursor().execute("ANALYZE")
people = list(Servant.objects.filter(body=body).order_by("personnel_number")
              .values_list("user__username", "position__is_head"))
heads = [u for u, head in people if head]
staff = [u for u, head in people if not head]
auditors = staff[-60:]
from django.contrib.auth import get_user_model
for username in auditors:
    RoleGrant.objects.get_or_create(user=get_user_model().objects.get(username=username),
                                    body=body, role=Role.AUDITOR)
print(json.dumps({{"heads": heads[:2000], "servants": staff[:20000], "auditors": auditors}}))
"""
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        env=django_env(database_url),
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def start_gunicorn(scope: str, database_url: str, port: int, workers: int) -> subprocess.Popen[Any]:
    env = django_env(database_url)
    env["COI_BENCH_SCOPE"] = scope
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bench.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--timeout=60",
            "--log-level=warning",
        ],
        env=env,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/verify/", timeout=2)
        except urllib.error.HTTPError:
            return server  # it answers (a GET on verify is a 405)
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("gunicorn did not start")


class Signed(HttpUser):
    abstract = True
    wait_time = between(1, 3)
    pool: list[str] = []

    def on_start(self) -> None:
        username = random.choice(self.pool)
        answer = self.client.post(
            "/api/v1/auth/token/",
            json={"username": username, "password": PASSWORD},
            name="sign-in",
        )
        self.client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
        self.cases: list[str] = []

    def _list(self, query: str, name: str) -> list[dict[str, Any]]:
        answer = self.client.get(f"/api/v1/declarations/?{query}", name=name)
        if answer.status_code != 200:
            return []
        return list(answer.json().get("results", []))

    def _open(self, name: str) -> Any:
        if not self.cases:
            return None
        code = random.choice(self.cases)
        return self.client.get(f"/api/v1/declarations/{code}/", name=name)


class ServantUser(Signed):
    weight = 6

    @task(5)
    def own_list(self) -> None:
        self.cases = [r["id"] for r in self._list("page_size=20", "servant: own list")]

    @task(3)
    def own_case(self) -> None:
        self._open("servant: a case")

    @task(1)
    def file_a_notice(self) -> None:
        draft = self.client.post(
            "/api/v1/declarations/",
            json={
                "conflict_type": "actual",
                "category": "kinship",
                "matter": f"Tender {random.randrange(10**6)}",
                "personal_interest": "A relative bids.",
                "aware_since": time.strftime("%Y-%m-%d"),
            },
            name="create",
        )
        if draft.status_code != 201:
            return
        self.client.post(
            f"/api/v1/declarations/{draft.json()['id']}/submit/",
            headers={"If-Match": draft.headers.get("ETag", "")},
            json={},
            name="submit",
        )


class ManagerUser(Signed):
    weight = 3

    @task(5)
    def inbox(self) -> None:
        rows = self._list("state=submitted&page_size=20", "manager: inbox")
        self.cases = [r["id"] for r in rows]

    @task(2)
    def open_case(self) -> None:
        self._open("manager: a case")

    @task(1)
    def start_review(self) -> None:
        case = self._open("manager: a case")
        if case is None or case.status_code != 200:
            return
        if "start_review" not in case.json().get("allowed_actions", []):
            return  # one of their own notices, or taken meanwhile
        self.client.post(
            f"/api/v1/declarations/{case.json()['id']}/start-review/",
            headers={"If-Match": case.headers.get("ETag", "")},
            json={},
            name="start-review",
        )
        self.cases.remove(case.json()["id"])


class AuditorUser(Signed):
    weight = 1

    @task(3)
    def search(self) -> None:
        word = random.choice(["Matter", "contract", "Interest"])
        self.cases = [r["id"] for r in self._list(f"search={word}&page_size=20", "auditor: search")]

    @task(2)
    def a_case(self) -> None:
        self._open("auditor: a case")

    @task(1)
    def records(self) -> None:
        if self.cases:
            code = random.choice(self.cases)
            self.client.get(f"/api/v1/declarations/{code}/records/", name="auditor: records")


class FloorUser(Signed):
    weight = 1

    @task
    def floor(self) -> None:
        self.client.get("/bench/plain-token/", name="floor: bare view, same rows")


def run(base: str, users: int, seconds: int, pools: dict[str, list[str]]) -> dict[str, Any]:
    # every simulated user signs in with a token of its own (issue 18), so two of them may
    # share a user name, as two devices of one person do
    ServantUser.pool = FloorUser.pool = pools["servants"]
    ManagerUser.pool = pools["heads"]
    AuditorUser.pool = pools["auditors"]
    env = Environment(user_classes=[ServantUser, ManagerUser, AuditorUser, FloorUser], host=base)
    runner = env.create_local_runner()
    ramp: dict[str, dict[str, Any]] = {}
    runner.start(users, spawn_rate=max(users / 5, 1))

    # The ramp-up (every user signing in: about half a second of PBKDF2 each, on purpose) is
    # reported on its own, and the steady state is measured once the last sign-in has been
    # answered. Resetting at ``spawning_complete`` instead, as the first runs did, counted the
    # queue of sign-ins still waiting for a worker into every endpoint's p99.
    def signed_in() -> Any:  # locust makes the entry at the first sign-in answered
        return env.stats.entries.get(("sign-in", "POST"))

    while signed_in() is None or signed_in().num_requests < users:
        gevent.sleep(0.2)
    gevent.sleep(2)  # the first requests after signing in, queued behind the last ones
    ramp["sign-in"] = {
        "requests": signed_in().num_requests,
        "failures": signed_in().num_failures,
        "p50": signed_in().get_response_time_percentile(0.5),
        "p99": signed_in().get_response_time_percentile(0.99),
    }
    env.stats.reset_all()
    gevent.sleep(seconds)
    runner.quit()
    rows = dict(ramp)
    for (name, _method), entry in sorted(env.stats.entries.items()):
        if entry.num_requests == 0:
            continue
        rows[name] = {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p50": entry.get_response_time_percentile(0.5),
            "p99": entry.get_response_time_percentile(0.99),
        }
    total = env.stats.total
    errors = {
        f"{e.name}: {e.error}"[:160]: e.occurrences
        for e in sorted(env.stats.errors.values(), key=lambda e: -e.occurrences)[:5]
    }
    return {
        "users": users,
        "rows": rows,
        "errors": errors,
        "rps": total.num_requests / max(seconds, 1),
        "failures": total.num_failures,
    }


def sign_in_storm(base: str, servants: list[str], seconds: int) -> dict[str, Any]:
    """300 servants sign in from one address (this machine) within ``seconds``, while a guesser
    tries wrong passwords for one of them from the same address, once a second."""
    chosen = servants[1:301]
    victim = servants[0]
    counts: dict[str, dict[str, int]] = {"servants": {}, "guesser": {}}

    def post(who: str, username: str, password: str) -> None:
        body = json.dumps({"username": username, "password": password}).encode()
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{base}/api/v1/auth/token/", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            status = str(urllib.request.urlopen(request, timeout=60).status)  # noqa: S310
        except urllib.error.HTTPError as refused:
            status = str(refused.code)
        except OSError as failed:  # no answer at all (the machine's cores saturated)
            status = type(failed).__name__
        counts[who][status] = counts[who].get(status, 0) + 1

    def guesser() -> None:
        for attempt in range(seconds):
            post("guesser", victim, f"guess-{attempt}")
            gevent.sleep(1)

    jobs = [gevent.spawn(guesser)]
    for i, username in enumerate(chosen):
        jobs.append(
            gevent.spawn_later(i * seconds / len(chosen), post, "servants", username, PASSWORD)
        )
    gevent.joinall(jobs)
    return counts


def over_the_line(result: dict[str, Any]) -> list[str]:
    late = []
    for name, row in result["rows"].items():
        limit = WRITE_P99_MS if name in WRITES else READ_P99_MS
        if name not in ("sign-in",) and not name.startswith("floor") and row["p99"] > limit:
            late.append(f"{name} p99 {row['p99']:.0f} ms")
    return late


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--servants", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--users", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--scope",
        choices=["after", "before"],
        default="after",
        help="before: the visibility scope as it was before issue 17's fix (bench/scope_before.py)",
    )
    parser.add_argument(
        "--storm",
        type=int,
        default=0,
        metavar="SECONDS",
        help="only the sign-in storm: 300 servants from one address within SECONDS, a guesser",
    )
    parser.add_argument(
        "--pg-dir",
        type=Path,
        default=Path(os.environ.get("TMPDIR", "/tmp")) / "coi-bench-load",  # noqa: S108
        help="where a throwaway cluster lives when no --database-url is given",
    )
    args = parser.parse_args()
    stop_postgres = None
    if not args.database_url:
        args.database_url, stop_postgres = throwaway_postgres(args.pg_dir)
    if not args.database_url.startswith("postgres"):
        raise SystemExit("--database-url postgres://… (the load test is about PostgreSQL)")
    try:
        measure(args)
    finally:
        if stop_postgres is not None:
            stop_postgres()


def measure(args: argparse.Namespace) -> None:
    pools = prepare(args.database_url, args.servants, args.cases)
    port = free_port()
    if args.storm:
        os.environ["COI_BENCH_THROTTLES"] = "on"  # the production limits, for the storm
    server = start_gunicorn(args.scope, args.database_url, port, args.workers)
    if args.storm:
        try:
            storm = sign_in_storm(f"http://127.0.0.1:{port}", pools["servants"], args.storm)
        finally:
            server.terminate()
            server.wait(timeout=30)
        print(f"sign-in storm, {args.storm} s, one address: {json.dumps(storm)}")
        print(
            f"  servants signed in: {storm['servants'].get('200', 0)} of 300; "
            f"guesser refused 429: {storm['guesser'].get('429', 0)}, "
            f"let in: {storm['guesser'].get('200', 0)}"
        )
        return
    results = []
    try:
        for users in args.users:
            print(f"==> {users} users for {args.seconds} s", flush=True)
            results.append(run(f"http://127.0.0.1:{port}", users, args.seconds, pools))
    finally:
        server.terminate()
        server.wait(timeout=30)
    for result in results:
        print(f"\n{result['users']} users: {result['rps']:.1f} req/s, {result['failures']} errors")
        print(f"  {'endpoint':40} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8}")
        for name, row in result["rows"].items():
            print(
                f"  {name:40} {row['requests']:>9} {row['failures']:>7} "
                f"{row['p50']:>8.0f} {row['p99']:>8.0f}"
            )
        for error, count in result["errors"].items():
            print(f"  error ×{count}: {error}")
        late = over_the_line(result)
        print("  over the lines: " + (", ".join(late) if late else "none"))
    knee = next((r["users"] for r in results if over_the_line(r)), None)
    print(
        f"\nknee (first user count past p99 100 ms reads / 300 ms writes): {knee or 'not reached'}"
    )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
