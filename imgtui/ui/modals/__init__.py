"""The editing forms, each a standalone ModalScreen the main screen pushes.

    EditMetadataModal(images, image)        -> ImageMetadata | None
    SignedUrlsModal(images, image)          -> ImageMetadata | None
    SignedUrlCopyModal(images, image)       -> str | None
    UploadModal(images, paths=None, *, urls=None, problems=None, cwd=None)
                                            -> list[ImageMetadata] | None
    ConfirmDeleteModal(images, targets)     -> list[str] | None   (ids now gone)
    DownloadModal(images, targets)          -> list[Path] | None

Styles: tcss/modals.tcss (FormModal.CSS_PATH: loaded when the first form opens).
"""

from .delete import ConfirmDeleteModal
from .download import DownloadModal
from .metadata import EditMetadataModal
from .signed_urls import SignedUrlCopyModal, SignedUrlsModal
from .upload import UploadModal

__all__ = [
    "ConfirmDeleteModal",
    "DownloadModal",
    "EditMetadataModal",
    "SignedUrlCopyModal",
    "SignedUrlsModal",
    "UploadModal",
]
