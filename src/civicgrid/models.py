"""Imports every module's tables so that metadata (create_all, Alembic) sees them all."""

from civicgrid.audit import models as audit_models
from civicgrid.auth import models as auth_models
from civicgrid.cases import hotline_models as cases_hotline_models
from civicgrid.cases import models as cases_models
from civicgrid.command import models as command_models
from civicgrid.core import jobs as core_jobs
from civicgrid.core import keys as core_keys
from civicgrid.core import scheduler as core_scheduler
from civicgrid.core import workcalendar as core_workcalendar
from civicgrid.disputes import models as disputes_models
from civicgrid.geo import models as geo_models
from civicgrid.notifications import models as notifications_models
from civicgrid.org import models as org_models
from civicgrid.registry import import_mappings as registry_import_mappings
from civicgrid.registry import models as registry_models
from civicgrid.safety import models as safety_models

__all__ = [
    "audit_models",
    "auth_models",
    "cases_hotline_models",
    "cases_models",
    "command_models",
    "core_jobs",
    "core_keys",
    "core_scheduler",
    "core_workcalendar",
    "disputes_models",
    "geo_models",
    "notifications_models",
    "org_models",
    "registry_import_mappings",
    "registry_models",
    "safety_models",
]
