"""Bulk import of people and houses from CSV and XLSX files, as background jobs (docs/registry-import.md).

A file is read row by row (`registry.sources`) and processed in batches (CIVICGRID_IMPORT_BATCH_SIZE,
2,000 rows by default) in constant memory. Each row is checked by the same rules as the API —
`people.validate_person` and `houses.validate_house`: code tables, GB 11643 ID numbers and their
agreement with birth date and sex, phones, what foreigners need — and its house or grid must lie in the
importer's scope. What costs per row in the API is done per batch here: blind indexes for the whole
batch, one query for the people (or houses) the batch already knows, one for its houses and grids,
bulk inserts and updates, encryption in one pass per field.

Two modes, as the caller chooses (DESIGN.md §5):

- `apply_valid`: every batch commits its valid rows; the other rows go to the error report.
- `all_or_nothing`: a first pass checks every row without writing; only if no row failed does a
  second pass write them all, in one transaction.

Re-importing is idempotent: a person is matched by the blind index of their ID number (foreigners
without one by their document number), a house by its grid and full address. A match in the caller's
scope is updated with the file's non-empty values (an unchanged row writes nothing); a match outside
the scope is a row error — an import never moves anyone out of another area's registry. Rows are applied
in file order, so when a file holds the same person twice the later row wins.

The per-row error report is a CSV (row, column, field, value, reason) with names and identifiers
masked. One audit record per import carries the counts, never a row's content.
"""

from civicgrid.registry.imports.fields import (
    FIELDS,
    HOUSE_FIELDS,
    MODES,
    PEOPLE_FIELDS,
    PERMISSIONS,
    REQUIRED,
    REQUIRED_CELLS,
    FieldSpec,
    auto_mapping,
    locate_columns,
    require_import,
    resolve_columns,
)
from civicgrid.registry.imports.house_rows import (
    HOUSE_PLAIN,
    HouseImporter,
)
from civicgrid.registry.imports.people_rows import (
    PERSON_KEY_COLUMNS,
    PeopleImporter,
)
from civicgrid.registry.imports.pipeline import (
    MAX_PROBLEMS_IN_RESULT,
    REPORT_HEADER,
    ErrorReport,
    analyze_table,
    batches,
)
from civicgrid.registry.imports.rows import (
    AREA_COLUMNS,
    BaseImporter,
    CellReader,
    Counts,
    GridInfo,
    Row,
)
from civicgrid.registry.imports.run import (
    IMPORTERS,
    ImportSpec,
    check_file,
    count_people,
    run_import,
)

__all__ = [
    "AREA_COLUMNS",
    "FIELDS",
    "HOUSE_FIELDS",
    "HOUSE_PLAIN",
    "IMPORTERS",
    "MAX_PROBLEMS_IN_RESULT",
    "MODES",
    "PEOPLE_FIELDS",
    "PERMISSIONS",
    "PERSON_KEY_COLUMNS",
    "REPORT_HEADER",
    "REQUIRED",
    "REQUIRED_CELLS",
    "BaseImporter",
    "CellReader",
    "Counts",
    "ErrorReport",
    "FieldSpec",
    "GridInfo",
    "HouseImporter",
    "ImportSpec",
    "PeopleImporter",
    "Row",
    "analyze_table",
    "auto_mapping",
    "batches",
    "check_file",
    "count_people",
    "locate_columns",
    "require_import",
    "resolve_columns",
    "run_import",
]
