"""`civicgrid command report` and `civicgrid command reports-due` against the tiny city (reports_fixtures)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner, Result

from civicgrid.command.models import CommandReport
from civicgrid.core.db import Database
from tests.command.reports_fixtures import ReportCity
from tests.support.city import DISTRICT, GRID_A1
from tests.support.pdf import all_text, is_pdf


@pytest.fixture
def cli(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    from civicgrid.config import get_settings

    monkeypatch.setenv("CIVICGRID_DATABASE_URL", db.url)
    monkeypatch.setenv("CIVICGRID_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def invoke(runner: CliRunner, *args: str) -> Result:
    from civicgrid.cli import app

    return runner.invoke(app, ["command", *args])


def test_a_report_from_the_command_line(cli: CliRunner, db: Database, report_city: ReportCity, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke(
        cli, "report", DISTRICT, "--period", "week", "--date", str(report_city.week.start), "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "ready in" in result.output
    with db.unit_of_work(write=False) as s:
        (row,) = s.scalars(select(CommandReport))
        assert (row.status, row.area_code, row.period_start, row.origin) == (
            "succeeded",
            DISTRICT,
            report_city.week.start,
            "request",
        )
        assert row.job_id is not None and row.requested_by is None
    pdf = (out / f"{row.title}.pdf").read_bytes()
    assert is_pdf(pdf) and "蚌山区" in all_text(pdf)
    assert load_workbook(out / f"{row.title}.xlsx").sheetnames[0] == "摘要"
    assert (tmp_path / "var" / "files" / row.pdf_key).is_file()


def test_the_command_refuses_bad_input(cli: CliRunner, db: Database, report_city: ReportCity) -> None:
    for args, said in (
        (["report", DISTRICT, "--period", "day"], "unknown report period"),
        (["report", DISTRICT, "--date", "2999-01-01"], "is in the future"),
        (["report", DISTRICT, "--date", "yesterday"], "YYYY-MM-DD"),
        (["report", GRID_A1], "reports are made for a city, district, street or community"),
        (["report", "999999"], "there is no area 999999"),
    ):
        result = invoke(cli, *args)
        assert result.exit_code != 0 and said in result.output, (args, result.output)
    with db.unit_of_work(write=False) as s:
        assert s.scalars(select(CommandReport)).first() is None


def test_the_due_scheduled_reports_from_the_command_line(cli: CliRunner, db: Database, report_city: ReportCity) -> None:
    result = invoke(cli, "reports-due")
    assert result.exit_code == 0, result.output
    assert "6 scheduled report(s) made, 0 failed" in result.output
    again = invoke(cli, "reports-due")
    assert again.exit_code == 0 and "0 scheduled report(s) made" in again.output
