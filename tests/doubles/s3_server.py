"""A real S3-compatible server for tests: moto's server mode (`ThreadedMotoServer`), which
speaks the S3 REST API over HTTP on loopback. boto3 talks to it unchanged, through an
endpoint URL, as it would to Cloudflare R2 or MinIO; objects answer anonymous GETs at
`<server>/<bucket>/<key>` (path style), as a public bucket would.
"""

from __future__ import annotations

import json
import logging
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

ACCESS_KEY = "AKIATESTASSETSTORE00"
SECRET_KEY = "test-secret-key-never-printed-0123456789"


@dataclass
class S3Server:
    url: str
    # moto keeps buckets per process, across servers: each test gets a bucket of its own.
    bucket: str = field(default_factory=lambda: f"modules-assets-{uuid.uuid4().hex[:12]}")

    @property
    def public_base_url(self) -> str:
        return f"{self.url}/{self.bucket}/"

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        )

    def keys(self) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=self.bucket)
        return sorted(o["Key"] for o in listed.get("Contents", []))

    def pipeline_yaml(self, prefix: str = "modules/") -> str:
        """pipeline.yaml's assets section for this bucket."""
        return (
            "assets:\n  store: s3\n"
            f"  bucket: {self.bucket}\n  prefix: {prefix}\n"
            f"  public_base_url: {self.public_base_url}\n  endpoint_url: {self.url}\n"
            "  region: us-east-1\n"
        )


def public_read(bucket: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    """A moto S3 server with one empty bucket, and boto3's credentials in the environment."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
        s3 = S3Server(f"http://127.0.0.1:{port}")
        client = s3.client()
        client.create_bucket(Bucket=s3.bucket)
        # Students' browsers read the objects anonymously: a public bucket, as README's
        # set-up makes it (a bucket policy; R2's public access is the same to a reader).
        client.put_bucket_policy(Bucket=s3.bucket, Policy=json.dumps(public_read(s3.bucket)))
        yield s3
    finally:
        server.stop()
