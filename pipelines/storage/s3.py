"""An S3-compatible bucket (AWS S3, MinIO, Ceph, moto) through boto3."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from pipelines.storage.base import ArchiveError, NotFound, check_key, register


@register("s3")
class S3Store:
    """`s3://bucket/prefix`. Credentials come from the arguments or boto3's usual chain (environment)."""

    local = False

    def __init__(self, uri: str, *, endpoint_url: str | None = None, region_name: str | None = None,
                 access_key_id: str | None = None, secret_access_key: str | None = None,
                 session_token: str | None = None, max_attempts: int = 3,
                 connect_timeout: float = 5.0, read_timeout: float = 30.0, **_: Any) -> None:
        parts = urlsplit(uri)
        if not parts.netloc:
            raise ArchiveError(f"ARCHIVE_URI {uri!r}: an S3 URI names a bucket (s3://bucket/prefix)")
        self.uri = uri
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/") + "/" if parts.path.strip("/") else ""
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url or None, region_name=region_name or "us-east-1",
            aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
            aws_session_token=session_token,
            config=Config(retries={"max_attempts": max_attempts, "mode": "standard"},
                          connect_timeout=connect_timeout, read_timeout=read_timeout,
                          max_pool_connections=16),
        )

    def _fail(self, action: str, key: str, exc: Exception) -> ArchiveError:
        return ArchiveError(f"cannot {action} {key or '(bucket)'} in {self.uri}: {exc}")

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise self._fail("reach", "", exc) from exc

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.prefix + check_key(key), Body=data,
                                   ContentType=content_type)
        except (BotoCoreError, ClientError) as exc:
            raise self._fail("write", key, exc) from exc

    def get(self, key: str) -> bytes:
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self.prefix + check_key(key))
            return obj["Body"].read()  # type: ignore[no-any-return]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise NotFound(key) from None
            raise self._fail("read", key, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("read", key, exc) from exc

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.prefix + check_key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise self._fail("look up", key, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("look up", key, exc) from exc

    def list(self, prefix: str) -> Iterator[str]:
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + prefix)
            for page in pages:
                for obj in page.get("Contents", []):
                    yield obj["Key"][len(self.prefix):]
        except (BotoCoreError, ClientError) as exc:
            raise self._fail("list", prefix, exc) from exc
