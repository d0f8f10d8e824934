"""Where the stylesheets are: `imgtui/tcss` in an installed wheel, `tcss/` in a checkout."""

from __future__ import annotations

from pathlib import Path


def tcss_folder() -> Path:
    package = Path(__file__).resolve().parent.parent
    for folder in (package / "tcss", package.parent / "tcss"):
        if (folder / "app.tcss").is_file():
            return folder
    raise FileNotFoundError(f"imgtui styles (tcss/app.tcss) not found near {package}")
