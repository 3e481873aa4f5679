"""Application settings, read from the environment (and `.env` when present)."""

from functools import lru_cache
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # postgresql://user:password@host:port/dbname — `make dev` sets it to an embedded server.
    database_url: str
    pool_min_size: int = 1
    pool_max_size: int = 10
    # A query running longer is cancelled by PostgreSQL (the request gets an error, the
    # connection goes back to the pool): no request can hold a connection for long.
    statement_timeout_ms: int = 10_000

    # --- request limits (app/core/limits.py) ---
    max_body_bytes: int = 1_048_576  # forms and JSON signals
    body_timeout_s: float = 10.0  # a body arriving slower is refused (slow-loris)
    max_query_value_chars: int = 8_000  # any one value in the address
    max_search_chars: int = 200  # `?q=`: re-run on every change, a live stream's key
    max_signal_depth: int = 32  # nesting of `?datastar=` / JSON signals

    # Exposes /test, the Datastar SDK conformance endpoint. Never on in production.
    test_mode: bool = False

    # --- realtime (stores marked `realtime: true`; see app/realtime/) ---
    # "coalesced" is the real implementation; "naive" is the benchmark baseline
    # (one unbounded queue per stream, one frame per event, no coalescing).
    realtime_mode: Literal["coalesced", "naive"] = "coalesced"
    # A change after a quiet period is sent at once; changes arriving within this window
    # after a frame are folded into the next one (a burst: ~one frame per window).
    realtime_coalesce_ms: int = 30
    # Comment line on idle streams so proxies and load balancers keep them open.
    realtime_heartbeat_s: float = 15.0
    # A stream this far behind is dropped; the browser reconnects and resumes by event id.
    realtime_queue_frames: int = 64
    realtime_queue_bytes: int = 1_048_576
    # The listener re-reads the events table this often even without a NOTIFY wake-up.
    realtime_catchup_s: float = 5.0
    # Events older than this are pruned; a client further behind gets a full re-render.
    realtime_retention_s: float = 24 * 3600
    # A reconnecting page that missed more events than this is re-rendered whole instead.
    realtime_max_replay: int = 5000
    realtime_prune_every_s: float = 600.0
    # Datastar reconnect tuning, rendered into the page's @get options.
    realtime_retry_interval_ms: int = 500
    realtime_retry_max_wait_ms: int = 5000
    # Open streams one client address may hold (behind a proxy, let the server see the
    # client's address: uvicorn --proxy-headers), and distinct stream keys (searches,
    # zooms…) one screen's streams may form; beyond, a new stream gets 429 (app/core/limits.py).
    realtime_max_streams_per_client: int = 64
    realtime_max_keys_per_view: int = 1000


@lru_cache
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]  # database_url comes from the environment


class _TestModeFlag(BaseSettings):
    """Only TEST_MODE, read as `Settings` reads it (so "false", "0" or "no" are off)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    test_mode: bool = False


def test_mode(settings: Settings | None = None) -> bool:
    """Whether /test is mounted: the given settings decide, else TEST_MODE in the
    environment (`TEST_MODE=true make dev` serves it to the official SDK test runner)."""
    if settings is not None:
        return settings.test_mode
    return _TestModeFlag().test_mode
