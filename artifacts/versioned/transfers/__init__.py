"""Moving file bytes into and out of model and resource versions (reference/ngc-api.md §5.3, §5.4).

Upload, as NVIDIA's client runs it (upload protocol V2):
1. `scope.blobs_readable`: the dedup check answers "exists" only for blobs the caller may already
   read, so knowing a hash never pulls another tenant's file into a version (§7 item 8);
2. `multipart.MultipartTransfer.start` (or `.resume`): a session whose file is reserved at full
   length in the blob store's uploads/, and one capability URL (`capabilities`) per
   500,000,000-byte part (at least one);
3. `MultipartTransfer.receive_part`: each part written at its offset (any order, in parallel,
   retried at will), streamed, never held whole;
4. `MultipartTransfer.complete`: every part received, the file hashed once, sha256 and length
   checked, then moved into the content-addressed store (or dropped for an identical blob);
5. `commit.files_commit`: verified blobs linked into the version at their paths;
6. `finalize.version_request_completion` → `version_finalize` (through the outbox: in the request
   when every blob was verified at step 4, else on a Celery worker): every file checked against
   storage, totals, UPLOAD_COMPLETE and the artifact's latest version.
Nothing half-uploaded is visible: downloads need UPLOAD_COMPLETE, which only step 6 sets.

With the blob store on an S3 bucket, steps 2-4 run in the bucket (`multipart_s3`): the start begins
an S3 multipart upload of uploads/<id> and hands out presigned UploadPart URLs (parts of at least
5 MiB; the bytes never pass through the app), and complete checks the parts the bucket lists,
assembles them, hashes the object read back and only then copies it to its content address.

Download: `capabilities.file_url_path` signs an expiring capability URL per file and user;
`capabilities.file_for_download` checks it (and that the user may still read the version);
`download.version_zip_stream` streams a whole version as a zip64 archive in small pieces.

Shared by the steps: `errors` (the transfer-specific answers), `rules` (input grammar, permissions).
"""
