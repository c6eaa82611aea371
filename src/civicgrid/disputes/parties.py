"""Checking a dispute party: codes of the registry's code tables, GB 11643 ID numbers (and their
agreement with the sex given); the ID number leaves here only encrypted, beside its blind index."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from civicgrid.core.crypto import Keyring
from civicgrid.core.idnumber import InvalidIdNumber, parse_id_number
from civicgrid.disputes.models import PARTY_ID_CONTEXT, Dispute, DisputeParty
from civicgrid.registry import codes

CODED_FIELDS = {"sex": "sex", "ethnicity": "ethnicity", "education": "education", "person_category": "person_type"}
PLAIN_FIELDS = ("role", "name", "sex", "ethnicity", "education", "person_category", "address")


def party_problems(session: Session, data: dict[str, Any], *, on: date, prefix: str = "") -> list[dict[str, str]]:
    """Every problem of one party's fields, each naming its field (with `prefix`, e.g. "parties[0].")."""
    found = codes.problems(
        session, {f"{prefix}{field}": (table, data.get(field)) for field, table in CODED_FIELDS.items()}
    )
    if not (data.get("name") or "").strip():
        found.append({"field": f"{prefix}name", "problem": "a party needs a name"})
    number = data.get("id_number")
    if number:
        try:
            # A party may come from anywhere, and old cards keep the code of a county since merged.
            parsed = parse_id_number(number, today=on, allow_unknown_region=True)
        except InvalidIdNumber as exc:
            found.append({"field": f"{prefix}id_number", "problem": exc.message, "reason": exc.reason.value})
        else:
            if data.get("sex") in ("1", "2") and data["sex"] != parsed.sex.value:
                found.append(
                    {"field": f"{prefix}sex", "problem": "the ID number's sex digit does not match the sex given"}
                )
    return found


def new_party(keyring: Keyring, dispute: Dispute, data: dict[str, Any]) -> DisputeParty:
    """A party of `dispute` from checked fields (see `party_problems`)."""
    party = DisputeParty(
        dispute_id=dispute.id,
        district_code=dispute.district_code,
        street_code=dispute.street_code,
        community_code=dispute.community_code,
        grid_code=dispute.grid_code,
        **{field: _clean(data.get(field)) for field in PLAIN_FIELDS},
    )
    number = data.get("id_number")
    if number:
        normalised = parse_id_number(number, today=date.max, allow_unknown_region=True).number
        party.id_number_enc = keyring.encrypt(normalised, context=PARTY_ID_CONTEXT)
        party.id_number_index = keyring.blind_index(normalised, context=PARTY_ID_CONTEXT)
    return party


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value
