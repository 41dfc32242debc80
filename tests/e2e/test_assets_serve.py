"""`pipeline assets serve`: the local store's URLs load in a browser (issue #16, item 1)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from pipeline.assets.publish import identify
from tests.builders import git


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_the_urls_a_deploy_writes(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "pipeline.yaml").write_text(
        f"assets:\n  store: local\n  public_base_url: http://127.0.0.1:{port}/assets/\n"
    )
    store = tmp_path / ".pipeline" / "assets"
    store.mkdir(parents=True)
    (store / ("ab" * 32 + ".png")).write_bytes(b"\x89PNG")
    (tmp_path / "secret.txt").write_text("not an asset")
    server = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "assets", "serve", "--json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert server.stdout is not None
        started = json.loads(server.stdout.readline())
        assert started["url"] == f"http://127.0.0.1:{port}/assets/"
        answer = httpx.get(f"{started['url']}{'ab' * 32}.png")
        assert answer.status_code == 200 and answer.content == b"\x89PNG"
        assert answer.headers["content-type"] == "image/png"
        assert "immutable" in answer.headers["cache-control"]
        for path in ("assets/../secret.txt", "assets/%2e%2e/secret.txt", "secret.txt", "assets/"):
            assert httpx.get(f"http://127.0.0.1:{port}/{path}").status_code == 404, path
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_refuses_a_bucket(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text(
        "assets:\n  store: s3\n  bucket: b-1\n  public_base_url: https://cdn.example.org/\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "assets", "serve"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"},
    )
    assert done.returncode == 2
    assert "serves the files itself" in done.stderr


def test_git_and_the_database_spare_reading_unchanged_files(tmp_path: Path) -> None:
    """A committed, unchanged file's sha256 comes from what the database remembers of its
    blob; an edited one is read."""
    folder = tmp_path / "data" / "assets" / "a"
    folder.mkdir(parents=True)
    (folder / "kept.png").write_bytes(b"kept")
    (folder / "edited.png").write_bytes(b"before")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "a")
    (folder / "edited.png").write_bytes(b"after")
    blobs = {
        git(tmp_path, "rev-parse", f"HEAD:data/assets/a/{name}.png"): name
        for name in ("kept", "edited")
    }
    asked: list[list[str]] = []

    def known(ids: list[str]) -> dict[str, tuple[str, int]]:
        asked.append(ids)
        return dict.fromkeys(ids, ("f" * 64, 99))

    found = identify(tmp_path, ["data/assets/a/kept.png", "data/assets/a/edited.png"], known)
    assert [blobs[b] for b in asked[0]] == ["kept"]  # the edited file's old blob is not asked
    assert found["data/assets/a/kept.png"].sha256 == "f" * 64  # not read
    edited = found["data/assets/a/edited.png"]
    assert edited.size == 5
    assert edited.blob_id == git(tmp_path, "hash-object", str(folder / "edited.png"))
