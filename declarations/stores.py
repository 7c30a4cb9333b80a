"""The record store: where sealed records, dossiers, export ZIPs and attachments are kept
(issue 17).

One Django storage, ``STORAGES["default"]``, chosen in the settings by ``COI_STORAGE``: the
filesystem under ``COI_MEDIA_ROOT`` (the embedded default), or a bucket of an S3-compatible object
store that every application and worker machine shares (``ObjectStore``). The code never asks
which: it writes through a model's ``FileField`` or ``default_storage`` and reads through
``stored_bytes`` (a record, whole) and ``open_stored`` (a download, streamed) here.

The bucket is private and the application is its only door. Objects are written with no ACL (so
the bucket's own, private), and no store hands out a link to one (``ObjectStore.url`` refuses):
every download goes through the view that checked the reader's scope and logged the access.

Checkpoints are not kept here: they have a store of their own that the database's owner cannot
write (``records/checkpoints.py``, docs/DEPLOY.md "Record store").
"""

from __future__ import annotations

import posixpath
from contextlib import closing
from typing import IO, Any, cast

from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.db.models.fields.files import FieldFile
from storages.backends.s3 import S3Storage  # type: ignore[import-untyped]
from storages.utils import clean_name  # type: ignore[import-untyped]

#: A read through Django's file API (``S3File``) larger than this goes to a temporary file, not
#: memory (django-storages keeps the whole object in memory by default).
SPOOL_BYTES = 8 * 1024 * 1024


class ObjectStore(S3Storage):
    """An S3-compatible bucket (AWS S3, MinIO, Ceph RGW, ...) through django-storages.

    Configured by the settings' record-store block (``COI_S3_*``); the keys come from the
    environment as boto3 reads them (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, an instance
    role). Three things differ from django-storages' defaults, on purpose:

    - no ACL is sent: objects are as private as the bucket, and a store that refuses ACLs
      (S3's "bucket owner enforced") accepts the writes; a public ACL is a configuration error;
    - an object is never overwritten: every write gets a fresh name (``get_available_name``);
    - there are no URLs to objects, signed or not (``url``).
    """

    default_acl = None
    querystring_auth = True
    file_overwrite = False
    max_memory_size = SPOOL_BYTES

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        acl = self.default_acl or self.object_parameters.get("ACL")
        if acl not in (None, "private"):
            raise ImproperlyConfigured(
                f"The record store is private: objects may not be written with ACL {acl!r}."
            )

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        """The name asked for with a random suffix, on every write (``<public id>_<7 random>``).

        A bucket has no atomic "create if absent" that every S3-compatible store offers, so two
        workers racing to issue one record would otherwise write the same key: the loser's object
        would replace the winner's (whose hash is the one stored) and the loser's clean-up would
        then delete it. With a name of its own each keeps its own object, and the loser deletes
        only that. The filesystem store gets the same from ``O_EXCL``.
        """
        directory, file_name = posixpath.split(clean_name(name))
        root, extension = posixpath.splitext(file_name)
        fresh = posixpath.join(directory, self.get_alternative_name(root, extension))
        if max_length is not None and len(fresh) > max_length:
            raise SuspiciousFileOperation(f"Storage cannot find an available name for {name!r}.")
        return fresh

    def url(
        self,
        name: str | None,
        parameters: dict[str, Any] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        """Refused: a link to an object would skip the scope check and the access log."""
        raise NotImplementedError("The record store gives no links: the application streams.")

    def open_stream(self, name: str) -> tuple[IO[bytes], int]:
        """The object's body, read from the bucket as it is read from here, and its size: one
        GET, nothing buffered."""
        key = self._normalize_name(clean_name(name))
        try:
            got = self.bucket.Object(key).get()
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise FileNotFoundError(f"No such object in the record store: {key}") from error
            raise
        return cast(IO[bytes], got["Body"]), int(got["ContentLength"])


def open_stored(file: FieldFile) -> tuple[IO[bytes], int | None]:
    """A stored file opened for reading as a stream, and its size when the stream cannot tell
    (an object's body is not seekable); the caller closes it."""
    storage = file.storage
    if isinstance(storage, ObjectStore):
        return storage.open_stream(file.name or "")
    return file.open("rb"), None


def stored_bytes(file: FieldFile) -> bytes:
    """A stored file's bytes, whole (a record or an attachment: bounded, and hashed or sent at
    once)."""
    stream, _size = open_stored(file)
    with closing(stream):
        return stream.read()
