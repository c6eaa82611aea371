"""Reference data every installation starts with: code tables, case categories, the work calendar,
the dispute categories and the incident categories. Idempotent: only what is missing is added, so edits
made by admins survive."""

from __future__ import annotations

from sqlalchemy.orm import Session


def load_reference_data(session: Session) -> dict[str, int]:
    """Add the missing default entries; returns how many were added per table."""
    from civicgrid.cases.categories import seed_categories
    from civicgrid.core.workcalendar import seed_calendar
    from civicgrid.disputes.categories import seed_dispute_categories
    from civicgrid.registry.codes import load_defaults
    from civicgrid.safety.categories import seed_safety_categories
    from civicgrid.safety.index_service import seed_index_config

    return {
        "code tables": load_defaults(session),
        "case categories": seed_categories(session),
        "work calendar": seed_calendar(session),
        "dispute categories": seed_dispute_categories(session),
        "incident categories": seed_safety_categories(session),
        "safety index configurations": seed_index_config(session),
    }
