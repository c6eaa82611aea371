"""Infrastructure shared by every domain module; no domain logic lives here."""
