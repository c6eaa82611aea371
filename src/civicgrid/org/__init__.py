"""Organisation units (centres, departments, committees) and grid staffing (一格一员)."""
