"""Where the database is: the one module that reads the environment and the config file.

Order of precedence: ``--db URL``, then ``GRADESTORE_DATABASE_URL``, then the ``database_url``
key of the config file, then a SQLite file in the user's data directory.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from gradestore.errors import ConfigurationError

ENV_DATABASE_URL = "GRADESTORE_DATABASE_URL"
ENV_CONFIG_FILE = "GRADESTORE_CONFIG"
APP_NAME = "gradestore"


@dataclass(frozen=True)
class DatabaseSetting:
    url: str
    source: str  # "--db", the environment variable, the config file path, or "default"


def config_file_path() -> Path:
    """``$GRADESTORE_CONFIG``, else ``config.toml`` in the user's config directory."""
    explicit = os.environ.get(ENV_CONFIG_FILE)
    if explicit:
        return Path(explicit).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME)) / "config.toml"


def default_database_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME)) / "gradestore.db"


def normalize_url(url: str) -> str:
    """Accept the URLs people type and give SQLAlchemy the driver we ship (psycopg 3)."""
    url = url.strip()
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if "://" not in url:
        # A bare path means a SQLite file.
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    return url


def _url_from_config_file(path: Path) -> str | None:
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigurationError(f"{path}: cannot read config file: {error}") from error
    url = data.get("database_url")
    if url is None:
        return None
    if not isinstance(url, str) or not url.strip():
        raise ConfigurationError(f"{path}: database_url must be a non-empty string")
    return url


def resolve_database(cli_url: str | None = None) -> DatabaseSetting:
    if cli_url:
        return DatabaseSetting(normalize_url(cli_url), "--db")
    env_url = os.environ.get(ENV_DATABASE_URL)
    if env_url:
        return DatabaseSetting(normalize_url(env_url), ENV_DATABASE_URL)
    config_path = config_file_path()
    file_url = _url_from_config_file(config_path)
    if file_url:
        return DatabaseSetting(normalize_url(file_url), str(config_path))
    return DatabaseSetting(f"sqlite:///{default_database_path()}", "default")
