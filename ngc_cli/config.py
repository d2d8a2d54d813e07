"""Configuration: $NGC_CLI_HOME/.ngc/config (INI, section [CURRENT], mode 0600), overridden by the
environment variables of NVIDIA's client, overridden by command-line flags."""
import configparser
import os
from dataclasses import dataclass, fields
from pathlib import Path

SECTION = "CURRENT"
FORMATS = ("ascii", "csv", "json")
DEFAULT_URL = "https://127.0.0.1:8443"
NO_ORG = "no-org"
NO_TEAM = "no-team"

# attribute -> (key in the file, environment variable)
KEYS = {
    "url": ("base_url", "NGC_CLI_API_URL"),
    "api_key": ("apikey", "NGC_CLI_API_KEY"),
    "org": ("org", "NGC_CLI_ORG"),
    "team": ("team", "NGC_CLI_TEAM"),
    "format_type": ("format_type", "NGC_CLI_FORMAT_TYPE"),
}


def config_dir() -> Path:
    home = os.environ.get("NGC_CLI_HOME") or os.path.expanduser("~")
    return Path(home) / ".ngc"


def config_path() -> Path:
    return config_dir() / "config"


@dataclass
class Config:
    url: str | None = None
    api_key: str | None = None
    org: str | None = None
    team: str | None = None
    format_type: str | None = None
    # where each value came from: "file", "env", "flag"
    sources: dict | None = None

    @property
    def base_url(self) -> str:
        url = (self.url or DEFAULT_URL).rstrip("/")
        if "://" not in url:
            url = "https://" + url
        return url

    @property
    def org_name(self) -> str | None:
        return None if self.org in (None, "", NO_ORG) else self.org

    @property
    def team_name(self) -> str | None:
        return None if self.team in (None, "", NO_TEAM) else self.team

    @property
    def format(self) -> str:
        return self.format_type if self.format_type in FORMATS else "ascii"


def read_file() -> dict:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(config_path())
    if not parser.has_section(SECTION):
        return {}
    return {attr: parser.get(SECTION, key) for attr, (key, _) in KEYS.items() if parser.has_option(SECTION, key)}


def write_file(values: dict) -> Path:
    """Write the [CURRENT] section (attr -> value; None/"" values are left out), mode 0600."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    parser = configparser.ConfigParser(interpolation=None)
    parser[SECTION] = {KEYS[attr][0]: str(value) for attr, value in values.items() if attr in KEYS and value not in (None, "")}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        parser.write(handle)
    os.chmod(path, 0o600)
    return path


def load(flags: dict | None = None) -> Config:
    """File, then environment, then flags (non-None values)."""
    values, sources = {}, {}
    for attr, value in read_file().items():
        values[attr], sources[attr] = value, "file"
    for attr, (_, env) in KEYS.items():
        if os.environ.get(env):
            values[attr], sources[attr] = os.environ[env], "env"
    if not os.environ.get("NGC_CLI_API_URL") and os.environ.get("NGC_CLI_URL"):
        values["url"], sources["url"] = os.environ["NGC_CLI_URL"], "env"
    for attr, value in (flags or {}).items():
        if attr in KEYS and value is not None:
            values[attr], sources[attr] = value, "flag"
    config = Config(**values)
    config.sources = sources
    return config


def attrs():
    return [f.name for f in fields(Config) if f.name != "sources"]
