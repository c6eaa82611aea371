"""Open311 service attributes: the questions a client app asks along with a report (services/{code}).

The definitions are data (`attributes.json` beside this file): a small set per category class, plus
any a single category adds. Submitted answers (`attribute[CODE]`, `attribute[CODE][]` for
multivaluelist) are checked against them — unknown code, wrong type, value not in the list or a
required one missing is refused whole — and the clean values are kept on the report's timeline entry.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from civicgrid.core.errors import InvalidInput

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LISTS = ("singlevaluelist", "multivaluelist")
# Kept on the stored report beside the attributes (the client's own photo link), so no attribute may use it.
RESERVED_CODES = frozenset({"media_url"})
CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")
_FORM_KEY = re.compile(r"attribute\[([^\[\]]*)\](\[\])?")
MAX_STRING = 500
MAX_TEXT = 4000


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str
    required: bool
    order: int
    description: str
    datatype_description: str = ""
    values: tuple[tuple[str, str], ...] = ()
    minimum: float | None = None
    integer: bool = False
    variable: bool = True

    def published(self) -> dict[str, Any]:
        """The definition as GeoReport v2 publishes it."""
        return {
            "variable": self.variable,
            "code": self.code,
            "datatype": self.datatype,
            "required": self.required,
            "datatype_description": self.datatype_description or None,
            "order": self.order,
            "description": self.description,
            "values": [{"key": key, "name": name} for key, name in self.values],
        }


@dataclass(frozen=True)
class Definitions:
    classes: Mapping[str, tuple[Attribute, ...]] = field(default_factory=dict)
    categories: Mapping[str, tuple[Attribute, ...]] = field(default_factory=dict)

    def for_category(self, code: str) -> list[Attribute]:
        """The class's attributes, then the category's own; sorted by `order`."""
        found = [*self.classes.get(code[:2], ()), *self.categories.get(code, ())]
        return sorted(found, key=lambda a: (a.order, a.code))


def _attribute(raw: Mapping[str, Any], where: str) -> Attribute:
    code = raw["code"]
    if not CODE_PATTERN.fullmatch(code) or code in RESERVED_CODES:
        raise ValueError(f"{where}: attribute code {code!r} must be lower_snake_case and not reserved")
    if raw["datatype"] not in DATATYPES:
        raise ValueError(f"{where}: {code} has unknown datatype {raw['datatype']!r}")
    values = tuple((str(v["key"]), str(v["name"])) for v in raw.get("values", ()))
    if (raw["datatype"] in LISTS) != bool(values):
        raise ValueError(f"{where}: {code} must list values exactly when it is a list")
    return Attribute(
        code=code,
        datatype=raw["datatype"],
        required=bool(raw.get("required", False)),
        order=int(raw.get("order", 1)),
        description=raw["description"],
        datatype_description=raw.get("datatype_description", ""),
        values=values,
        minimum=raw.get("minimum"),
        integer=bool(raw.get("integer", False)),
    )


def parse_definitions(data: Mapping[str, Any]) -> Definitions:
    def group(section: str) -> dict[str, tuple[Attribute, ...]]:
        return {
            key: tuple(_attribute(item, f"{section}.{key}") for item in items)
            for key, items in data.get(section, {}).items()
        }

    return Definitions(classes=group("classes"), categories=group("categories"))


@lru_cache(maxsize=1)
def definitions() -> Definitions:
    text = resources.files("civicgrid.open311").joinpath("attributes.json").read_text(encoding="utf-8")
    return parse_definitions(json.loads(text))


def form_attributes(pairs: Sequence[tuple[str, str]]) -> dict[str, tuple[list[str], bool]]:
    """`attribute[CODE]` and `attribute[CODE][]` form fields as code → (values, sent as a list)."""
    found: dict[str, tuple[list[str], bool]] = {}
    for key, value in pairs:
        match = _FORM_KEY.fullmatch(key)
        if match is None:
            continue
        code, multi = match.group(1), match.group(2) is not None
        values, was_multi = found.get(code, ([], multi))
        values.append(value)
        found[code] = (values, was_multi or multi)
    return found


def _bad(code: str, message: str) -> InvalidInput:
    return InvalidInput(message, details=[{"field": f"attribute[{code}]", "problem": message}])


def _number(attribute: Attribute, text: str) -> float | int:
    try:
        number = float(text)
    except ValueError:
        raise _bad(attribute.code, f"attribute {attribute.code} must be a number, not {text[:40]!r}") from None
    if not math.isfinite(number):
        raise _bad(attribute.code, f"attribute {attribute.code} must be a finite number")
    if attribute.integer and not number.is_integer():
        raise _bad(attribute.code, f"attribute {attribute.code} must be a whole number")
    if attribute.minimum is not None and number < attribute.minimum:
        raise _bad(attribute.code, f"attribute {attribute.code} must be at least {attribute.minimum:g}")
    return int(number) if attribute.integer else number


def _one(attribute: Attribute, text: str) -> Any:
    if attribute.datatype == "number":
        return _number(attribute, text)
    if attribute.datatype == "datetime":
        try:
            return datetime.fromisoformat(text).isoformat()
        except ValueError:
            raise _bad(
                attribute.code, f"attribute {attribute.code} must be an ISO 8601 time, e.g. 2026-05-01T08:30:00+08:00"
            ) from None
    if attribute.datatype in LISTS:
        keys = [key for key, _name in attribute.values]
        if text not in keys:
            listed = ", ".join(keys)
            raise _bad(attribute.code, f"attribute {attribute.code} must be one of {listed}, not {text[:40]!r}")
        return text
    limit = MAX_TEXT if attribute.datatype == "text" else MAX_STRING
    if len(text) > limit:
        raise _bad(attribute.code, f"attribute {attribute.code} is longer than {limit} characters")
    return text


def validate(
    category_code: str, submitted: Mapping[str, tuple[list[str], bool]], defs: Definitions | None = None
) -> dict[str, Any]:
    """The clean answers for a report of `category_code`, or a 400-worthy InvalidInput naming the first problem."""
    known = {a.code: a for a in (defs or definitions()).for_category(category_code)}
    for code in submitted:
        if code not in known:
            listed = ", ".join(known) or "none"
            raise _bad(code, f"service {category_code} has no attribute {code!r} (its attributes: {listed})")
    clean: dict[str, Any] = {}
    for code, attribute in known.items():
        values, as_list = submitted.get(code, ([], False))
        values = [v.strip() for v in values if v.strip()]  # an empty parameter equals an absent one
        if not values:
            if attribute.required:
                raise _bad(code, f"attribute {code} is required for service {category_code}")
            continue
        if attribute.datatype == "multivaluelist":
            clean[code] = list(dict.fromkeys(_one(attribute, v) for v in values))
            continue
        if as_list or len(values) > 1:
            raise _bad(code, f"attribute {code} takes one value; send attribute[{code}]=…, not a list")
        clean[code] = _one(attribute, values[0])
    return clean
