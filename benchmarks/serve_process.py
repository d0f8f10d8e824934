"""`imgtui serve` in its own process for the benchmarks, so client and server do not share one
GIL. Imported by bench_rest.py and bench_cli.py (run as scripts: this folder is on sys.path)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys


class ServeProcess:
    def __init__(self, library: pathlib.Path, token: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "imgtui", "serve", "--library", str(library), "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "IMGTUI_API_TOKEN": token},
        )
        assert self.process.stdout is not None
        self.api_url = ""
        for line in self.process.stdout:
            if line.strip().startswith("API"):
                self.api_url = line.split()[-1]
            if line.startswith("Press Ctrl+C"):
                break
        if not self.api_url:
            raise RuntimeError("imgtui serve did not start")
        self.base_url = self.api_url.removesuffix("/client/v4")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
