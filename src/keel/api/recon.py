"""The reconciliation routes: start a run, list runs, read one with its breaks, download its
report as CSV or HTML.

A run is started with the broker's statement as the request body (``text/csv``, the file as
the broker sent it) or with no body (the drop copy only). A statement with bad lines is
refused whole (422, each line named) and nothing is compared.

(No ``from __future__ import annotations``: FastAPI reads these annotations.)
"""

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

from keel.app.desk_common import ForbiddenError, NotFoundError
from keel.app.recon import Reconciler, ReconInputError
from keel.app.recon_report import report_csv, report_html
from keel.app.users import Permission, User

PROBLEM = "application/problem+json"
STATEMENT_BODY = {
    "requestBody": {
        "required": False,
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "the broker's statement file, as sent (omit to compare the drop copy only)",
    }
}


def recon_routes(
    app: FastAPI, recon: Reconciler, current_user: Callable[..., Awaitable[User]]
) -> None:
    """Add the reconciliation routes to ``app``."""

    @app.exception_handler(ReconInputError)
    async def refused(request: Request, error: ReconInputError) -> JSONResponse:
        errors = [{"field": "statement", "reason": problem} for problem in error.problems]
        body = {"type": "about:blank", "title": "The run cannot start; nothing was compared",
                "status": 422, "detail": str(error), "errors": errors}  # fmt: skip
        return JSONResponse(body, status_code=422, media_type=PROBLEM)

    @app.post("/v1/recon/runs", tags=["reconciliation"], status_code=201,
              openapi_extra=STATEMENT_BODY)  # fmt: skip
    async def start_run(
        request: Request,
        user: Annotated[User, Depends(current_user)],
        broker: Annotated[str, Query(min_length=1, max_length=64)],
        trade_date: date | None = None,
        file_name: Annotated[str, Query(min_length=1, max_length=200)] = "statement.csv",
    ) -> dict[str, Any]:
        if not user.may(Permission.WORK_EXCEPTIONS):
            raise ForbiddenError(f"{user.name} ({user.role}) may not run reconciliations")
        content = await request.body()
        if not content:
            return await recon.run(broker, trade_date=trade_date, actor=user.actor)
        with tempfile.TemporaryDirectory(prefix="keel-recon-") as folder:
            path = Path(folder) / Path(file_name).name
            await asyncio.to_thread(path.write_bytes, content)
            return await recon.run(broker, statement=path, trade_date=trade_date,
                                   actor=user.actor)  # fmt: skip

    @app.get("/v1/recon/runs", tags=["reconciliation"])
    async def list_runs(
        user: Annotated[User, Depends(current_user)],
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        _may_read(user)
        return {"runs": recon.runs(limit)}

    @app.get("/v1/recon/runs/{run_id}", tags=["reconciliation"])
    async def get_run(run_id: str, user: Annotated[User, Depends(current_user)]) -> dict[str, Any]:
        return _visible_run(recon, user, run_id)

    @app.get("/v1/recon/runs/{run_id}/report.csv", tags=["reconciliation"],
             response_class=PlainTextResponse)  # fmt: skip
    async def run_csv(run_id: str, user: Annotated[User, Depends(current_user)]) -> str:
        return report_csv(_visible_run(recon, user, run_id))

    @app.get("/v1/recon/runs/{run_id}/report.html", tags=["reconciliation"],
             response_class=HTMLResponse)  # fmt: skip
    async def run_html(run_id: str, user: Annotated[User, Depends(current_user)]) -> str:
        return report_html(_visible_run(recon, user, run_id))


def _may_read(user: User) -> None:
    if not user.may(Permission.READ):
        raise ForbiddenError(f"{user.name} ({user.role}) may not read reconciliations")


def _visible_run(recon: Reconciler, user: User, run_id: str) -> dict[str, Any]:
    """A run with the breaks on the user's accounts (an admin sees them all)."""
    _may_read(user)
    run = recon.run_report(run_id)
    if run is None:
        raise NotFoundError(f"no reconciliation run {run_id!r}")
    run["breaks"] = [
        found for found in run["breaks"]
        if user.sees(found["keel"].get("account") or found["broker"].get("account") or "")
    ]  # fmt: skip
    return run
