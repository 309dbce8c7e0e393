"""plantdata's Label Studio: settings and credentials, the real server, and users who can log in."""

from __future__ import annotations

import dataclasses
import json
import stat
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from annotation.accounts import Account, LabelStudioAccountError, admin_client, client_for, ensure_account
from annotation.launcher import LabelStudioConflictError, LabelStudioServer, LabelStudioUnavailableError, is_healthy
from annotation.settings import (
    CREDENTIALS,
    EMAIL,
    PASSWORD,
    TOKEN,
    URL,
    LabelStudioSettings,
    LabelStudioSettingsError,
    read_dotenv,
    write_dotenv,
)
from pipelines.cli import main
from tests.annotation.conftest import RunningLabelStudio, free_port


def logs_in(settings: LabelStudioSettings, email: str, password: str) -> bool:
    """What a person does in the browser: the login form, with its CSRF cookie."""
    with httpx.Client(base_url=settings.url, trust_env=False, timeout=30) as browser:
        browser.get("/user/login/")
        response = browser.post(
            "/user/login/",
            data={"csrfmiddlewaretoken": browser.cookies["csrftoken"], "email": email, "password": password},
            headers={"Referer": f"{settings.url}/user/login/"},
        )
        return response.status_code == 302 and browser.get("/api/current-user/whoami").json()["email"] == email


# settings and credentials


def test_missing_credentials_name_the_variables_and_the_fix(tmp_path: Path, no_dotenv: Path) -> None:
    with pytest.raises(LabelStudioSettingsError) as caught:
        LabelStudioSettings.from_environment(tmp_path, environ={}, dotenv=no_dotenv)
    assert caught.value.variables == CREDENTIALS
    for name in CREDENTIALS:
        assert name in str(caught.value)
    assert "make labelstudio" in str(caught.value) and str(no_dotenv) in str(caught.value)

    with pytest.raises(LabelStudioSettingsError) as caught:
        LabelStudioSettings.from_environment(tmp_path, environ={EMAIL: "a@b.example"}, dotenv=no_dotenv)
    assert caught.value.variables == (PASSWORD, TOKEN)


def test_write_dotenv_is_private_random_and_never_overwrites(tmp_path: Path) -> None:
    path = write_dotenv(tmp_path / ".env")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_text(encoding="utf-8")
    settings = LabelStudioSettings.from_environment(tmp_path / "root", environ={}, dotenv=path)
    assert len(settings.admin_token) == 40 and len(settings.admin_password) >= 24
    assert settings.data_dir == (tmp_path / "root" / "labelstudio").resolve()

    assert write_dotenv(path) == path and path.read_text(encoding="utf-8") == first
    other = write_dotenv(tmp_path / "other.env")
    assert read_dotenv(other)[TOKEN] != read_dotenv(path)[TOKEN]  # fresh for every checkout

    mine = tmp_path / "mine.env"
    mine.write_text("# mine\nOTHER=1\n", encoding="utf-8")
    write_dotenv(mine)
    assert mine.read_text(encoding="utf-8") == "# mine\nOTHER=1\n"
    assert not list(tmp_path.glob("*.partial"))


def test_environment_wins_over_dotenv_variable_by_variable(tmp_path: Path) -> None:
    path = write_dotenv(tmp_path / ".env")
    settings = LabelStudioSettings.from_environment(
        tmp_path, environ={EMAIL: "someone@plant.example", URL: "http://127.0.0.1:9999/"}, dotenv=path
    )
    assert settings.admin_email == "someone@plant.example"
    assert settings.url == "http://127.0.0.1:9999" and settings.port == 9999
    assert settings.admin_token == read_dotenv(path)[TOKEN]


def test_secrets_stay_out_of_reprs(tmp_path: Path) -> None:
    settings = LabelStudioSettings.from_environment(tmp_path, environ={}, dotenv=write_dotenv(tmp_path / ".env"))
    account = Account(id=7, email="ann@plant.example", token="f" * 40)
    for text in (repr(settings), str(settings), repr(account), str(account)):
        assert settings.admin_password not in text and settings.admin_token not in text and "f" * 40 not in text
    assert settings.admin_email in repr(settings)


def test_malformed_token_is_refused(tmp_path: Path) -> None:
    good = read_dotenv(write_dotenv(tmp_path / ".env"))
    for token in ("a" * 39, "a" * 39 + "-"):
        with pytest.raises(LabelStudioSettingsError) as caught:
            LabelStudioSettings.from_environment(tmp_path, environ={**good, TOKEN: token}, dotenv=tmp_path / "x")
        assert caught.value.variables == (TOKEN,)


def test_unreachable_server_is_a_retryable_error_naming_the_fix(tmp_path: Path) -> None:
    settings = dataclasses.replace(
        LabelStudioSettings.from_environment(tmp_path, environ={}, dotenv=write_dotenv(tmp_path / ".env")),
        url=f"http://127.0.0.1:{free_port()}",
    )
    assert not is_healthy(settings.url) and not is_healthy("not a url")
    for attempt in (
        lambda: ensure_account(settings, "ann@plant.example", "password-1"),
        lambda: admin_client(settings),
    ):
        with pytest.raises(LabelStudioUnavailableError) as caught:
            attempt()
        assert caught.value.retryable and settings.url in str(caught.value) and "make labelstudio" in str(caught.value)


# the real server


def test_server_answers_health_and_keeps_its_files_in_its_data_dir(label_studio_running: RunningLabelStudio) -> None:
    settings = label_studio_running.settings
    with httpx.Client(trust_env=False) as client:
        assert client.get(f"{settings.url}/health").json() == {"status": "UP"}
    assert (settings.data_dir / "label_studio.sqlite3").is_file()
    assert (settings.data_dir / "server.log").is_file()
    real_home = Path.home()
    for folder in (real_home / ".local" / "share" / "label-studio", real_home / ".config" / "label-studio"):
        written = [p for p in folder.rglob("*") if p.stat().st_mtime >= label_studio_running.started_at]
        assert not written, f"the server wrote into the real home: {written}"


def test_admin_token_works_through_the_sdk(label_studio: LabelStudioSettings) -> None:
    me = admin_client(label_studio).users.whoami()
    assert me.email == label_studio.admin_email
    assert logs_in(label_studio, label_studio.admin_email, label_studio.admin_password)


def test_ensure_account_signs_up_once_then_logs_in(label_studio: LabelStudioSettings) -> None:
    email, password = "ada@plant.example", "ada-password-1"
    first = ensure_account(label_studio, email, password, first_name="Ada", last_name="Lovelace")
    again = ensure_account(label_studio, email, password)
    assert again.id == first.id and again.email == email and len(again.token) == 40
    me = client_for(label_studio, again.token).users.whoami()
    assert (me.id, me.email) == (first.id, email)
    user = admin_client(label_studio).users.get(id=first.id)
    assert (user.first_name, user.last_name) == ("Ada", "Lovelace")
    assert logs_in(label_studio, email, password)
    assert not logs_in(label_studio, email, "not-her-password")
    with pytest.raises(LabelStudioAccountError, match="refused this password"):
        ensure_account(label_studio, email, "not-her-password")


def test_two_users_get_distinct_ids_and_tokens(label_studio: LabelStudioSettings) -> None:
    bob = ensure_account(label_studio, "bob@plant.example", "bob-password-1")
    eve = ensure_account(label_studio, "eve@plant.example", "eve-password-1")
    assert bob.id != eve.id and bob.token != eve.token
    assert client_for(label_studio, eve.token).users.whoami().email == "eve@plant.example"
    with pytest.raises(LabelStudioAccountError, match="8-128 characters"):
        ensure_account(label_studio, "short@plant.example", "short")


def test_start_reuses_our_running_server_and_refuses_a_strangers(label_studio: LabelStudioSettings) -> None:
    again = LabelStudioServer(label_studio)
    again.start()
    assert again.reused and again.pid is None
    again.stop()  # leaves the reused server alone
    assert is_healthy(label_studio.url)

    stranger = dataclasses.replace(label_studio, admin_token="0" * 40)
    with pytest.raises(LabelStudioConflictError):
        LabelStudioServer(stranger).start()


def test_cli_env_and_status(label_studio: LabelStudioSettings, tmp_path: Path) -> None:
    runner = CliRunner()
    env_file = tmp_path / "cli.env"
    result = runner.invoke(main, ["labelstudio", "env", "--env-file", str(env_file)])
    assert result.exit_code == 0 and result.stdout.strip() == str(env_file.resolve())
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600

    environment = {
        URL: label_studio.url,
        EMAIL: label_studio.admin_email,
        PASSWORD: label_studio.admin_password,
        TOKEN: label_studio.admin_token,
        "PLANTDATA_LABEL_STUDIO_DATA_DIR": str(label_studio.data_dir),
    }
    result = runner.invoke(main, ["labelstudio", "status", "--json", "--env-file", str(env_file)], env=environment)
    status = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    assert status["up"] and status["admin_token_accepted"] and status["installed"]
    assert label_studio.admin_password not in result.output and label_studio.admin_token not in result.output
