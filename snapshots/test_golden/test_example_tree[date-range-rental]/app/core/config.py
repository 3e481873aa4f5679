"""Application settings, read from the environment (and `.env` when present)."""

from functools import lru_cache

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


@lru_cache
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]  # database_url comes from the environment
