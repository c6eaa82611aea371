"""The administrative map: divisions from city to grid, their boundaries and point lookup."""
