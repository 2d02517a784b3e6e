"""The scale curve: the console's pages over a city's portfolio, at 10k, 100k and 1M loans.

A portfolio is lived once through the services' own APIs (deploy/demo_books.py: a bank
lends four firms, they repay monthly, one defaults and is claimed); its rows are then cloned
in SQL on PostgreSQL, each copy with ids, USCCs, event keys and numbers of its own derived
from the copy's number (``md5(id || ':' || copy)``, so a loan's rows agree across the three
services' databases) and 1,000 loans to a batch. At each size the services are started
(``serve`` and ``worker`` each), a clerk signs in and each page is read ``--reads`` times;
the table gives the median and the slowest read in ms.

    .venv/bin/python -m bench.scale                         # 10k, 100k, 1M (≈ 20 GB, long)
    .venv/bin/python -m bench.scale --sizes 10000 100000    # the first two

Creates ``picidai_scale_<pid>_*`` databases on 127.0.0.1:5432 and drops them afterwards (``--keep``
keeps them). Traffic goes to 127.0.0.1 only.
"""

import argparse
import asyncio
import os
import re
import statistics
import time
from urllib.parse import urlencode

import asyncpg
import httpx

from bench import report
from bench.intake_load import SERVER, create_databases, drop_databases, postgres_stack
from deploy.local import SERVICES, LocalStack

TEMPLATE_LOANS = 4  # what deploy/demo_books.py lends
COPIES_PER_BATCH = 250  # 1,000 loans to a batch
CHUNK = 25_000  # copies per INSERT … SELECT (100,000 loans)

# Per service: the tables that hold per-loan rows, cloned with each copy.
CLONED = {
    "loan_intake": ("enterprises", "applications", "application_events"),
    "guarantee": ("assessments", "guarantees", "claims", "fee_dues"),
    "bank_gateway": ("batch_loans", "received_events", "interest_months", "interest_open_loans"),
}
# The kept sums (shared/tallies.py) rebuilt from the cloned items, as a settling would.
SUMS = {
    "fee_dues": (
        "fee_sums",
        "periods, fee_fen, subsidy_fen",
        "count(*), sum(fee_fen), sum(subsidy_fen)",
        {
            "month": "extract(year FROM due)::int * 100 + extract(month FROM due)::int, bank_code",
            "firm_year": "extract(year FROM due)::int, enterprise_uscc",
        },
        "fee_marks",
    ),
    "interest_months": (
        "interest_sums",
        "repayments, interest_fen, unsubsidised_fen, subsidy_fen",
        "sum(repayments), sum(interest_fen), sum(unsubsidised_fen), sum(subsidy_fen)",
        {"month": "month, bank_code", "firm_year": "month / 100, enterprise_uscc"},
        "interest_marks",
    ),
}
EXPOSURE_GROUPS = {
    "enterprise": "enterprise_uscc",
    "batch": "batch_id",
    "bank": "bank_code",
    "policy_version": "policy_version_id",
}
# uuid columns that name a loan's own rows (the rest — banks, policy versions — are shared).
OWN_IDS = {"id", "loan_id", "application_id", "assessment_id", "guarantee_id", "update_id"}


def column_expression(table: str, column: str, data_type: str) -> str:
    """The column of copy ``g`` of a template row."""
    c = f'"{column}"'
    if data_type == "uuid" and column in OWN_IDS:
        return f"md5({c}::text || ':' || g)::uuid"
    if data_type == "uuid" and column == "batch_id":
        return f"md5({c}::text || ':b' || (g / {COPIES_PER_BATCH}))::uuid"
    if "uscc" in column:
        # 2 + 7 + 9 characters: the copy's number in the middle, the template's tail kept
        return f"left({c}, 2) || lpad(g::text, 7, '0') || substr({c}, 10, 9)"
    if column == "event_key":
        return f"{c} || ':' || g"
    if table == "enterprises" and column == "id":
        return f"{c} + g * 1000"
    if column == "enterprise_id":
        return f"{c} + g * 1000"
    if table == "application_events" and column in ("id", "chain_seq"):
        return f"{c} + g * 1000"
    if table == "applications" and column == "number":
        return f"{c} + g * 1000"
    return c


async def clone(database: str, tables: tuple[str, ...], first: int, last: int) -> None:
    """Copies ``first`` … ``last`` of every template row of ``tables``."""
    connection = await asyncpg.connect(f"{SERVER}/{database}")
    try:
        for table in tables:
            columns = await connection.fetch(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_name = $1 ORDER BY ordinal_position",
                table,
            )
            names = ", ".join(f'"{c["column_name"]}"' for c in columns)
            values = ", ".join(
                column_expression(table, c["column_name"], c["data_type"]) for c in columns
            )
            template = "template_" + table
            await connection.execute(
                f"CREATE TABLE IF NOT EXISTS {template} AS TABLE {table}"  # the lived rows
            )
            if table == "enterprises":
                # only the firms that borrowed (the seed's demo firm has no loan)
                await connection.execute(
                    f"DELETE FROM {template} t WHERE NOT EXISTS"
                    " (SELECT 1 FROM applications a WHERE a.enterprise_id = t.id)"
                )
            for start in range(first, last + 1, CHUNK):
                end = min(start + CHUNK - 1, last)
                await connection.execute(
                    f"INSERT INTO {table} ({names}) SELECT {values} FROM {template}"
                    f" CROSS JOIN generate_series({start}, {end}) AS g"
                )
        if "application_events" in tables:
            # The copies' history is the past: the status texts of it were sent long ago.
            await connection.execute(
                "UPDATE notice_cursors SET last_event_id ="
                " (SELECT coalesce(max(id), 0) FROM application_events)"
            )
        if "guarantees" in tables:
            # The triggers appended a move per new guarantee and group: the kept totals are
            # rebuilt as migration 0014 builds them (a bulk load, not a page's timing).
            await connection.execute(
                "DELETE FROM exposure_deltas; DELETE FROM exposure_totals;"
                " DELETE FROM exposure_summaries"
            )
            for group, column in EXPOSURE_GROUPS.items():
                await connection.execute(
                    "INSERT INTO exposure_totals (group_kind, key, guarantees, outstanding_fen)"
                    f" SELECT '{group}', {column}::text, count(*), sum(outstanding_fen)"
                    f" FROM guarantees WHERE outstanding_fen > 0 GROUP BY {column}"
                )
                await connection.execute(
                    "INSERT INTO exposure_summaries (group_kind, keys, guarantees,"
                    f" outstanding_fen) SELECT '{group}', count(*), coalesce(sum(guarantees), 0),"
                    " coalesce(sum(outstanding_fen), 0) FROM exposure_totals"
                    f" WHERE group_kind = '{group}'"
                )
        for items in set(tables) & set(SUMS):
            await rebuild_sums(connection, items)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def rebuild_sums(connection: asyncpg.Connection, items: str) -> None:
    """The triggers marked every cloned guarantee or loan; its items were cloned with it, so
    the sums are rebuilt from them in bulk (a load, not a page's timing) and the marks go."""
    sums, columns, values, groups, marks = SUMS[items]
    await connection.execute(f"DELETE FROM {marks}; DELETE FROM {sums}")
    for kind, key in groups.items():
        await connection.execute(
            f"INSERT INTO {sums} (kind, period, party, {columns})"
            f" SELECT '{kind}', {key}, {values} FROM {items} GROUP BY {key}"
        )


async def clone_batches(database: str, first_batch: int, last_batch: int) -> None:
    connection = await asyncpg.connect(f"{SERVER}/{database}")
    try:
        await connection.execute("CREATE TABLE IF NOT EXISTS template_batches AS TABLE batches")
        columns = await connection.fetch(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'batches' ORDER BY ordinal_position"
        )
        names = ", ".join(f'"{c["column_name"]}"' for c in columns)
        values = ", ".join(
            "md5(id::text || ':b' || b)::uuid"
            if c["column_name"] == "id"
            else "name || ' 第' || b || '批'"
            if c["column_name"] == "name"
            else "quota_fen * 300"
            if c["column_name"] == "quota_fen"
            else f'"{c["column_name"]}"'
            for c in columns
        )
        await connection.execute(
            f"INSERT INTO batches ({names}) SELECT {values} FROM template_batches"
            f" CROSS JOIN generate_series({first_batch}, {last_batch}) AS b"
        )
    finally:
        await connection.close()


def signed_in_console(stack: LocalStack) -> httpx.Client:
    client = httpx.Client(base_url=stack.url("bank_gateway"), timeout=30)
    login = client.get("/console/login")
    csrf = re.search(r'name="_csrf" value="([^"]+)"', login.text)
    assert csrf, "no CSRF field on the sign-in page"
    done = client.post(
        "/console/login",
        content=urlencode(
            {"_csrf": csrf.group(1), "username": "alice", "password": "dev-password-alice"}
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 303, done.text[:500]
    return client


async def pick(databases: dict[str, str]) -> dict[str, str]:
    """A batch and a firm of the middle of the portfolio, to read their pages."""
    connection = await asyncpg.connect(f"{SERVER}/{databases['bank_gateway']}")
    try:
        row = await connection.fetchrow(
            "SELECT batch_id, enterprise_uscc FROM batch_loans ORDER BY id LIMIT 1 OFFSET"
            " (SELECT count(*) / 2 FROM batch_loans)"
        )
    finally:
        await connection.close()
    return {"batch": str(row["batch_id"]), "uscc": row["enterprise_uscc"]}


def whole_reconciliation(console: httpx.Client, wait_s: float) -> float:
    """A clerk asks for the whole portfolio's 三方对账; the gateway's worker runs it. Seconds
    until the page shows the finished run (inf: not within ``wait_s``)."""
    page = console.get(THREE_WAY)
    csrf = re.search(r'name="_csrf" value="([^"]+)"', page.text)
    assert csrf, "no 立即对账 form on the reconciliation page"
    started = time.perf_counter()
    asked = console.post(
        "/console/reports/three-way/runs",
        content=urlencode({"_csrf": csrf.group(1)}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert asked.status_code == 303, asked.text[:300]
    while time.perf_counter() - started < wait_s:
        time.sleep(1)
        shown = console.get(THREE_WAY)
        if "对账进行中" not in shown.text and "共核对" in shown.text:
            return time.perf_counter() - started
    return float("inf")


def pages(chosen: dict[str, str]) -> dict[str, str]:
    return {
        "batch list": "/console/batches",
        "batch (risk)": f"/console/batches/{chosen['batch']}",
        "在保余额 by firm": "/console/reports/exposure",
        "enterprise": f"/console/enterprises/{chosen['uscc']}",
        "subsidy report (year to date)": "/console/reports/subsidies",
    }


THREE_WAY = "/console/reports/three-way"


# A page slower than this is read once, and one that takes longer than TIMEOUT is recorded
# as such: at 1M loans a page that reads every loan would otherwise hold the run for hours.
BUDGET_MS = 20_000
TIMEOUT_S = 120


def measure(
    stack: LocalStack, chosen: dict[str, str], reads: int, run_wait_s: float
) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    console = signed_in_console(stack)
    try:
        for name, path in pages(chosen).items():
            seen: list[float] = []
            while len(seen) < reads and sum(seen) < BUDGET_MS:
                started = time.perf_counter()
                try:
                    answer = console.get(path, timeout=TIMEOUT_S)
                except httpx.TimeoutException:
                    seen.append(float("inf"))
                    break
                seen.append((time.perf_counter() - started) * 1000)
                if answer.status_code != 200:
                    print(f"  {name}: HTTP {answer.status_code} {answer.text[:200]}")
                    break
            timings[name] = seen
            print(f"  {name:32s} median {statistics.median(seen):9.1f} ms  max {max(seen):9.1f}")
        # The page shows the worker's last kept run; how long the worker takes for one:
        seconds = whole_reconciliation(console, run_wait_s)
        timings["three-way run in the worker (s, not ms)"] = [seconds]
        print(f"  three-way run in the gateway's worker: {seconds:.1f} s")
        shown = []
        for _ in range(reads):
            started = time.perf_counter()
            console.get(THREE_WAY)
            shown.append((time.perf_counter() - started) * 1000)
        timings["three-way reconciliation (the kept run)"] = shown
    finally:
        console.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--reads", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--run-wait", type=float, default=1800, help="seconds to wait for the worker's 三方对账"
    )
    args = parser.parse_args()
    # Named per run: two runs at once must not drop each other's databases.
    databases = {s.name: f"picidai_scale_{os.getpid()}_{s.name}" for s in SERVICES}
    asyncio.run(create_databases(list(databases.values())))
    # The demo books are lived with serve alone; the measured stack has its workers.
    stack = postgres_stack(databases, prefix="picidai-scale-", separate_workers=False)
    results: dict[int, dict[str, list[float]]] = {}
    try:
        stack.prepare()
        stack.start_all()
        from deploy.demo_books import seed_books

        print(seed_books(stack.keys_dir, {s.name: stack.url(s.name) for s in SERVICES}))
        time.sleep(3)  # the last deliveries
        # The subsidy report settles the lived books' kept sums; the copies clone them.
        console = signed_in_console(stack)
        assert console.get("/console/reports/subsidies").status_code == 200
        console.close()
        stack.stop_all()
        stack.separate_workers = True
        copies = 0
        for size in sorted(args.sizes):
            wanted = size // TEMPLATE_LOANS
            started = time.perf_counter()
            # the batches first: the loans refer to them
            asyncio.run(
                clone_batches(
                    databases["bank_gateway"],
                    copies // COPIES_PER_BATCH + (1 if copies else 0),
                    wanted // COPIES_PER_BATCH,
                )
            )
            for name, tables in CLONED.items():
                asyncio.run(clone(databases[name], tables, copies + 1, wanted))
            copies = wanted
            print(f"\n{size:,} loans ({time.perf_counter() - started:.0f} s to add the rows)")
            stack.start_all()
            try:
                results[size] = measure(
                    stack, asyncio.run(pick(databases)), args.reads, args.run_wait
                )
            finally:
                stack.stop_all()
    finally:
        stack.stop_all()
        if not args.keep:
            asyncio.run(drop_databases(list(databases.values())))
    print_table(results)
    report.record(
        "scale",
        pages={
            str(size): {
                name: [round(min(t), 1), round(statistics.median(t), 1), round(max(t), 1)]
                for name, t in timings.items()
            }
            for size, timings in results.items()
        },
    )


def print_table(results: dict[int, dict[str, list[float]]]) -> None:
    sizes = sorted(results)
    names = list(next(iter(results.values())))
    print("\nmedian ms (max) per page and portfolio size:")
    print(f"{'page':34s}" + "".join(f"{size:>20,}" for size in sizes))
    for name in names:
        cells = []
        for size in sizes:
            seen = results[size].get(name, [])
            cells.append(
                f"{statistics.median(seen):>11.0f} ({max(seen):>6.0f})" if seen else " " * 20
            )
        print(f"{name:34s}" + "".join(f"{c:>20s}" for c in cells))


if __name__ == "__main__":
    main()
