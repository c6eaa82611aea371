"""The error shape of every API answer: {"error": {"code", "message", "details"}}.

Services raise these; routes never build error responses themselves.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    code: str = Field(description="machine-readable, e.g. not_found, invalid_input, import_rejected")
    message: str = Field(description="what went wrong and what to do about it, for a person")
    details: Any = Field(default=None, description="e.g. the list of {field, problem}")


class ErrorOut(BaseModel):
    """The shape of every error answer."""

    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in {
        400: "bad request",
        401: "not authenticated, or the token or key is invalid",
        403: "your role lacks the permission",
        404: "not found, or outside your scope",
        409: "conflicts with the current state",
        422: "invalid input; details list every problem",
    }.items()
}


class AppError(Exception):
    status_code = 400
    code = "bad_request"
    # Bookkeeping that must survive the refusal (a failed-login counter, a revoked token family):
    # the request's session commits before the error is answered.
    keep_changes = False

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(AppError):
    status_code = 422
    code = "invalid_input"


class Unauthenticated(AppError):
    status_code = 401
    code = "unauthenticated"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class TooManyRequests(AppError):
    status_code = 429
    code = "too_many_requests"


class ImportRejected(InvalidInput):
    """An import found problems; `details` lists every one with the feature or row that caused it."""

    code = "import_rejected"
