"""Analysis reports (研判报告): the time to gather and draw one report, section by section, and its files' sizes.

    uv run python bench/bench_reports.py --data-dir /path/of/a/demo [--area 340300] [--period month] [--repeat 3]

Reads an existing demo database (`civicgrid demo --scale S`, then `civicgrid safety rebuild` so that the index
has stored scores for the 12-period trend); default: the city's report of the last whole month. Each run
gathers every section (timed one by one, as `report_data.gather` calls them) and renders the PDF and the
XLSX; the first run is cold (the division tree with its registry population, the forecast's units and raster
are read then), the next ones warm.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from civicgrid.command import report_data
from civicgrid.command.report_pdf import render_pdf
from civicgrid.command.report_schedule import system_principal
from civicgrid.command.report_xlsx import render_xlsx
from civicgrid.core.clock import utcnow
from civicgrid.core.db import Database
from civicgrid.geo.models import Division
from civicgrid.safety.counts import LOCAL_TZ

sys.path.insert(0, str(Path(__file__).parent))

from _load import demo_data_dir


def run(database: Database, area_code: str | None, period_type: str, day: date | None) -> dict[str, float]:
    times: dict[str, float] = {}
    now = utcnow()
    today = now.astimezone(LOCAL_TZ).date()
    with database.unit_of_work(write=False) as session:
        city = session.scalar(select(Division.code).where(Division.level == "city"))
        assert city is not None, "no city in this database: build a demo first"
        principal = system_principal(city)
        if day is None:
            day = today.replace(day=1) - timedelta(days=1) if period_type == "month" else today - timedelta(days=7)
        started = time.perf_counter()
        period = report_data.report_period(period_type, day, today)
        _division, area = report_data.report_area(session, principal, area_code or city)
        scoped = report_data.narrowed(principal, area)
        data = report_data.ReportData(area, period, report_data.report_title(area, period), now, str(LOCAL_TZ))
        sections = {
            "index": lambda: report_data.index_section(session, scoped, area, period),
            "trend": lambda: report_data.trend_section(session, scoped, area, period, tz=LOCAL_TZ, now=now),
            "categories": lambda: report_data.categories_section(session, scoped, area, period, tz=LOCAL_TZ, now=now),
            "hotspots": lambda: report_data.hotspots_section(session, scoped, area, period, tz=LOCAL_TZ, now=now),
            "overdue": lambda: report_data.overdue_section(session, scoped, now),
            "warnings": lambda: report_data.warnings_section(session, scoped, period),
        }
        for name, build in sections.items():
            t = time.perf_counter()
            setattr(data, name, build())
            times[name] = time.perf_counter() - t
        data.summary = report_data.summary_text(data)
        times["gather"] = time.perf_counter() - started
    t = time.perf_counter()
    pdf, pages = render_pdf(data)
    times["pdf"] = time.perf_counter() - t
    t = time.perf_counter()
    xlsx = render_xlsx(data)
    times["xlsx"] = time.perf_counter() - t
    times["total"] = time.perf_counter() - started
    times["pdf_bytes"], times["xlsx_bytes"], times["pages"] = len(pdf), len(xlsx), pages
    print(f"  {data.title}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data-dir", type=Path, help="a demo's CIVICGRID_DATA_DIR (default: a scale-0.05 demo built for the run)"
    )
    parser.add_argument("--database-url", help="instead of --data-dir")
    parser.add_argument("--area", help="area code (default: the city)")
    parser.add_argument("--period", default="month", choices=["week", "month"])
    parser.add_argument("--date", type=date.fromisoformat, help="a day of the period (default: the last whole one)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.database_url:
        report_on(args, args.database_url)
        return
    with demo_data_dir(args.data_dir) as data_dir:
        report_on(args, f"sqlite:///{(data_dir / 'civicgrid.db').resolve()}")


def report_on(args: argparse.Namespace, url: str) -> None:
    database = Database(url)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"machine: {machine}; database {url.split('@')[-1]}")
    columns = ["index", "trend", "categories", "hotspots", "overdue", "warnings", "gather", "pdf", "xlsx", "total"]
    for i in range(args.repeat):
        times = run(database, args.area, args.period, args.date)
        label = "cold" if i == 0 else "warm"
        cells = "  ".join(f"{c} {times[c]:.2f}s" for c in columns)
        print(f"run {i + 1} ({label}): {cells}")
        pdf_kib, xlsx_kib = times["pdf_bytes"] / 1024, times["xlsx_bytes"] / 1024
        print(f"  PDF {pdf_kib:.1f} KiB, {int(times['pages'])} pages; XLSX {xlsx_kib:.1f} KiB")


if __name__ == "__main__":
    main()
