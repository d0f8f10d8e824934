#!/usr/bin/env bash
# Rebuild tests/wrangler/state/ (a real `wrangler dev` images state) and expected.json (what
# the binding answered) by running the Worker in worker/ under `wrangler dev` on loopback.
#
#   tests/wrangler/make_state.sh [WRANGLER]      WRANGLER: the wrangler command (default:
#                                                `wrangler` on PATH, else ./node_modules/.bin)
# Install it outside the repo, e.g.: mkdir /tmp/wr && cd /tmp/wr && npm install wrangler
# Needs python3 (stdlib only) and curl. The state is miniflare's internal format:
# https://github.com/cloudflare/workers-sdk/tree/main/packages/miniflare/src/workers/images
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
wrangler="${1:-$(command -v wrangler || echo ./node_modules/.bin/wrangler)}"
work="$(mktemp -d)"
trap 'kill "$dev_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
dev_pid=""

cp -r "$here/worker/." "$work/project"
cd "$work/project"
version="$("$wrangler" --version | tail -1)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"

# Small images, made with the standard library so the script needs no Pillow.
python3 - "$work/img" <<'PY'
import pathlib, struct, sys, zlib
out = pathlib.Path(sys.argv[1]); out.mkdir()
def png(w, h, rgb):
    chunk = lambda kind, body: struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
(out / "cat.png").write_bytes(png(3, 2, (200, 30, 90)))
(out / "dog.png").write_bytes(png(4, 4, (30, 160, 60)))
(out / "sunset.png").write_bytes(png(5, 3, (250, 120, 20)))
(out / "gone.png").write_bytes(png(1, 1, (0, 0, 0)))
(out / "logo.svg").write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>\n')
# The classic 1x1 transparent GIF.
(out / "dot.gif").write_bytes(bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"))
PY

CI=1 WRANGLER_SEND_METRICS=false "$wrangler" dev --ip 127.0.0.1 --port "$port" >"$work/dev.log" 2>&1 &
dev_pid=$!
for _ in $(seq 120); do curl -sf "$base/list" >/dev/null 2>&1 && break; sleep 0.5; done
curl -sf "$base/list" >/dev/null || { cat "$work/dev.log"; exit 1; }

up() {  # up FILE QUERY: upload, print the binding's answer; a pause keeps `uploaded` distinct
  curl -sf -X POST --data-binary "@$work/img/$1" "$base/upload?$2"; echo; sleep 0.05
}
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
{
  up cat.png "filename=cat.png&creator=alice&meta=$(enc '{"album":"pets","stars":5}')"
  up dog.png "id=dog-1&filename=dog.png&creator=bob&meta=$(enc '{"album":"pets"}')"
  up sunset.png "filename=sunset.png&creator=alice&signed=1&meta=$(enc '{"place":"Lisbon"}')"
  up logo.svg "id=brand%2Flogo&filename=logo.svg&meta=$(enc '{"tags":["brand","vector"],"size":{"w":4,"h":4}}')"
  up dot.gif ""
  up gone.png "id=gone&filename=gone.png"
} >"$work/uploads.ndjson"
curl -sf -X POST -H 'content-type: application/json' -d '{"metadata":{"album":"pets","edited":true}}' "$base/update/dog-1" >/dev/null
curl -sf -X DELETE "$base/delete/gone" >/dev/null
curl -sf "$base/list?limit=100" >"$work/list.json"

kill -INT "$dev_pid"; wait "$dev_pid" || true; dev_pid=""
state="$work/project/.wrangler/state/v3/images"
rm -rf "$here/state"; mkdir -p "$here/state"
(cd "$state" && find . -type f ! -name '*-shm' -exec cp --parents {} "$here/state/" \;)
# workerd may exit before checkpointing its WAL: fold each -wal into its database (lossless,
# SQLite's own checkpoint) so the committed state is the .sqlite files and the blobs only.
python3 - "$here/state" <<'PY'
import pathlib, sqlite3, sys
for db in pathlib.Path(sys.argv[1]).rglob("*.sqlite"):
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
for leftover in pathlib.Path(sys.argv[1]).rglob("*.sqlite-*"):
    leftover.unlink()
PY
python3 - "$work" "$version" "$here/expected.json" <<'PY'
import hashlib, json, pathlib, sys
work, version, out = pathlib.Path(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3])
uploads = [json.loads(line) for line in (work / "uploads.ndjson").read_text().splitlines() if line]
listing = json.loads((work / "list.json").read_text())
files = ["cat.png", "dog.png", "sunset.png", "logo.svg", "dot.gif", "gone.png"]  # the upload order
sha256 = {
    upload["id"]: hashlib.sha256((work / "img" / name).read_bytes()).hexdigest()
    for upload, name in zip(uploads, files, strict=True)
}
expected = {"wrangler": version, "uploads": uploads, "list": listing, "sha256": sha256}
out.write_text(json.dumps(expected, indent=2) + "\n")
PY
echo "state from $version in $here/state"
