"""Run the embedded desk on its own, as a stand-alone Open311 backend.

Useful for a city that has no ticket system yet, and for tests that need a
backend which is down and then comes up.  The staff console is at ``/desk/``.
"""

from __future__ import annotations

from aiohttp import web

from desk.api import DeskApi
from desk.console import Console
from desk.services import open311_services
from desk.store import DeskStore
from hotline.config import Config

__all__ = ["build_desk_app", "serve_desk"]


def build_desk_app(cfg: Config) -> web.Application:
    store = DeskStore(cfg.effective_desk_db_url, cfg.ticket_prefix, cfg.tz)
    api = DeskApi(
        store,
        cfg.desk_api_key,
        open311_services(),
        {"urgent": float(cfg.deadline_urgent_h), "normal": float(cfg.deadline_normal_h)},
    )
    app = web.Application()
    app.router.add_routes(api.routes())
    # The staff console too (no survey callback here: that lives in the gateway).
    console = Console(
        api,
        survey_url=cfg.effective_outbox_db_url,
        tracker_url=cfg.effective_tracker_url,
        data_dir=cfg.data_dir,
    )
    app.router.add_routes(console.routes())
    app.cleanup_ctx.append(console.ctx)

    async def close_store(_app: web.Application) -> None:
        store.close()

    app.on_cleanup.append(close_store)  # type: ignore[arg-type]
    return app


def serve_desk(cfg: Config, port: int) -> None:
    web.run_app(build_desk_app(cfg), host=cfg.host, port=port, print=None)
