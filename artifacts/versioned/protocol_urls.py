"""Routes of the model/resource capability URLs (artifacts/versioned/transfer_apis.py): part uploads
and file downloads signed into the URL itself, at the host root under `/v2/transfers/`, which no NGC
space path or registry route uses."""
from django.urls import path

from artifacts.versioned import transfer_apis

urlpatterns = [
    path("v2/transfers/uploads/<uuid:upload_id>/parts/<int:number>", transfer_apis.upload_part, name="transfer-upload-part"),
    path("v2/transfers/files/<int:file_id>", transfer_apis.download_file, name="transfer-download-file"),
]
