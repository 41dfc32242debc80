"""Asset stores: where deploy publishes the files modules use, content-addressed.

An object's key is `<prefix><sha256 of its bytes><the file name's ending>`
(`modules/3f5a...e1.png`): the same bytes always get the same key, so a file
already there is never uploaded again, and changed bytes get a new URL that no
browser or CDN has cached. Its URL is the store's public base URL plus the key.

- `LocalStore`: a folder (default `.pipeline/assets`), URL
  `http://127.0.0.1:8765/<key>` unless `public_base_url` says otherwise;
  `pipeline assets serve` serves it for a laptop trial.
- `S3Store`: any S3-compatible bucket (AWS S3, Cloudflare R2, MinIO) through boto3,
  credentials from boto3's own chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the
  environment, a profile, a role). The one place botocore's exceptions become ours.

Settings come from pipeline.yaml's `assets:`, each overridable by the environment
(PIPELINE_ASSETS_STORE, _BUCKET, _PREFIX, _PUBLIC_BASE_URL, _ENDPOINT_URL, _REGION,
_DIRECTORY). Unset, the store is local, but only with the embedded Postgres: a deploy
to a real database must say where its assets go, or students would get URLs of the
operator's laptop.
"""

from __future__ import annotations

import mimetypes
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from pipeline.config import AssetSettings, http_url, settings_problems
from pipeline.errors import ServiceError, UsageError, redact

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEFAULT_LOCAL_URL = "http://127.0.0.1:8765/"
# Objects never change under a key (it is their content's hash): cache them for a year.
CACHE_CONTROL = "public, max-age=31536000, immutable"
ENVIRONMENT = {f.name: f"PIPELINE_ASSETS_{f.name.upper()}" for f in fields(AssetSettings)}
_ENDING = re.compile(r"^\.[a-z0-9]{1,10}$")


def object_key(prefix: str, sha256: str, path: str) -> str:
    """`<prefix><sha256><ending>`: the ending of the file's name (lower case) keeps the
    type visible to browsers and CDNs; anything odd is left out."""
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    ending = name[dot:].lower() if dot > 0 else ""  # as PurePosixPath.suffix, faster
    return f"{prefix}{sha256}{ending if _ENDING.match(ending) else ''}"


def content_type(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


class AssetStore(Protocol):
    """Where published assets live. `identity` names the place objects are kept (the
    database remembers what was published where)."""

    @property
    def identity(self) -> str: ...

    @property
    def prefix(self) -> str: ...

    def url(self, key: str) -> str: ...

    def missing(self, keys: list[str]) -> set[str]: ...

    def put(self, key: str, source: Path, path: str) -> None: ...


def with_environment(settings: AssetSettings, environ: Mapping[str, str]) -> AssetSettings:
    """pipeline.yaml's settings with PIPELINE_ASSETS_* from the environment on top."""
    found = {
        name: environ[variable].strip()
        for name, variable in ENVIRONMENT.items()
        if environ.get(variable, "").strip()
    }
    if "store" in found:  # read in any case, as open_store does
        found["store"] = found["store"].lower()
    if found.get("prefix") and not found["prefix"].endswith("/"):
        found["prefix"] += "/"  # a folder: without its slash the keys would run on
    problems = settings_problems({"assets": found}) if found else []
    if problems:  # the rules pipeline.yaml's are held to: a prefix of "../" leads out
        raise UsageError(
            "the asset store's settings in the environment (PIPELINE_ASSETS_*): "
            + "; ".join(problems)
        )
    return replace(settings, **found)


def open_store(
    settings: AssetSettings,
    *,
    embedded: bool,
    environ: Mapping[str, str] | None = None,
    root: Path | None = None,
) -> AssetStore:
    """The store the settings (and the environment) describe. With no store set, the local
    one for the embedded Postgres; for any other database a store that refuses, when a
    module needs it, with what to set."""
    settings = with_environment(settings, os.environ if environ is None else environ)
    store = (settings.store or "").strip().lower()
    if store not in ("", "s3", "local"):
        raise UsageError(
            f"the asset store {settings.store!r} is not known; set assets.store (or "
            f"{ENVIRONMENT['store']}) to s3 or local"
        )
    if store == "s3":
        return S3Store.from_settings(settings)
    if store == "local" or embedded:
        return LocalStore.from_settings(settings, root or Path())
    return Unconfigured()


def _base(url: str, key: str, example: str) -> str:
    """The setting assets.<key> (or PIPELINE_ASSETS_<KEY>): an http(s) URL clients can
    use, without credentials, ending in a slash."""
    setting = f"assets.{key} ({ENVIRONMENT[key]})"
    http_url(url, setting, f"set it to an http(s) URL, e.g. {example}")
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise UsageError(f"{setting} must not hold credentials; students' browsers load it")
    return url if url.endswith("/") else url + "/"


class LocalStore:
    """A folder; objects are files named by their key."""

    def __init__(
        self, directory: Path, public_base_url: str = DEFAULT_LOCAL_URL, *, prefix: str = ""
    ) -> None:
        self.directory, self.prefix = directory, prefix
        self.base = _base(public_base_url, "public_base_url", DEFAULT_LOCAL_URL)

    @classmethod
    def from_settings(cls, settings: AssetSettings, root: Path = Path()) -> LocalStore:
        directory = Path(settings.directory)
        return cls(
            directory if directory.is_absolute() else root / directory,
            settings.public_base_url or DEFAULT_LOCAL_URL,
            prefix=settings.prefix,
        )

    @property
    def identity(self) -> str:
        return f"file://{self.directory.resolve()}"

    def url(self, key: str) -> str:
        return self.base + key

    def missing(self, keys: list[str]) -> set[str]:
        return {key for key in keys if not (self.directory / key).is_file()}

    def put(self, key: str, source: Path, path: str) -> None:
        """Copy `source` in under `key`: to a temporary file beside it, then renamed, so a
        reader never sees half a file."""
        target = self.directory / key
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
            try:
                with os.fdopen(handle, "wb") as out, open(source, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
                    os.fchmod(out.fileno(), 0o644)
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise UsageError(
                f"could not copy {path} into the local asset store {self.directory} "
                f"({exc.strerror or type(exc).__name__}); nothing was deployed"
            ) from None


class Unconfigured:
    """No store was set and the database is not the embedded one: the first module that
    needs a URL stops the deploy, before anything is written."""

    identity = "unconfigured"
    prefix = ""

    def _refuse(self) -> UsageError:
        return UsageError(
            "the modules use asset files, and no asset store is set for this database: "
            "students would get repository paths or URLs of this machine. Set assets.store "
            "in pipeline.yaml (s3, with bucket and public_base_url; credentials in "
            "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), or assets.store: local (or "
            f"{ENVIRONMENT['store']}=local) to publish to a local folder on purpose"
        )

    def url(self, key: str) -> str:
        raise self._refuse()

    def missing(self, keys: list[str]) -> set[str]:
        raise self._refuse()

    def put(self, key: str, source: Path, path: str) -> None:
        raise self._refuse()


# -- S3-compatible buckets --------------------------------------------------------------------

_REFUSED = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AllAccessDisabled",
    "InvalidToken",
    "ExpiredToken",
    "AuthorizationHeaderMalformed",
    "403",
}
_NO_BUCKET = {"NoSuchBucket"}
_ABSENT = {"404", "NoSuchKey", "NotFound"}


class S3Store:
    """A bucket (and a prefix in it) of any S3-compatible service."""

    def __init__(
        self,
        bucket: str,
        public_base_url: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix = bucket, prefix
        self.base = _base(public_base_url, "public_base_url", "https://cdn.example.org/modules/")
        self.endpoint_url = (
            _base(endpoint_url, "endpoint_url", "https://ACCOUNT.r2.cloudflarestorage.com")
            if endpoint_url
            else None
        )
        self._client: S3Client = boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=region,
            config=Config(
                retries={"max_attempts": 6, "mode": "standard"},
                connect_timeout=10,
                read_timeout=60,
            ),
        )

    @classmethod
    def from_settings(cls, settings: AssetSettings) -> S3Store:
        missing = [key for key in ("bucket", "public_base_url") if not getattr(settings, key, None)]
        if missing:
            raise UsageError(
                "assets.store is s3, but "
                + " and ".join(f"assets.{key} ({ENVIRONMENT[key]})" for key in missing)
                + " is not set"
            )
        assert settings.bucket is not None and settings.public_base_url is not None
        return cls(
            settings.bucket,
            settings.public_base_url,
            prefix=settings.prefix,
            endpoint_url=settings.endpoint_url,
            region=settings.region,
        )

    @property
    def identity(self) -> str:
        host = urlsplit(self.endpoint_url).netloc if self.endpoint_url else "aws"
        return f"s3://{host}/{self.bucket}/{self.prefix}"

    def url(self, key: str) -> str:
        return self.base + key

    def missing(self, keys: list[str]) -> set[str]:
        absent = set()
        for key in keys:
            try:
                with self._translated(f"the object {key}"):
                    self._client.head_object(Bucket=self.bucket, Key=key)
            except _Absent:
                absent.add(key)
        return absent

    def put(self, key: str, source: Path, path: str) -> None:
        with self._translated(f"the upload of {path}"):
            # upload_file sends big files (videos) in parts, retried part by part.
            self._client.upload_file(
                str(source),
                self.bucket,
                key,
                ExtraArgs={"ContentType": content_type(path), "CacheControl": CACHE_CONTROL},
            )

    @contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        """botocore's and boto3's exceptions, as ours: credentials or a bucket that is
        refused are configuration (exit 2); the service failing or out of reach, exit 4."""
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        where = f"the bucket {self.bucket}" + (
            f" at {urlsplit(self.endpoint_url).netloc}" if self.endpoint_url else ""
        )
        try:
            yield
        except (NoCredentialsError, PartialCredentialsError):
            raise UsageError(
                f"no credentials for {where}: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (an access key that may read and write the bucket)"
            ) from None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in _ABSENT:
                raise _Absent from None
            if code in _REFUSED:
                raise UsageError(
                    f"{where} refused {what} ({code}); the credentials need to read and "
                    "write objects there (and list the bucket, or a missing object looks "
                    "like a refusal)"
                ) from None
            if code in _NO_BUCKET:
                raise UsageError(
                    f"{where} does not exist; check assets.bucket and assets.endpoint_url"
                ) from None
            message = redact(str(error.get("Message") or code or exc))
            raise ServiceError(
                "the asset store", f"{where} failed {what}: {message}", status=status
            ) from None
        except S3UploadFailedError as exc:  # upload_file's wrapping of a ClientError
            text = redact(str(exc))
            if any(code in text for code in _NO_BUCKET):
                raise UsageError(
                    f"{where} does not exist; check assets.bucket and assets.endpoint_url"
                ) from None
            if any(code in text for code in _REFUSED if not code.isdigit()):
                raise UsageError(
                    f"{where} refused {what}; the credentials need to write objects there"
                ) from None
            raise ServiceError("the asset store", f"{where} failed {what}: {text}") from None
        except BotoCoreError as exc:
            raise ServiceError(
                "the asset store",
                f"{where} did not answer {what} ({type(exc).__name__}); try again later",
            ) from None


class _Absent(Exception):
    """HEAD found no object under the key."""
