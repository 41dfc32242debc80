"""Which remotes get the token, and in what form (pipeline.git.auth_config)."""

from __future__ import annotations

import base64

import pytest

from pipeline.git import auth_config

TOKEN = "ghs_secret"
HEADER = "AUTHORIZATION: basic " + base64.b64encode(b"x-access-token:ghs_secret").decode()


@pytest.mark.parametrize(
    ("remote", "server"),
    [
        ("https://github.com/frames/modules", "https://github.com"),
        ("https://github.com/frames/modules.git", "https://github.com/"),
        ("https://GitHub.com:443/frames/modules", "https://github.com"),
        ("https://ghe.example.org/frames/modules", "https://ghe.example.org"),
        ("http://127.0.0.1:8080/frames/modules.git", "http://127.0.0.1:8080"),
        ("http://localhost:8080/frames/modules.git", "http://localhost:8080"),
    ],
)
def test_the_github_server_gets_the_header(remote: str, server: str) -> None:
    env = auth_config(remote, server, TOKEN, {})
    assert env == {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"http.{server.rstrip('/')}/.extraheader",
        "GIT_CONFIG_VALUE_0": HEADER,
    }


@pytest.mark.parametrize(
    ("remote", "server"),
    [
        ("https://github.com.evil.example/frames/modules", "https://github.com"),
        ("https://evil.example/github.com/frames/modules", "https://github.com"),
        ("http://github.com/frames/modules", "https://github.com"),  # not over plain http
        ("https://github.com:8443/frames/modules", "https://github.com"),
        ("http://ghe.example.org/frames/modules", "http://ghe.example.org"),
        ("git@github.com:frames/modules.git", "https://github.com"),
        ("ssh://git@github.com/frames/modules.git", "https://github.com"),
        ("/tmp/remote.git", "https://github.com"),
        ("", "https://github.com"),
    ],
)
def test_no_other_remote_gets_it(remote: str, server: str) -> None:
    assert auth_config(remote, server, TOKEN, {}) == {}


def test_no_token_no_header() -> None:
    assert auth_config("https://github.com/frames/modules", "https://github.com", "", {}) == {}


def test_settings_already_in_the_environment_are_kept() -> None:
    env = auth_config(
        "https://github.com/a/b", "https://github.com", TOKEN, {"GIT_CONFIG_COUNT": "2"}
    )
    assert env == {
        "GIT_CONFIG_COUNT": "3",
        "GIT_CONFIG_KEY_2": "http.https://github.com/.extraheader",
        "GIT_CONFIG_VALUE_2": HEADER,
    }
