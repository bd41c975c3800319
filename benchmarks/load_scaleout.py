"""Scale-out under load: G gateways + R Rasa servers on PostgreSQL + Redis, full conversations.

    python benchmarks/load_scaleout.py [--conversations 200] [--gateways 2] [--rasa 3]
        [--baseline] [--seed N]

Starts, on this machine, one action server, ``--rasa`` Rasa servers and
``--gateways`` gateways (each gateway's ``JIESU_RASA_URL`` lists every Rasa server:
``bot.gateway.rasa_pool`` pins each conversation to one), all on one fresh
PostgreSQL database (tracker store, outbox, desk, surveys) with Rasa's Redis lock
store.  Then ``--conversations`` simulated residents (``tests/sim``: the same
population as ``dialogue_sim.py``, 4–8 turns each) talk **all at once**, spread
round-robin over the gateways' ``/api/chat``.  Printed: turns/s, turn latency
p50/p95, HTTP 5xx, and the invariants that say nothing was lost, duplicated or
crossed between conversations:

* ``a_ticket``  exactly one ticket per conversation that should have one (0 lost, 0 duplicated);
* ``b_values``  the ticket holds what *this* resident said (0 cross-talk);
* ``no_5xx``, ``terminates``.

``--baseline`` runs the same load on one gateway + one Rasa server first, in the
same run, and prints the throughput ratio.  Timings move about ×3 between
machines of this kind: quote the ratio and name the machine with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.cli.model_cache import ensure_model  # noqa: E402
from bot.cli.supervisor import ManagedProcess, rasa_env, wait_http, warm_up  # noqa: E402
from hotline.config import PROJECT_ROOT  # noqa: E402
from tests.sim.driver import (  # noqa: E402
    Conversation,
    SimClient,
    StackUrls,
    collect_tickets,
    find_model,
    make_resident,
    population,
    run_conversation,
)
from tests.sim.invariants import check_all  # noqa: E402
from tests.sim.openings import default_tipdm_path  # noqa: E402

PG_ADMIN = os.environ.get("JIESU_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DESK_KEY = "load-desk-key-" + uuid.uuid4().hex[:8]
RASA_TOKEN = secrets.token_urlsafe(24)
KEY_INVARIANTS = ("a_ticket", "b_values", "no_5xx", "terminates")
#: After the run, how long tickets the bot announced may take to reach the desk.
SETTLE_S = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new PostgreSQL database for one topology, dropped afterwards."""
    # No pool: a connection kept across a PostgreSQL restart (--restart-postgres-after) is dead.
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    name = f"jiesu_load_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Topology:
    gateways: list[str]
    rasa: list[str]
    processes: list[ManagedProcess]

    def stop(self) -> None:
        for p in reversed(self.processes):
            p.stop()


@contextmanager
def start_topology(n_gateways: int, n_rasa: int, model: Path, tmp: Path) -> Iterator[Topology]:
    """Action server, Rasa servers and gateways as separate processes on one database."""
    with fresh_database() as db:
        gw_ports = [_free_port() for _ in range(n_gateways)]
        rasa_ports = [_free_port() for _ in range(n_rasa)]
        action_port = _free_port()
        rasa_urls = [f"http://127.0.0.1:{p}" for p in rasa_ports]
        base = {
            **os.environ,
            "JIESU_TRACKER_URL": db,
            "JIESU_DB_URL": db,
            "JIESU_DESK_DB_URL": db,
            "JIESU_LOCK_STORE": "redis",
            "JIESU_REDIS_HOST": "127.0.0.1",
            "JIESU_DESK_API_KEY": DESK_KEY,
            "JIESU_RASA_TOKEN": RASA_TOKEN,
            "JIESU_PORT": str(gw_ports[0]),  # the actions file on the first gateway's desk
            "JIESU_ACTION_PORT": str(action_port),
            "JIESU_ACTION_URL": f"http://127.0.0.1:{action_port}/webhook",
            "JIESU_RASA_URL": ",".join(rasa_urls),
            "JIESU_SIP_PORT": "0",
            "TELEGRAM_BOT_TOKEN": "",
            "JIESU_SURVEY_DELAY": "3600",
            "JIESU_DUPLICATE_CHECK": "off",  # residents here report unrelated problems
            "JIESU_OUTBOX_MAX_BACKOFF": "5",  # deliveries retried within seconds after a fault
        }
        base.pop("JIESU_OPEN311_URL", None)
        procs: list[ManagedProcess] = []
        topo = Topology([f"http://127.0.0.1:{p}" for p in gw_ports], rasa_urls, procs)

        def proc(name: str, cmd: list[str], **env: str) -> ManagedProcess:
            from hotline.config import load_config

            e = {**base, **env, "JIESU_DATA_DIR": str(tmp / name)}
            p = ManagedProcess(name, cmd, rasa_env(load_config(e), e), tmp / name / "out.log")
            procs.append(p)
            p.start()
            return p

        py = sys.executable
        try:
            actions = proc("actions", [py, "-m", "actions", "--actions", "actions",
                                       "--port", str(action_port)])  # fmt: skip
            servers = [
                proc(
                    f"rasa{i}",
                    [
                        py,
                        "-m",
                        "bot.rasa_runtime.server",
                        "run",
                        "--enable-api",
                        "--model",
                        str(model),
                        "--port",
                        str(port),
                        "--interface",
                        "127.0.0.1",
                        "--endpoints",
                        "endpoints.yml",
                        "--credentials",
                        "credentials.yml",
                    ],
                )  # fmt: skip
                for i, port in enumerate(rasa_ports)
            ]
            wait_http(f"http://127.0.0.1:{action_port}/health", 300, actions.proc)
            for url, server in zip(rasa_urls, servers, strict=True):
                wait_http(f"{url}/status?token={RASA_TOKEN}", 300, server.proc)
                warm_up(url, RASA_TOKEN)
            for i, port in enumerate(gw_ports):
                gw = proc(
                    f"gateway{i}", [py, "-m", "bot.cli.main", "gateway"], JIESU_PORT=str(port)
                )
                wait_http(f"http://127.0.0.1:{port}/healthz", 120, gw.proc)
            yield topo
        finally:
            topo.stop()


@dataclass
class Result:
    label: str
    convs: list[Conversation]
    seconds: float

    @property
    def turns(self) -> int:
        return sum(len(c.turns) for c in self.convs)


def restart_postgres() -> float:
    """Restart the local PostgreSQL cluster (``pg_ctlcluster``); seconds it took."""
    import subprocess

    version = sorted(Path("/etc/postgresql").iterdir())[0].name
    t0 = time.perf_counter()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - t0


async def drive(topo: Topology, n: int, seed: int, restart_pg_after: float = 0.0) -> Result:
    """All ``n`` conversations at once, round-robin over the gateways.

    ``restart_pg_after`` > 0: PostgreSQL is restarted that many seconds into the run.
    """
    scenarios = population(n, seed, default_tipdm_path())
    timeout = aiohttp.ClientTimeout(total=300)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        clients = [
            SimClient(http, StackUrls(gw, topo.rasa[i % len(topo.rasa)], DESK_KEY, RASA_TOKEN))
            for i, gw in enumerate(topo.gateways)
        ]
        t0 = time.perf_counter()

        async def fault() -> None:
            await asyncio.sleep(restart_pg_after)
            took = await asyncio.to_thread(restart_postgres)
            print(f"  PostgreSQL restarted {restart_pg_after:.0f} s into the run ({took:.1f} s)")

        faults = [asyncio.create_task(fault())] if restart_pg_after > 0 else []
        convs = await asyncio.gather(*(
            run_conversation(clients[s.index % len(clients)], s.index, make_resident(s))
            for s in scenarios
        ))  # fmt: skip
        seconds = time.perf_counter() - t0
        for task in faults:
            await task
        # A ticket number the bot gave whose ticket is not on the desk yet is still in the
        # outbox (delivery retries after a fault): wait for it before judging "lost".
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline:
            waiting = [c for c in convs if c.ticket_ids_said and not c.tickets]
            if not waiting:
                break
            await asyncio.sleep(2)
            for conv in waiting:
                await collect_tickets(clients[conv.index % len(clients)], conv, {})
    label = f"{len(topo.gateways)} gateway(s) + {len(topo.rasa)} Rasa server(s)"
    return Result(label, list(convs), seconds)


def _pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p / 100))] if s else float("nan")


def report(r: Result) -> None:
    """Print one topology's figures."""
    lat = [t.ms for c in r.convs for t in c.turns]
    five = sum(t.status >= 500 for c in r.convs for t in c.turns)
    checks = [{c.name: c for c in check_all(conv)} for conv in r.convs]
    print(f"[{r.label}] {len(r.convs)} conversations at once, {r.turns} turns in "
          f"{r.seconds:.1f} s = {r.turns / r.seconds:.1f} turns/s; turn latency p50 "
          f"{_pct(lat, 50):.0f} ms, p95 {_pct(lat, 95):.0f} ms; HTTP 5xx: {five}")  # fmt: skip
    for name in KEY_INVARIANTS:
        bad = [conv for conv, ch in zip(r.convs, checks, strict=True) if not ch[name].ok]
        detail = (
            f" e.g. {bad[0].conversation_id}: {next(c for c in check_all(bad[0]) if c.name == name).detail}"
            if bad
            else ""
        )  # noqa: E501
        print(f"  {name:10}: {len(r.convs) - len(bad)}/{len(r.convs)} ok{detail}")
    tickets = sum(len(c.tickets) for c in r.convs)
    print(f"  tickets on the desk: {tickets} for {len(r.convs)} conversations")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--conversations", type=int, default=200)
    ap.add_argument("--gateways", type=int, default=2)
    ap.add_argument("--rasa", type=int, default=3)
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument("--baseline", action="store_true", help="1 gateway + 1 Rasa server first")
    ap.add_argument("--keep-logs", default="", help="write the processes' logs here, keep them")
    ap.add_argument("--restart-postgres-after", type=float, default=0.0, metavar="S",
                    help="restart PostgreSQL S seconds into each run (needs pg_ctlcluster)")  # fmt: skip
    args = ap.parse_args()
    model = find_model(PROJECT_ROOT) or ensure_model()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; model {model.name}")
    runs = [(1, 1)] if args.baseline else []
    runs.append((args.gateways, args.rasa))
    results = []
    for g, r in runs:
        with tempfile.TemporaryDirectory(prefix="jiesu-load-") as tmp_dir:
            tmp = args.keep_logs or tmp_dir
            t0 = time.perf_counter()
            with start_topology(g, r, model, Path(tmp)) as topo:
                print(f"{g} gateway(s) + {r} Rasa server(s) up in {time.perf_counter() - t0:.0f} s")
                result = await drive(
                    topo, args.conversations, args.seed, args.restart_postgres_after
                )
                report(result)
        results.append(result)
    if len(results) == 2:
        one, many = results
        ratio = (many.turns / many.seconds) / (one.turns / one.seconds)
        print(f"throughput ratio ({many.label} / {one.label}): {ratio:.2f}")
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
