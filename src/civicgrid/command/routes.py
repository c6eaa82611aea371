"""Routes of the command centre."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/command", tags=["command"])
