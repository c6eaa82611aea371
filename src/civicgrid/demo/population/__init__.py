"""The synthetic population of the demo city: houses, households, people, residence history, tenancies,
organisations, places, schools and special-care records with their visits.

`build_population(database, scale=…, seed=…, keyring=…)` runs after `build_city` and
`create_demo_accounts` have been committed. It fills each grid with its `households` houses and its
`population` residents (both already follow the urban/rural density of the city) and writes everything
in one transaction with the database's bulk path (`demo.bulk`).

How it is made (bench/bench_population.py measures it):

1. Demographics of the whole city as numpy arrays, vectorised: house use and address parts per house,
   households placed in the occupied houses, household sizes (every household gets one person, the rest
   of the grid's residents go to households in proportion to a gamma-distributed weight, which gives the
   census's spread of sizes around a mean of ≈2.8), a household template per size (couple, couple with
   children, three generations, grandparents with left-behind grandchildren, …) that fixes each member's
   relation to the head, ages relative to the head's, sexes, surnames (children take the father's), given
   names after the fashion of their birth years, ethnicity, religion, education, marital and political
   status consistent with age, and the sequence digits of every ID number (unique per region, birth date
   and sex across the city).
2. Then chunk by chunk of grids (~40,000 people): text columns, ID numbers (`core.idnumber.make_id_number`),
   phone numbers, encryption and blind indexes (`core.crypto.Keyring`), rows, bulk write — so memory stays
   flat whatever the scale (the columns of step 1 are ~80 bytes a person).
3. Organisations, places, schools, special-care records and visits.

Deterministic for a seed (and a reference date): the same seed gives the same people, except the
ciphertexts, whose nonces are random by design (the blind indexes are the same).

The modules, one idea each:

- `model`: the grids and ID regions read from the database, the codes of uses, kinds and roles, `_City`.
- `sampling`: small vectorised helpers (weighted picks, allocation, ranks, points in a polygon).
- `houses`: houses, the households placed in them, owners, address text.
- `people`: household templates and every person's attributes.
- `identifiers`: ID-number sequences and numbers, credit codes, encryption contexts and encrypted columns.
- `texts`: names as text, random contact names and phones.
- `rows`: the rows of a chunk of grids (houses, households, people, residences, tenancies).
- `organisations`: organisations, places and schools.
- `care`: special-care records and their visits.
- `orchestrate`: `generate`, chunking, forked workers and `build_population`.
"""

from civicgrid.demo.population.care import CARE_COLUMNS, VISIT_COLUMNS
from civicgrid.demo.population.identifiers import (
    DOCUMENT_CONTEXT,
    ID_CONTEXT,
    LEGAL_REP_PHONE_CONTEXT,
    OWNER_ID_CONTEXT,
    PHONE_CONTEXT,
    PLACE_PHONE_CONTEXT,
    SECURITY_PHONE_CONTEXT,
    credit_code_valid,
    credit_codes,
)
from civicgrid.demo.population.orchestrate import (
    CHUNK_PEOPLE,
    TABLES,
    PopulationExists,
    PopulationStats,
    build_population,
    can_fork,
    default_workers,
    generate,
    local_today,
)
from civicgrid.demo.population.organisations import ORGANISATION_COLUMNS, PLACE_COLUMNS, SCHOOL_COLUMNS
from civicgrid.demo.population.rows import (
    HOUSE_COLUMNS,
    HOUSEHOLD_COLUMNS,
    PERSON_COLUMNS,
    RESIDENCE_COLUMNS,
    TENANCY_COLUMNS,
)
from civicgrid.demo.population.sampling import points_in_polygon
from civicgrid.demo.population.texts import person_names

__all__ = [
    "CARE_COLUMNS",
    "CHUNK_PEOPLE",
    "DOCUMENT_CONTEXT",
    "HOUSEHOLD_COLUMNS",
    "HOUSE_COLUMNS",
    "ID_CONTEXT",
    "LEGAL_REP_PHONE_CONTEXT",
    "ORGANISATION_COLUMNS",
    "OWNER_ID_CONTEXT",
    "PERSON_COLUMNS",
    "PHONE_CONTEXT",
    "PLACE_COLUMNS",
    "PLACE_PHONE_CONTEXT",
    "RESIDENCE_COLUMNS",
    "SCHOOL_COLUMNS",
    "SECURITY_PHONE_CONTEXT",
    "TABLES",
    "TENANCY_COLUMNS",
    "VISIT_COLUMNS",
    "PopulationExists",
    "PopulationStats",
    "build_population",
    "can_fork",
    "credit_code_valid",
    "credit_codes",
    "default_workers",
    "generate",
    "local_today",
    "person_names",
    "points_in_polygon",
]
