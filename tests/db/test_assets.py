"""Assets students can load (issue #16, item 1): deploy publishes every asset the modules
it writes use, content-addressed, to a real S3-compatible server (moto's, boto3
unchanged) or a local folder, before it commits; the rows hold absolute URLs."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.builders import git, module, versions
from tests.conftest import CLI, Database, Repo
from tests.doubles.s3_server import SECRET_KEY, S3Server
from tests.doubles.s3_server import serve as serve_s3

PNG = b"\x89PNG\r\n\x1a\n" + b"plan"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    """The bucket; pipeline.yaml says so (the environment would win over it)."""
    monkeypatch.delenv("PIPELINE_ASSETS_STORE", raising=False)
    yield from serve_s3(monkeypatch)


def image_module(module_id: str, *assets: str, content: str = "") -> dict[str, Any]:
    sections = [
        {
            "section_number": n,
            "section_type": "image",
            "title": f"I{n}",
            "content": content if n == 1 else "",
            "media_url": asset,
            "section_config": {"alt_text": "a"},
        }
        for n, asset in enumerate(assets, 1)
    ]
    return module(module_id=module_id, sections=sections)


def student_urls(db: Database) -> list[str]:
    """Every URL or path students' rows name: media, captions, Markdown destinations."""
    found = []
    for media, content, config in db.rows(
        "SELECT media_url, content, section_config::text FROM module_sections"
    ):
        found += [media] if media else []
        found += re.findall(r"\]\(<?([^)>\s]+)", content)
        found += [v for k, v in json.loads(config or "{}").items() if k == "captions_url"]
    return found


def deploy_json(cli: CLI) -> dict[str, Any]:
    result = cli("deploy", "--json")
    assert result.code == 0, result.err
    payload: dict[str, Any] = json.loads(result.out)
    return payload


def test_samples_are_published_once_and_rows_hold_urls_that_answer(
    repo: Repo, db: Database, cli: CLI, s3: S3Server
) -> None:
    repo.copy_samples()
    (repo.root / "pipeline.yaml").write_text(s3.pipeline_yaml())
    db.seed_reference()

    first = deploy_json(cli)
    used = sorted(str(p.relative_to(repo.root)) for p in repo.assets.rglob("*") if p.is_file())
    assert sorted(first["assets_uploaded"]) == used  # every asset the samples use
    assert s3.keys() == sorted(
        "modules/" + hashlib.sha256((repo.root / p).read_bytes()).hexdigest() + Path(p).suffix
        for p in used
    )

    urls = [u for u in student_urls(db) if "data/assets" in u or "127.0.0.1" in u]
    assert len(urls) == 6 and not [u for u in urls if "data/assets" in u]
    for url in urls:
        answer = httpx.get(url)
        assert answer.status_code == 200, url
        digest = url.rsplit("/", 1)[1].split(".")[0]
        assert hashlib.sha256(answer.content).hexdigest() == digest
    paths = db.value("SELECT asset_urls FROM modules WHERE module_id = 'lab-safety-101'")
    assert sorted(paths) == [
        "data/assets/lab-safety-101/lab-floor-plan.png",
        "data/assets/lab-safety-101/ppe-checklist.png",
    ]

    # A no-op redeploy writes and uploads nothing.
    before, keys = versions(db), s3.keys()
    again = deploy_json(cli)
    assert again["applied"] is False and again["assets_uploaded"] == []
    assert versions(db) == before and s3.keys() == keys

    # A changed module whose files are there already: nothing uploaded again.
    lab = json.loads((repo.modules / "lab-safety-101.json").read_text())
    lab["title"] = "Lab Safety 102"
    (repo.modules / "lab-safety-101.json").write_text(json.dumps(lab, indent=2))
    changed = deploy_json(cli)
    assert changed["counts"]["update"] == 1 and changed["assets_uploaded"] == []
    assert s3.keys() == keys


def test_the_same_bytes_under_another_name_are_not_uploaded_again(
    repo: Repo, db: Database, cli: CLI, s3: S3Server
) -> None:
    (repo.root / "pipeline.yaml").write_text(s3.pipeline_yaml())
    repo.asset("data/assets/a/plan.png", PNG)
    repo.write(image_module("a", "data/assets/a/plan.png"))
    assert deploy_json(cli)["assets_uploaded"] == ["data/assets/a/plan.png"]
    repo.asset("data/assets/b/copy.png", PNG)
    repo.write(image_module("b", "data/assets/b/copy.png"))
    second = deploy_json(cli)
    assert second["counts"]["insert"] == 1 and second["assets_uploaded"] == []
    [key] = s3.keys()
    media = db.rows("SELECT DISTINCT media_url FROM module_sections")
    assert media == [(s3.public_base_url + key,)]


def test_new_bytes_at_the_same_path_get_a_new_url(
    repo: Repo, db: Database, cli: CLI, s3: S3Server
) -> None:
    """The module file did not change, its image did: the rows are written again with
    the new URL (same revision), and the old object stays for pages still open."""
    (repo.root / "pipeline.yaml").write_text(s3.pipeline_yaml())
    repo.asset("data/assets/a/plan.png", PNG)
    repo.write(image_module("a", "data/assets/a/plan.png"))
    deploy_json(cli)
    old = db.value("SELECT media_url FROM module_sections")
    repo.asset("data/assets/a/plan.png", PNG + b" v2")
    payload = deploy_json(cli)
    assert payload["counts"]["repair"] == 1
    assert payload["assets_uploaded"] == ["data/assets/a/plan.png"]
    assert any("asset files' URLs" in note for note in payload["notes"])
    new = db.value("SELECT media_url FROM module_sections")
    assert new != old and httpx.get(new).content == PNG + b" v2"
    assert httpx.get(old).status_code == 200
    assert db.value("SELECT revision FROM modules") == 1
    # The drift check agrees the rows are what the pipeline wrote.
    assert json.loads(cli("status", "--json").out)[0]["drifted"] is False


def test_markdown_links_to_assets_become_urls(
    repo: Repo, db: Database, cli: CLI, s3: S3Server
) -> None:
    (repo.root / "pipeline.yaml").write_text(s3.pipeline_yaml())
    repo.asset("data/assets/a/plan.png", PNG)
    repo.asset("data/assets/a/notes.pdf", b"%PDF-1.4 notes")
    content = (
        'See ![the plan](data/assets/a/plan.png "Plan") and [the notes][n].\n\n'
        "Code stays as written: `![x](data/assets/a/plan.png)`\n\n"
        "[n]: <data/assets/a/notes.pdf#page=2>\n"
    )
    repo.write(image_module("a", "data/assets/a/plan.png", content=content))
    deploy_json(cli)
    stored = db.value("SELECT content FROM module_sections WHERE section_number = 1")
    base = s3.public_base_url + "modules/"
    plan = hashlib.sha256(PNG).hexdigest()
    notes = hashlib.sha256(b"%PDF-1.4 notes").hexdigest()
    assert f'![the plan]({base}{plan}.png "Plan")' in stored
    assert f"[n]: <{base}{notes}.pdf#page=2>" in stored
    assert "`![x](data/assets/a/plan.png)`" in stored
    assert httpx.get(f"{base}{notes}.pdf").headers["content-type"] == "application/pdf"


def test_a_real_database_without_a_store_is_refused(
    repo: Repo, db: Database, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIPELINE_ASSETS_STORE")
    repo.asset("data/assets/a/plan.png", PNG)
    repo.write(image_module("a", "data/assets/a/plan.png"))
    refused = cli("deploy")
    assert refused.code == 2
    assert "no asset store is set for this database" in refused.err
    assert "assets.store" in refused.err and "Traceback" not in refused.err
    assert db.value("SELECT count(*) FROM modules") == 0
    # Modules without assets need no store.
    (repo.modules / "a.json").unlink()
    repo.write(module(module_id="b"))
    assert cli("deploy").code == 0


def test_the_local_store_and_its_url_form(repo: Repo, db: Database, cli: CLI) -> None:
    repo.asset("data/assets/a/plan.png", PNG)
    repo.write(image_module("a", "data/assets/a/plan.png"))
    assert deploy_json(cli)["assets_uploaded"] == ["data/assets/a/plan.png"]
    digest = hashlib.sha256(PNG).hexdigest()
    assert db.value("SELECT media_url FROM module_sections") == (
        f"http://127.0.0.1:8765/{digest}.png"
    )
    assert (repo.root / ".pipeline" / "assets" / f"{digest}.png").read_bytes() == PNG


def test_a_media_url_too_long_once_it_is_a_url_is_named_and_writes_nothing(
    repo: Repo, db: Database, cli: CLI
) -> None:
    """validate allows 500 characters for the path as written; its URL is longer."""
    repo.asset("data/assets/a/plan.png", PNG)
    path = "data/assets/a/plan.png?"
    long = path + "q" * (500 - len(path))
    repo.write(image_module("a", "data/assets/a/plan.png", long))
    assert cli("validate").code == 0
    for args in (("deploy", "--dry-run"), ("deploy",)):
        refused = cli(*args)
        assert refused.code == 1, refused.err
        assert "a section 2: media_url data/assets/a/plan.png?q" in refused.err
        assert "more than the 500 the database holds" in refused.err
    assert db.value("SELECT count(*) FROM modules") == 0


def plan_with_store(repo: Repo, monkeypatch: pytest.MonkeyPatch, **environment: str) -> None:
    """Module "a" with one picture, and the asset store's settings in the environment."""
    for name, value in environment.items():
        monkeypatch.setenv(f"PIPELINE_ASSETS_{name.upper()}", value)
    repo.asset("data/assets/a/plan.png", PNG)
    repo.write(image_module("a", "data/assets/a/plan.png"))


def test_a_prefix_from_the_environment_cannot_lead_out_of_the_store(
    repo: Repo, db: Database, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment overrides pipeline.yaml, and is held to the same rules."""
    plan_with_store(repo, monkeypatch, store="local", prefix="../escape/")
    refused = cli("deploy")
    assert refused.code == 2, refused.err
    assert '(PIPELINE_ASSETS_*): assets.prefix: "../escape/" is not allowed' in refused.err
    assert not (repo.root / ".pipeline" / "escape").exists()
    assert db.value("SELECT count(*) FROM modules") == 0


def test_the_environment_may_name_the_store_in_any_case_and_a_prefix_without_its_slash(
    repo: Repo, db: Database, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan_with_store(repo, monkeypatch, store="Local", prefix="modules")
    assert deploy_json(cli)["assets_uploaded"] == ["data/assets/a/plan.png"]
    digest = hashlib.sha256(PNG).hexdigest()
    assert db.value("SELECT media_url FROM module_sections") == (
        f"http://127.0.0.1:8765/modules/{digest}.png"
    )


def test_an_asset_linked_from_outside_the_repository_is_not_published(
    repo: Repo, db: Database, cli: CLI, tmp_path_factory: pytest.TempPathFactory
) -> None:
    secret = tmp_path_factory.mktemp("elsewhere") / "id_rsa"
    secret.write_text("-----BEGIN PRIVATE KEY-----")
    (repo.assets / "a").mkdir()
    os.symlink(secret, repo.assets / "a" / "key.png")
    repo.write(image_module("a", "data/assets/a/key.png"))
    refused = cli("deploy")
    assert refused.code == 1
    assert "data/assets/a/key.png is a link to a file outside the repository" in refused.err
    assert not (repo.root / ".pipeline" / "assets").exists()
    assert db.value("SELECT count(*) FROM modules") == 0


def test_a_failed_upload_writes_nothing(repo: Repo, db: Database, cli: CLI, s3: S3Server) -> None:
    (repo.root / "pipeline.yaml").write_text(s3.pipeline_yaml().replace(s3.bucket, "no-such"))
    repo.asset("data/assets/a/plan.png", PNG)
    repo.write(image_module("a", "data/assets/a/plan.png"))
    refused = cli("deploy")
    assert refused.code == 2, refused.err
    assert "the bucket no-such" in refused.err and "does not exist" in refused.err
    assert SECRET_KEY not in refused.err + refused.out
    assert db.value("SELECT count(*) FROM modules") == 0


def test_unchanged_committed_assets_are_not_read_again(
    repo: Repo, db: Database, cli: CLI, s3: S3Server
) -> None:
    """git's index and the database tell an unchanged file's sha256: a redeploy after
    the validator changed (every file re-read) still needs no asset's bytes."""
    (repo.root / "pipeline.yaml").write_text(s3.pipeline_yaml())
    repo.asset("data/assets/a/plan.png", PNG)
    repo.write(image_module("a", "data/assets/a/plan.png"))
    git(repo.root, "init", "-q")
    git(repo.root, "add", "data")
    git(repo.root, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "a")
    deploy_json(cli)
    blob = git(repo.root, "rev-parse", "HEAD:data/assets/a/plan.png")
    assert db.value("SELECT blob_id FROM pipeline_assets") == blob
    # Make the database the only place the sha256 can come from: if the file were read,
    # the deploy would compute the real one and see a change.
    db.conn.execute("UPDATE pipeline_assets SET sha256 = repeat('0', 64)")
    db.conn.execute("UPDATE modules SET validated_with = 'an older validator'")
    payload = deploy_json(cli)
    assert payload["counts"]["repair"] == 1  # the remembered sha256 was used: a new URL
    assert db.value("SELECT media_url FROM module_sections").endswith("0" * 64 + ".png")
