"""Names and defaults shared by the service, its backends and the command lines.

They live in the contract so that a backend or a CLI reads them without importing another
backend (the import rules: service imports nothing else from imgtui).
"""

from __future__ import annotations

import pathlib

DEFAULT_LIST_LIMIT = 50  # the binding's default page size
CLOUDFLARE_API = "https://api.cloudflare.com/client/v4"
ACCOUNT_ENV = "CLOUDFLARE_ACCOUNT_ID"  # the names wrangler uses
TOKEN_ENV = "CLOUDFLARE_API_TOKEN"
BASE_URL_ENV = "CLOUDFLARE_BASE_URL"  # the official SDK's name, so one set of variables serves both
# `imgtui serve`'s default port: not wrangler dev's 8787, so both can run side by side. A local
# library's variant URLs point there, so they work as soon as `imgtui serve` runs.
SERVE_PORT = 8790
DEFAULT_DELIVERY_BASE = f"http://127.0.0.1:{SERVE_PORT}/cdn-cgi/imagedelivery"


def default_library_path() -> pathlib.Path:
    """The library `imgtui` opens by default, so `imgtui serve` shares it out of the box."""
    import platformdirs  # only the command lines need it: keep `import imgtui.service` light

    return platformdirs.user_data_path("imgtui") / "library"
