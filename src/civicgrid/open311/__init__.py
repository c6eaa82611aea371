"""Open311 GeoReport v2: an adapter over the cases module (docs/open311.md)."""
