"""Which asset store a deploy uses (pipeline.yaml's assets, PIPELINE_ASSETS_* on top), and
the refusals that keep repository paths and this machine's URLs away from students."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.assets.store import LocalStore, S3Store, Unconfigured, open_store
from pipeline.config import AssetSettings, load_config
from pipeline.errors import UsageError


def test_local_by_default_only_with_the_embedded_postgres(tmp_path: Path) -> None:
    store = open_store(AssetSettings(), embedded=True, environ={}, root=tmp_path)
    assert isinstance(store, LocalStore)
    assert store.directory == tmp_path / ".pipeline" / "assets"
    assert store.url("ab.png") == "http://127.0.0.1:8765/ab.png"
    refusing = open_store(AssetSettings(), embedded=False, environ={})
    assert isinstance(refusing, Unconfigured)
    with pytest.raises(UsageError, match="no asset store is set for this database"):
        refusing.url("ab.png")


def test_the_environment_wins_over_pipeline_yaml(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(
        "assets:\n  store: s3\n  bucket: from-yaml\n  prefix: modules/\n"
        "  public_base_url: https://cdn.example.org/\n"
    )
    settings = load_config(path).assets
    environ = {
        "PIPELINE_ASSETS_BUCKET": "from-env",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
    }
    store = open_store(settings, embedded=False, environ=environ)
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix) == ("from-env", "modules/")
    assert store.url("modules/ab.png") == "https://cdn.example.org/modules/ab.png"
    assert store.identity == "s3://aws/from-env/modules/"
    local = open_store(settings, embedded=False, environ={"PIPELINE_ASSETS_STORE": "local"})
    assert isinstance(local, LocalStore)


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        (AssetSettings(store="ftp"), "the asset store 'ftp' is not known"),
        (AssetSettings(store="s3"), "assets.bucket (PIPELINE_ASSETS_BUCKET) and assets.public"),
        (
            AssetSettings(store="s3", bucket="b", public_base_url="https://u:p@cdn.example.org/"),
            "must not hold credentials",
        ),
        (
            AssetSettings(store="local", public_base_url="ftp://x/"),
            "is not a usable URL: it does not start with http:// or https://",
        ),
        (
            AssetSettings(store="local", public_base_url="http://127.0.0.1:99999/"),
            "assets.public_base_url (PIPELINE_ASSETS_PUBLIC_BASE_URL) 'http://127.0.0.1:99999/' "
            "is not a usable URL: its port is not a number from 1 to 65535",
        ),
    ],
)
def test_wrong_settings_are_named(settings: AssetSettings, words: str) -> None:
    with pytest.raises(UsageError) as caught:
        open_store(settings, embedded=False, environ={})
    assert words in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://bücher.example/modules/",  # a name in another script: browsers take it
        "http://[::1]:8765/",
        "https://pub-0123.r2.dev/",
        "http://localhost:9000/bucket/",
    ],
)
def test_real_world_public_urls_are_taken(url: str) -> None:
    store = open_store(
        AssetSettings(store="local", public_base_url=url), embedded=False, environ={}
    )
    assert isinstance(store, LocalStore)
    assert store.url("ab.png") == url + "ab.png"


def test_pipeline_yaml_refuses_unknown_asset_keys(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text("assets:\n  secret_key: abc\n")
    with pytest.raises(UsageError, match="unknown key 'secret_key'"):
        load_config(path)
