"""The synthetic demo city: deterministic, scalable."""
