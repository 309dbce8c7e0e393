"""Install and run plantdata's Label Studio server.

Label Studio pins packages that clash with plantdata's own (Django, pydantic, numpy), so it lives in a virtualenv
of its own, installed from `annotation/labelstudio/requirements.lock` by hash. The server runs in its own process
group, with its home and XDG folders inside its data folder (nothing goes to the user's home), telemetry and
version checks off, and the admin from `LabelStudioSettings`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx
import psutil

from annotation.settings import REPO, LabelStudioError, LabelStudioSettings

LOCK = Path(__file__).resolve().parent / "labelstudio" / "requirements.lock"
UV = REPO / ".tools" / "bin" / "uv"
MARKER = ".plantdata-lock-sha256"
# Label Studio also reads these unprefixed names; an inherited USER or PORT must not leak into it
UNPREFIXED = ("USERNAME", "PASSWORD", "PORT", "HOST", "USER_TOKEN")


class LabelStudioInstallError(LabelStudioError):
    """Label Studio's virtualenv could not be created or installed."""

    def __init__(self, venv: Path, problem: str, fix: str) -> None:
        self.venv, self.problem, self.fix = venv, problem, fix
        super().__init__(f"Label Studio in {venv}: {problem}. Fix: {fix}")


class LabelStudioUnavailableError(LabelStudioError):
    """The server does not answer (yet): starting it again, or waiting longer, can help."""

    retryable = True

    def __init__(self, url: str, problem: str, fix: str) -> None:
        self.url, self.problem, self.fix = url, problem, fix
        super().__init__(f"Label Studio at {url} {problem}. Fix: {fix}")


class LabelStudioConflictError(LabelStudioError):
    """Another server holds the URL: retrying does not help until someone stops it or picks another port."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(
            f"a server answers at {url} but refuses plantdata's admin token. Fix: if it is another program's server, "
            "stop it or set PLANTDATA_LABEL_STUDIO_URL to a free port; if its database was created with other "
            "credentials, put those back into .env or set PLANTDATA_LABEL_STUDIO_DATA_DIR to a new folder"
        )


def ensure_installed(venv: Path, lock: Path = LOCK) -> None:
    """Create `venv` and install the lock into it by hash, unless it already holds this very lock (its sha256 is
    recorded in the venv). Uses the repository's pinned `.tools/bin/uv` when present, else venv and pip."""
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    if _holds(venv, digest):
        return
    venv.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(venv.parent / f".{venv.name}.install-lock"):
        if _holds(venv, digest):  # installed by whoever held the lock before us
            return
        python = venv / "bin" / "python"
        environment = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
        environment.pop("VIRTUAL_ENV", None)
        if UV.exists():
            if not python.exists():
                _run([str(UV), "venv", "--clear", "--python", "python3.11", str(venv)], venv, environment)
            install = [str(UV), "pip", "install", "--python", str(python), "--require-hashes", "--compile-bytecode"]
            install += ["-r", str(lock)]  # compiled now: with PYTHONDONTWRITEBYTECODE set, every start would compile
        else:
            if not python.exists():
                _run([sys.executable, "-m", "venv", "--clear", str(venv)], venv, environment)
            install = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--require-hashes"]
            install += ["-r", str(lock)]
        _run(install, venv, environment)
        partial = venv / f"{MARKER}.{os.getpid()}.partial"
        partial.write_text(digest + "\n", encoding="utf-8")
        partial.replace(venv / MARKER)


def _holds(venv: Path, digest: str) -> bool:
    marker = venv / MARKER
    return (
        (venv / "bin" / "label-studio").exists()
        and marker.exists()
        and marker.read_text(encoding="utf-8").strip() == digest
    )


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """One installer per virtualenv at a time (`make test` and a developer's `make labelstudio` may overlap)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command: list[str], venv: Path, environment: Mapping[str, str]) -> None:
    try:
        done = subprocess.run(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(environment), check=False
        )
    except FileNotFoundError as exc:
        raise LabelStudioInstallError(venv, f"{exc.filename} was not found", "install Python 3.11") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stdout.splitlines()[-15:])
        raise LabelStudioInstallError(
            venv,
            f"`{' '.join(command)}` failed with exit code {done.returncode}:\n{tail}\n",
            "check the network or the package index, then run `plantdata labelstudio install` again",
        )


def is_healthy(url: str, timeout: float = 2.0) -> bool:
    """Whether a Label Studio answers `GET /health` with status UP at `url`; never raises."""
    try:
        with http_client(url, timeout) as client:
            response = client.get("/health")
        return response.status_code == 200 and response.json().get("status") == "UP"
    except (httpx.HTTPError, httpx.InvalidURL, ValueError, AttributeError):
        return False


def admin_accepted(settings: LabelStudioSettings, timeout: float = 5.0) -> bool:
    """Whether the server at the settings' URL accepts their admin token (it is ours, not a stranger's)."""
    try:
        with http_client(settings.url, timeout) as client:
            response = client.get(
                "/api/current-user/whoami", headers={"Authorization": f"Token {settings.admin_token}"}
            )
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def http_client(url: str, timeout: float, follow_redirects: bool = False) -> httpx.Client:
    """A client for `url`; proxies from the environment are skipped for a server on this machine."""
    local = httpx.URL(url).host in ("127.0.0.1", "localhost", "::1")
    return httpx.Client(base_url=url, timeout=timeout, trust_env=not local, follow_redirects=follow_redirects)


def pid_file(settings: LabelStudioSettings) -> Path:
    return settings.data_dir / "server.pid"


class LabelStudioServer:
    """One Label Studio server for `settings`: `start()` launches it (or reuses one already answering with our admin
    token), `wait_healthy()` waits for it, `stop()` stops what `start()` launched. As a context manager it does all
    three."""

    def __init__(self, settings: LabelStudioSettings) -> None:
        self.settings = settings
        self.reused = False
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.settings.data_dir / "server.log"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        if self._process is not None or self.reused:
            return
        settings = self.settings
        if is_healthy(settings.url):
            if not admin_accepted(settings):
                raise LabelStudioConflictError(settings.url)
            self.reused = True
            return
        executable = settings.venv / "bin" / "label-studio"
        if not executable.exists():
            raise LabelStudioInstallError(
                settings.venv, "label-studio is not installed", "run `plantdata labelstudio install`"
            )
        for folder in (settings.data_dir, settings.data_dir / "home", settings.data_dir / "xdg"):
            folder.mkdir(parents=True, exist_ok=True)
        settings.data_dir.chmod(0o700)  # the database holds the users' password hashes and tokens
        command = [str(executable), "start", "--no-browser", "--internal-host", settings.host]
        command += ["-p", str(settings.port), "--data-dir", str(settings.data_dir)]
        self._log = self.log_path.open("ab")
        self._log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(command)}\n".encode())
        self._log.flush()
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=settings.data_dir,
            env=server_environment(settings, os.environ),
            start_new_session=True,  # its own process group: stopped as a whole, deaf to the terminal's Ctrl-C
        )

    def wait_healthy(self, timeout: float = 180) -> None:
        """Wait until `/health` answers UP; a fresh database takes about half a minute on a loaded machine."""
        deadline = time.monotonic() + timeout
        while not is_healthy(self.settings.url):
            code = self._process.poll() if self._process else None
            if code is not None:
                raise LabelStudioUnavailableError(
                    self.settings.url,
                    f"exited with code {code} before it was ready; {self.log_path} ends with:\n{self.log_tail()}\n",
                    "read the log; a port taken by another program needs another PLANTDATA_LABEL_STUDIO_URL",
                )
            if time.monotonic() > deadline:
                raise LabelStudioUnavailableError(
                    self.settings.url,
                    f"did not answer /health within {timeout:.0f} s; {self.log_path} ends with:\n{self.log_tail()}\n",
                    "wait longer on a loaded machine, or read the log",
                )
            time.sleep(0.5)

    def wait(self) -> int | None:
        """Block until the server launched by `start()` exits; its exit code (None if it was reused)."""
        return self._process.wait() if self._process else None

    def detach(self) -> Path:
        """Leave the launched server running after this object is gone; its pid goes to `pid_file`."""
        path = pid_file(self.settings)
        if self._process is not None:
            partial = path.with_suffix(f".{os.getpid()}.partial")
            partial.write_text(f"{self._process.pid}\n", encoding="utf-8")
            partial.replace(path)
            self._process = None
        self._close_log()
        return path

    def stop(self, timeout: float = 30) -> None:
        """Stop the server launched by `start()` (SIGTERM to its group, SIGKILL after `timeout`); a reused one is
        left alone."""
        process, self._process = self._process, None
        if process is not None:
            _stop_group(process.pid, lambda: process.wait(timeout))
        self._close_log()

    def log_tail(self, lines: int = 15) -> str:
        try:
            with self.log_path.open("rb") as handle:
                handle.seek(max(0, handle.seek(0, os.SEEK_END) - 8192))
                text = handle.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> LabelStudioServer:
        self.start()
        try:
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def server_environment(settings: LabelStudioSettings, base: Mapping[str, str]) -> dict[str, str]:
    """`base` without anything Label Studio would read by accident, plus our admin, data folder and privacy."""
    environment = {
        key: value for key, value in base.items() if key not in UNPREFIXED and not key.startswith("LABEL_STUDIO_")
    }
    environment.update(
        LABEL_STUDIO_BASE_DATA_DIR=str(settings.data_dir),
        LABEL_STUDIO_USERNAME=settings.admin_email,
        LABEL_STUDIO_PASSWORD=settings.admin_password,
        LABEL_STUDIO_USER_TOKEN=settings.admin_token,
        LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",
        LATEST_VERSION_CHECK="false",  # without it the server hangs offline
        COLLECT_ANALYTICS="false",
        SENTRY_DSN="",  # empty, or errors go to the vendor
        FRONTEND_SENTRY_DSN="",
        HOME=str(settings.data_dir / "home"),
        XDG_CONFIG_HOME=str(settings.data_dir / "xdg"),
        XDG_DATA_HOME=str(settings.data_dir / "xdg" / "data"),
        XDG_CACHE_HOME=str(settings.data_dir / "xdg" / "cache"),
        PYTHONUNBUFFERED="1",  # the log tail in errors is current
    )
    return environment


def stop_background(settings: LabelStudioSettings, timeout: float = 30) -> int | None:
    """Stop the server `detach()` recorded in the pid file; the pid stopped, or None if none runs. A pid that now
    belongs to another program (the file outlived a reboot) is left alone."""
    path = pid_file(settings)
    try:
        pid = int(path.read_text(encoding="utf-8").strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        process = psutil.Process(pid)
        ours = str(settings.data_dir) in process.cmdline() and process.pid == os.getpgid(pid)
    except (psutil.Error, ProcessLookupError):
        ours = False
    if ours:
        _stop_group(pid, lambda: process.wait(timeout))
    path.unlink(missing_ok=True)
    return pid if ours else None


def _stop_group(group: int, wait: Callable[[], object]) -> None:
    """SIGTERM to the process group, then SIGKILL if `wait` (which waits for the leader) times out."""
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        wait()
    except (subprocess.TimeoutExpired, psutil.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired, psutil.TimeoutExpired):
            wait()
