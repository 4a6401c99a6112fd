#!/usr/bin/env bash
# Python SDK side of the upload benchmark (see crates/lrs-core/benches/upload.rs): the same files
# (target/bench-upload/, written by the Rust bench) uploaded to a fresh Azurite on loopback by
# azure-storage-blob 12.x `upload_blob(max_concurrency=8)`, with and without validate_content=True.
# The API version is pinned to 2026-06-06, the newest Azurite 3.37 accepts (the SDK defaults to a newer one).
# Each run gets a fresh Azurite whose storage folder is deleted after it (a 4 GiB upload leaves 4 GiB).
# Reports MB/s, CPU seconds and peak RSS from /usr/bin/time.
# Usage: scripts/bench-upload.sh [RUNS] [BIG_MIB]   (BIG_MIB: the size of the big file, default 4096)
# LRS_BENCH_DATA: where the files are (default target/bench-upload, as for the Rust bench); Azurite's
# storage goes under $TMPDIR (mktemp), so TMPDIR=/dev/shm keeps a multi-GiB run off a full disk.
# BENCH_VALIDATE: which validate_content settings to run, "0 1" by default ("1" for the MD5 one only).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}
big_mib=${2:-4096}
data=${LRS_BENCH_DATA:-$root/target/bench-upload}
venv=$root/target/bench-venv
[ -f "$data/big-$big_mib.bak" ] && [ -d "$data/small" ] || {
  echo "no $data/big-$big_mib.bak: run 'cargo bench -p lrs-core --bench upload -- --big-mib $big_mib' first (it writes the files)"
  exit 2
}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q 'azure-storage-blob>=12,<13'
bin=$root/tools/azurite/node_modules/.bin
loc=$(mktemp -d)
azurite=
stop_azurite() { if [ -n "$azurite" ]; then kill "$azurite"; wait "$azurite" 2>/dev/null || true; azurite=; fi; rm -rf "$loc/store"; }
trap 'stop_azurite; rm -rf "$loc"' EXIT
start_azurite() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$loc/store"
  PATH=$bin:$PATH "$bin/azurite-blob" --disableTelemetry --silent --location "$loc/store" --blobHost 127.0.0.1 --blobPort "$port" &
  azurite=$!
  for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null && return; sleep 0.2; done
  echo "Azurite did not start"; exit 1
}
cat > "$loc/up.py" <<'PY'
import sys, os, time, uuid
from azure.storage.blob import BlobServiceClient
port, data, validate, big = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
conn = ("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
        f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;")
cc = BlobServiceClient.from_connection_string(conn, api_version="2026-06-06").get_container_client("pybench")
try: cc.create_container()
except Exception: pass
files = [os.path.join(data, f"big-{big}.bak")] + \
        sorted(os.path.join(data, "small", f) for f in os.listdir(os.path.join(data, "small")))
run, total, t = uuid.uuid4().hex[:8], 0, time.time()
for f in files:
    with open(f, "rb") as fh:
        cc.upload_blob(f"{run}/{os.path.basename(f)}", fh, overwrite=True, max_concurrency=8, validate_content=validate)
    total += os.path.getsize(f)
print(f"RESULT {total/1e6/(time.time()-t):.1f}")
PY
for validate in ${BENCH_VALIDATE:-0 1}; do
  for i in $(seq "$runs"); do
    start_azurite
    out=$( { /usr/bin/time -f 'TIME %U %S %M' "$venv/bin/python" "$loc/up.py" "$port" "$data" "$validate" "$big_mib"; } 2>&1 ) || { echo "$out"; exit 1; }
    stop_azurite
    mbs=$(grep RESULT <<<"$out" | awk '{print $2}')
    read -r _ u s m < <(grep '^TIME' <<<"$out")
    echo "python validate_content=$validate run $i: $mbs MB/s, CPU $(python3 -c "print($u + $s)") s, peak RSS $((m / 1024)) MiB"
  done
done
