"""Where the database is: the one module that reads the environment and the config file.

Order of precedence: ``--db URL``, then ``GRADESTORE_DATABASE_URL``, then the ``database_url``
key of the config file, then a SQLite file in the user's data directory.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from gradestore.errors import ConfigurationError

ENV_DATABASE_URL = "GRADESTORE_DATABASE_URL"
ENV_CONFIG_FILE = "GRADESTORE_CONFIG"
APP_NAME = "gradestore"


# Keys a config file may hold; anything else is a mistake worth an error (a typo in
# "database_url" must not quietly send grades to the default store). Add new keys here.
KNOWN_CONFIG_KEYS: tuple[str, ...] = ("database_url",)
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
# Query parameters of a URL (libpq's and others') whose values are secrets.
SECRET_PARAMETERS = ("password", "sslpassword", "passfile", "passwd", "pwd", "pass", "secret")
_URL_PASSWORD = re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^\s:/@'\"]*):[^\s'\"]*@")
_SECRET_PARAMETER = re.compile(
    rf"(?i)(?<![a-z0-9_])((?:{'|'.join(SECRET_PARAMETERS)})\s*=\s*)('[^']*'|\"[^\"]*\"|[^&\s'\"]*)"
)


@dataclass(frozen=True)
class DatabaseSetting:
    url: str
    source: str  # "--db", the environment variable, the config file path, or "default"

    def describe_source(self) -> str:
        """Where the URL came from, for `db current` and for errors about it."""
        if self.source == "--db":
            return "--db"
        if self.source == ENV_DATABASE_URL:
            return f"${ENV_DATABASE_URL}"
        if self.source == "default":
            return f"the default (no --db, ${ENV_DATABASE_URL} or config file)"
        return f"config file {self.source}"


def mask_secrets(text: str) -> str:
    """``text`` with every password in it replaced by ``***``: the ``user:password@`` of any URL
    (up to its last ``@``, so a password holding ``@`` is masked whole) and the values of
    ``password=`` and the other secret parameters, in a query string or a libpq key=value
    string. Every message that may carry a URL goes through this, tracebacks included."""
    masked = _URL_PASSWORD.sub(r"\1:***@", text)
    return _SECRET_PARAMETER.sub(r"\1***", masked)


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
    """Accept the URLs people type and give SQLAlchemy the driver we ship (psycopg 3).

    A password holding an unencoded ``@`` is encoded (``%40``), so that the host is what
    follows the last ``@`` before the path.
    """
    url = url.strip()
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    if "://" not in url:
        # A bare path means a SQLite file.
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    return _encode_at_in_password(url)


def _encode_at_in_password(url: str) -> str:
    scheme, _, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if authority.count("@") < 2:
        return url
    userinfo, _, host = authority.rpartition("@")
    user, colon, password = userinfo.partition(":")
    return f"{scheme}://{user}{colon}{password.replace('@', '%40')}@{host}{slash}{path}"


def _url_from_config_file(path: Path, explicit: bool) -> str | None:
    """The config file's database_url; an explicit config that does not work is an error."""
    if not path.exists():
        if explicit:
            raise ConfigurationError(f"${ENV_CONFIG_FILE} names {path}, which does not exist")
        return None
    if path.is_dir():
        raise ConfigurationError(f"{path}: the config file is a folder, not a file")
    import tomllib  # only when there is a config file to read (start-up time)

    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise ConfigurationError(f"{path}: cannot read config file: {error.strerror}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{path}: not a valid TOML config file: {error}") from error
    _check_keys(path, data)
    url = data.get("database_url")
    if url is None:
        if explicit and not data:
            raise ConfigurationError(f"{path}: the config file sets no database_url")
        return None
    if not isinstance(url, str) or not url.strip():
        raise ConfigurationError(f"{path}: database_url must be a non-empty string")
    return url


def _check_keys(path: Path, data: dict[str, object]) -> None:
    import difflib

    for key in data:
        if key not in KNOWN_CONFIG_KEYS:
            close = difflib.get_close_matches(key, KNOWN_CONFIG_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            known = ", ".join(KNOWN_CONFIG_KEYS)
            raise ConfigurationError(
                f"{path}: unknown key {mask_secrets(key)!r}{hint}; known keys: {known}"
            )


def check_url(setting: DatabaseSetting) -> DatabaseSetting:
    """Refuse, naming where it came from, a URL that cannot be parsed or names a database
    kind gradestore does not support (exit 78)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    where = setting.describe_source()
    shown = mask_secrets(setting.url)
    try:
        parsed = make_url(setting.url)
        parsed.port  # noqa: B018 (parsing the port raises ValueError when it is not a number)
    except ArgumentError as error:
        raise ConfigurationError(f"{where}: cannot parse database URL {shown!r}") from error
    except ValueError as error:
        raise ConfigurationError(f"{where}: the port in {shown!r} is not a number") from error
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise ConfigurationError(
            f"{where}: {shown!r} names database kind {backend!r}; gradestore supports "
            + " and ".join(SUPPORTED_BACKENDS)
        )
    return setting


def _as_chosen(setting: DatabaseSetting) -> DatabaseSetting:
    return setting


def resolve_database(cli_url: str | None = None, *, check: bool = True) -> DatabaseSetting:
    """The database to use and where that choice came from; raises ConfigurationError (exit
    78) for an explicit setting that does not work. ``check=False`` leaves the URL unparsed
    (SQLAlchemy is not imported): for a caller that takes only URLs it reads itself, and asks
    again with the check for any other (the answer for stored bytes, gradestore.ingest)."""
    checked = check_url if check else _as_chosen
    if cli_url is not None:
        if not cli_url.strip():
            raise ConfigurationError("--db: the database URL is empty")
        return checked(DatabaseSetting(normalize_url(cli_url), "--db"))
    env_url = os.environ.get(ENV_DATABASE_URL)
    if env_url:
        return checked(DatabaseSetting(normalize_url(env_url), ENV_DATABASE_URL))
    config_path = config_file_path()
    file_url = _url_from_config_file(config_path, explicit=bool(os.environ.get(ENV_CONFIG_FILE)))
    if file_url:
        return checked(DatabaseSetting(normalize_url(file_url), str(config_path)))
    return DatabaseSetting(f"sqlite:///{default_database_path()}", "default")
