"""Roles, permission codes and scope: the one place that turns a user's scope into query filters."""
