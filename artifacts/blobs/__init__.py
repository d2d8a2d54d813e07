"""The one blob path every artifact kind shares (containers, models and resources, Helm charts, logos).

- `interface`: where bytes live (the paths) and the BlobStore protocol both stores answer;
- `store`: the content-addressed files on local disk, and `get_blob_store` (local or S3);
- `s3_store`, `s3_uploads`: the same on an S3 bucket; uploads as multipart uploads any node continues;
- `links`: the one place a blob row is created, locked and linked (`blob_commit_verified`, the
  only commit of bytes into the store), mounts, HEAD touches and unlinks;
- `uploads`: registry upload sessions (start, append, finish, cancel) and their writer lock, and
  `streamed_upload`, the one "hash while streaming into an upload file" loop;
- `gc`: garbage collection, "referenced" derived from the models' relations to Blob;
- `verify`: re-hashing what storage holds (manage.py verify_blobs, version finalisation) and quarantine;
- `serve`: a blob as a download (Range by registry_portal.http_ranges; a missing file is a 404);
- `errors`: the refused writes, each with its OCI error code.
Stored bytes are hashed by `artifacts.digests.hash_file`.
"""
