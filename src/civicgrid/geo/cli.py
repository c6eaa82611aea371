"""`civicgrid geo …`: imports, making grids and point lookup from the command line.

Commands act as the operator of the machine (a city-wide system principal with the admin role's
permissions); each import writes one audit record like the API does.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any, NoReturn

import numpy as np
import shapely
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.authz.permissions import ROLE_PERMISSIONS, Role
from civicgrid.authz.scope import LEVEL_ORDER, Level, Principal, Scope
from civicgrid.config import get_settings
from civicgrid.core.db import Database
from civicgrid.core.errors import AppError
from civicgrid.geo import gridding, imports, lookup
from civicgrid.geo.geometry import as_geojson, from_wkb
from civicgrid.geo.models import Division

geo_cli = typer.Typer(no_args_is_help=True, help="The administrative map: imports, grids, lookup")
console = Console()
err = Console(stderr=True)


def _database() -> Database:
    return Database(get_settings().resolved_database_url)


def _operator(session: Session, city_code: str | None = None) -> Principal:
    """The machine's operator: admin permissions over the database's city (or the file's city)."""
    if city_code is None:
        cities = list(session.scalars(select(Division.code).where(Division.level == Level.city.value)))
        if len(cities) != 1:
            err.print(
                f"[red]error:[/red] expected one city in the database, found {len(cities)}; import divisions first"
            )
            raise typer.Exit(1)
        city_code = cities[0]
    return Principal(
        user_id=None,
        username="cli",
        role=Role.admin.value,
        permissions=ROLE_PERMISSIONS[Role.admin],
        scope=Scope(division_code=city_code, level=Level.city),
    )


def _fail(error: AppError) -> NoReturn:
    err.print(f"[red]error ({error.code}):[/red] {error.message}")
    if isinstance(error.details, list):
        table = Table("feature", "field", "problem", title=f"{len(error.details)} problem(s)")
        for item in error.details[:200]:
            table.add_row(str(item.get("feature")), str(item.get("field")), str(item.get("problem")))
        err.print(table)
        if len(error.details) > 200:
            err.print(f"… and {len(error.details) - 200} more")
    elif error.details:
        err.print(error.details)
    raise typer.Exit(1)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        err.print(f"[red]error:[/red] cannot read {path}: {exc.strerror}")
        raise typer.Exit(1) from None


def _city_in_csv(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    for line in text.splitlines()[1:]:
        if line.startswith("city,"):
            return line.split(",")[1].strip()
    return None


def _report(result: imports.ImportResult) -> None:
    verb = "would write" if result.dry_run else "wrote"
    levels = ", ".join(f"{k}: {v}" for k, v in sorted(result.by_level.items()))
    console.print(
        f"{result.kind}: {verb} {result.created} new, {result.updated} updated, {result.unchanged} unchanged"
        + (f" ({levels})" if levels else "")
    )


FileArg = Annotated[Path, typer.Argument(help="the file to import (UTF-8)", exists=False)]
DryRun = Annotated[bool, typer.Option("--dry-run", help="check everything, write nothing")]


@geo_cli.command("import-divisions")
def import_divisions(path: FileArg, dry_run: DryRun = False) -> None:
    """Divisions from a `level,code,name,parent_code` CSV (all rows or none)."""
    data = _read(path)
    database = _database()
    try:
        with database.unit_of_work() as session:
            city = None
            if not session.scalar(select(Division.code).where(Division.level == Level.city.value).limit(1)):
                city = _city_in_csv(data)
            result = imports.import_divisions(session, _operator(session, city), data, dry_run=dry_run)
    except AppError as error:
        _fail(error)
    finally:
        database.dispose()
    _report(result)


@geo_cli.command("import-boundaries")
def import_boundaries(path: FileArg, dry_run: DryRun = False) -> None:
    """Boundaries of existing divisions from GeoJSON (features with a `code` property)."""
    data = _read(path)
    database = _database()
    try:
        with database.unit_of_work() as session:
            result = imports.import_boundaries(session, _operator(session), data, dry_run=dry_run)
    except AppError as error:
        _fail(error)
    finally:
        database.dispose()
    _report(result)


@geo_cli.command("import-grids")
def import_grids(path: FileArg, dry_run: DryRun = False) -> None:
    """Grids from GeoJSON (code = community code + 3 digits, name, optional households/population)."""
    data = _read(path)
    database = _database()
    try:
        with database.unit_of_work() as session:
            result = imports.import_grids(session, _operator(session), data, dry_run=dry_run)
    except AppError as error:
        _fail(error)
    finally:
        database.dispose()
    _report(result)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    )


@geo_cli.command("make-grids")
def make_grids(
    out: Annotated[Path, typer.Option("--out", "-o", help="GeoJSON file to write (import it with import-grids)")],
    community: Annotated[
        list[str] | None, typer.Option(help="community code(s) from the database; repeat the option for several")
    ] = None,
    street: Annotated[str | None, typer.Option(help="every community of this street")] = None,
    boundary: Annotated[Path | None, typer.Option(help="a GeoJSON boundary to cover instead")] = None,
    households_per_grid: Annotated[int, typer.Option(min=1, help="target households per grid")] = 300,
    count: Annotated[int | None, typer.Option(min=1, max=999, help="exact number of grids per community")] = None,
    square: Annotated[float | None, typer.Option(min=1, help="square cells of this many metres")] = None,
    h3_resolution: Annotated[
        int | None, typer.Option("--h3", min=0, max=15, help="H3 cells of this resolution")
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed of the partition")] = 1,
) -> None:
    """Divide communities into grids by households (k-means Voronoi), or cover a boundary with squares or H3."""
    features: list[dict[str, Any]] = []
    if boundary is not None:
        try:
            document = json.loads(_read(boundary).decode("utf-8-sig"))
            shapes = [shapely.from_geojson(json.dumps(f["geometry"])) for f in document.get("features", [document])]
        except (ValueError, KeyError, UnicodeDecodeError, shapely.errors.GEOSException) as exc:
            err.print(f"[red]error:[/red] {boundary} is not a GeoJSON boundary: {exc}")
            raise typer.Exit(1) from None
        area = shapely.union_all(shapes)
        features = _cover_features(area, square, h3_resolution, prefix="")
    else:
        database = _database()
        try:
            with database.unit_of_work(write=False) as session:
                query = select(Division).where(Division.level == Level.community.value)
                if community:
                    query = query.where(Division.code.in_(community))
                elif street:
                    query = query.where(Division.street_code == street)
                else:
                    err.print("[red]error:[/red] give --community, --street or --boundary")
                    raise typer.Exit(2)
                rows = list(session.scalars(query.order_by(Division.code)))
                geometries = {
                    code: from_wkb(blob)
                    for code, blob in session.execute(
                        select(Division.code, Division.geometry).where(Division.code.in_([r.code for r in rows]))
                    )
                    if blob is not None
                }
        finally:
            database.dispose()
        missing = [r.code for r in rows if r.code not in geometries]
        if not rows or missing:
            err.print(f"[red]error:[/red] no boundary for {', '.join(missing) or 'the given communities'}")
            raise typer.Exit(1)
        rng = np.random.default_rng(seed)
        with _progress() as bar:
            task = bar.add_task("making grids", total=len(rows))
            for division in rows:
                polygon = geometries[division.code]
                if square or h3_resolution is not None:
                    features.extend(_cover_features(polygon, square, h3_resolution, prefix=division.code))
                else:
                    k = count or gridding.grids_for_households(division.households, households_per_grid)
                    parts = gridding.partition_polygon(polygon, k, rng=rng)
                    households = gridding.split_total(division.households, [p.area for p in parts])
                    population = gridding.split_total(division.population, [p.area for p in parts])
                    for number, (part, h, p) in enumerate(zip(parts, households, population, strict=True), 1):
                        features.append(
                            _feature(f"{division.code}{number:03d}", f"{division.name}第{number}网格", part, h, p)
                        )
                bar.advance(task)
    out.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
    console.print(f"wrote {len(features)} grids to {out}")


def _feature(
    code: str, name: str, geometry: Any, households: int | None = None, population: int | None = None
) -> dict[str, Any]:
    properties: dict[str, Any] = {"code": code, "name": name}
    if households is not None:
        properties["households"] = households
    if population is not None:
        properties["population"] = population
    return {"type": "Feature", "properties": properties, "geometry": as_geojson(geometry)}


def _cover_features(area: Any, square: float | None, h3_resolution: int | None, *, prefix: str) -> list[dict[str, Any]]:
    if (square is None) == (h3_resolution is None):
        err.print("[red]error:[/red] give exactly one of --square or --h3 to cover a boundary")
        raise typer.Exit(2)
    try:
        cells = gridding.square_cover(area, square) if square else gridding.h3_cover(area, h3_resolution or 0)
    except AppError as error:
        _fail(error)
    if prefix and len(cells) > 999:
        err.print(f"[red]error:[/red] {len(cells)} cells in {prefix}; a community holds at most 999 grids")
        raise typer.Exit(1)
    return [
        _feature(f"{prefix}{i:03d}" if prefix else cell.key, f"cell {cell.key}", cell.geometry)
        for i, cell in enumerate(cells, start=1)
    ]


@geo_cli.command("lookup")
def lookup_points(
    lon: Annotated[float | None, typer.Argument(help="longitude (WGS84)")] = None,
    lat: Annotated[float | None, typer.Argument(help="latitude (WGS84)")] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="lon,lat per line ('-' for stdin)")] = None,
) -> None:
    """The grid of one point, or of every `lon,lat` line of a CSV (prints `lon,lat,grid_code`)."""
    database = _database()
    try:
        with database.unit_of_work(write=False) as session:
            if csv_file is None:
                if lon is None or lat is None:
                    err.print("[red]error:[/red] give LON LAT or --csv FILE")
                    raise typer.Exit(2)
                found = lookup.lookup_point(session, lon, lat)
                console.print(f"{found.grid_code} {found.grid_name}")
                for level, (code, name) in sorted(found.ancestors.items(), key=lambda kv: -LEVEL_ORDER.index(kv[0])):
                    console.print(f"  {level.value:<10} {code} {name or ''}")
                return
            text = sys.stdin.read() if str(csv_file) == "-" else _read(csv_file).decode("utf-8-sig")
            rows = [line.split(",")[:2] for line in text.splitlines() if line.strip() and line[0] not in "#l"]
            try:
                points = np.array(rows, dtype=np.float64).reshape(-1, 2)
            except ValueError:
                err.print("[red]error:[/red] every line must be `lon,lat` with numbers")
                raise typer.Exit(1) from None
            started = time.perf_counter()
            index = lookup.get_index(session)
            positions = index.locate_many(points[:, 0], points[:, 1])
            elapsed = time.perf_counter() - started
    except AppError as error:
        _fail(error)
    finally:
        database.dispose()
    out = sys.stdout
    for (x, y), grid in zip(points.tolist(), index.codes_of(positions), strict=True):
        out.write(f"{x},{y},{grid or ''}\n")
    err.print(f"{len(points)} points, {int((positions >= 0).sum())} in a grid, {elapsed:.2f} s")
