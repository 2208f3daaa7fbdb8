"""The management commands of the contract, and the project-wide checks."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from helpdesk.models import ApiToken, Membership, Tenant, hash_token
from tests.conftest import World

ROOT = Path(__file__).resolve().parents[2]


def test_create_tenant(db: None) -> None:
    out = io.StringIO()
    call_command(
        "create_tenant",
        "acme",
        "--name",
        "Acme Support",
        "--admin-email",
        "Boss@Acme.test",
        "--admin-password",
        "s3cret-pass-123",
        stdout=out,
    )
    tenant = Tenant.objects.get(slug="acme")
    assert tenant.name == "Acme Support"
    admin = Membership.objects.for_tenant(tenant).get(role="admin")
    assert admin.user.email == "boss@acme.test"
    client = Client(HTTP_HOST="acme.localhost")
    response = client.post(
        "/accounts/login/", {"login": "boss@acme.test", "password": "s3cret-pass-123"}
    )
    assert response.status_code == 302


def test_create_tenant_refuses_bad_or_taken_slug(alpha: World) -> None:
    for slug in ("alpha", "www", "Bad_Slug"):
        with pytest.raises(CommandError):
            call_command(
                "create_tenant",
                slug,
                "--name",
                "X",
                "--admin-email",
                "x@x.test",
                "--admin-password",
                "pw-123456789",
            )


def test_create_tenant_unknown_template_lists_templates(db: None) -> None:
    with pytest.raises(CommandError, match="Available templates"):
        call_command(
            "create_tenant",
            "acme",
            "--name",
            "Acme",
            "--template",
            "nope",
            "--admin-email",
            "x@x.test",
            "--admin-password",
            "pw-123456789",
        )
    assert not Tenant.objects.filter(slug="acme").exists()


def test_create_api_token_prints_token_last(alpha: World) -> None:
    out = io.StringIO()
    call_command(
        "create_api_token", "--tenant", "alpha", "--email", alpha.agent.user.email, stdout=out
    )
    key = out.getvalue().strip().splitlines()[-1]
    assert key.startswith("hd_") and " " not in key
    assert ApiToken.objects.filter(key_hash=hash_token(key), tenant=alpha.tenant).exists()
    response = Client(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Token {key}").get(
        "/api/v1/tickets/"
    )
    assert response.status_code == 200


def test_create_api_token_refuses_non_member(alpha: World, beta: World) -> None:
    with pytest.raises(CommandError):
        call_command("create_api_token", "--tenant", "alpha", "--email", beta.agent.user.email)
    with pytest.raises(CommandError):
        call_command("create_api_token", "--tenant", "nope", "--email", "x@x.test")


def test_no_missing_migrations(db: None) -> None:
    call_command("makemigrations", "--check", "--dry-run", stdout=io.StringIO())


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_check_is_clean_with_prod_settings() -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.prod",
        "SECRET_KEY": "q8Vz-3kLp_T1wXe9sYb2Nc7Hd5Rf0GjMu4Ai6OyKtZl9PvWx-aB3",
        "HELPDESK_BASE_DOMAIN": "help.example.com",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/helpdesk",
    }
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
