"""The content-addressed blob store shared by every artifact kind. Use `get_blob_store()`."""
from artifacts.storage.blobstore import BlobStat, BlobStore, BlobWriter, LocalBlobStore, UploadBusy, get_blob_store

__all__ = ["BlobStat", "BlobStore", "BlobWriter", "LocalBlobStore", "UploadBusy", "get_blob_store"]
