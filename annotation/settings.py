"""Where plantdata's Label Studio server runs and which admin it starts with.

Credentials come from the environment or an untracked `.env` file, never from the repository: `make labelstudio`
(`plantdata labelstudio env`) writes a `.env` with fresh random ones. Password and token stay out of reprs.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from config.errors import PlantdataError

REPO = Path(__file__).resolve().parent.parent
DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_VENV = REPO / ".label-studio" / "venv"
PREFIX = "PLANTDATA_LABEL_STUDIO_"
URL, EMAIL, PASSWORD, TOKEN, DATA_DIR, VENV = (
    f"{PREFIX}{name}" for name in ("URL", "ADMIN_EMAIL", "ADMIN_PASSWORD", "ADMIN_TOKEN", "DATA_DIR", "VENV")
)
CREDENTIALS = (EMAIL, PASSWORD, TOKEN)
TOKEN_PATTERN = re.compile(r"[0-9A-Za-z]{40}")  # Label Studio's legacy API tokens are 40 characters
GENERATED_EMAIL = "admin@plantdata.local"


class LabelStudioError(PlantdataError):
    """Root of the errors about plantdata's Label Studio server."""


class LabelStudioSettingsError(LabelStudioError):
    """Credentials or settings are missing or malformed; the message names the variables and the fix."""

    def __init__(self, variables: tuple[str, ...], problem: str, fix: str) -> None:
        self.variables, self.problem, self.fix = variables, problem, fix
        super().__init__(f"{', '.join(variables)}: {problem}. Fix: {fix}")


@dataclass(frozen=True)
class LabelStudioSettings:
    """The server's URL, data folder and virtualenv, and the admin it creates on first start."""

    admin_email: str
    admin_password: str = field(repr=False)
    admin_token: str = field(repr=False)
    data_dir: Path
    url: str = DEFAULT_URL
    venv: Path = DEFAULT_VENV

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", self.url.rstrip("/"))
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LabelStudioSettingsError((URL,), f"{self.url!r} is not an http(s) URL", f"use e.g. {DEFAULT_URL}")
        if "@" not in self.admin_email:
            raise LabelStudioSettingsError((EMAIL,), f"{self.admin_email!r} is not an e-mail address", _REGENERATE)
        if not self.admin_password:
            raise LabelStudioSettingsError((PASSWORD,), "the admin password is empty", _REGENERATE)
        if not TOKEN_PATTERN.fullmatch(self.admin_token):
            raise LabelStudioSettingsError(
                (TOKEN,),
                f"the admin token must be 40 letters or digits, got {len(self.admin_token)} characters",
                _REGENERATE,
            )

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @classmethod
    def from_environment(
        cls, data_root: Path, environ: Mapping[str, str] | None = None, dotenv: Path | None = None
    ) -> LabelStudioSettings:
        """Settings from `PLANTDATA_LABEL_STUDIO_*` variables, falling back to `.env` (default: in the current
        directory); the data folder defaults to `<data_root>/labelstudio`."""
        dotenv_path = dotenv if dotenv is not None else Path.cwd() / ".env"
        values = _merged(environ, dotenv_path)
        missing = tuple(name for name in CREDENTIALS if not values.get(name))
        if missing:
            raise LabelStudioSettingsError(
                missing,
                f"not set in the environment nor in {dotenv_path}",
                f"run `make labelstudio` (or `plantdata labelstudio env`), which writes {dotenv_path} with fresh "
                "random credentials, or set the variables yourself",
            )
        data_dir = values.get(DATA_DIR)
        return cls(
            admin_email=values[EMAIL],
            admin_password=values[PASSWORD],
            admin_token=values[TOKEN],
            data_dir=Path(data_dir).expanduser().resolve() if data_dir else data_root.resolve() / "labelstudio",
            url=values.get(URL) or DEFAULT_URL,
            venv=_venv(values),
        )


def throwaway_settings(data_dir: Path, admin_email: str) -> LabelStudioSettings:
    """A server of its own for a test or a benchmark: a fresh random admin (never the developer's .env), its data
    in `data_dir`, a free port on 127.0.0.1, and the virtualenv of $PLANTDATA_LABEL_STUDIO_VENV or the default."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    return LabelStudioSettings(
        admin_email=admin_email,
        admin_password=secrets.token_urlsafe(24),
        admin_token=secrets.token_hex(20),
        data_dir=data_dir,
        url=f"http://127.0.0.1:{port}",
        venv=venv_path(os.environ, dotenv=data_dir / "no.env"),
    )


_REGENERATE = "correct it, or delete .env and run `plantdata labelstudio env` for fresh random credentials"


def venv_path(environ: Mapping[str, str] | None = None, dotenv: Path | None = None) -> Path:
    """Label Studio's own virtualenv (it pins packages plantdata's venv cannot share): `$PLANTDATA_LABEL_STUDIO_VENV`,
    else `<repo>/.label-studio/venv`. Needs no credentials, so installing works on a fresh clone."""
    return _venv(_merged(environ, dotenv if dotenv is not None else Path.cwd() / ".env"))


def _venv(values: Mapping[str, str]) -> Path:
    chosen = values.get(VENV)
    return Path(chosen).expanduser().resolve() if chosen else DEFAULT_VENV


def _merged(environ: Mapping[str, str] | None, dotenv: Path) -> dict[str, str]:
    """The environment wins over `.env`, variable by variable."""
    values = read_dotenv(dotenv)
    values.update(os.environ if environ is None else environ)
    return values


def read_dotenv(path: Path) -> dict[str, str]:
    """`KEY=VALUE` lines (an optional `export `, `#` comments, values optionally quoted); {} if there is no file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key.isidentifier():
            raise LabelStudioSettingsError(
                (f"{path}:{number}",), "expected KEY=VALUE", "fix or delete that line (comments start with #)"
            )
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def write_dotenv(path: Path) -> Path:
    """Create `path` with fresh random admin credentials, readable by its owner only; an existing file is kept as
    it is (the server's database already holds its admin). Written under a temporary name and linked into place,
    so a reader never sees half a file and two writers cannot both win."""
    path = path.resolve()
    if path.exists():
        return path
    content = (
        "# Label Studio admin for this checkout, written by `plantdata labelstudio env`. Keep it untracked.\n"
        f"# {URL}={DEFAULT_URL}\n"
        f"{EMAIL}={GENERATED_EMAIL}\n"
        f"{PASSWORD}={secrets.token_urlsafe(24)}\n"
        f"{TOKEN}={secrets.token_hex(20)}\n"
    )
    partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)  # whatever the umask
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # it appeared meanwhile: never overwrite
            os.link(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
