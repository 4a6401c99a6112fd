#!/usr/bin/env bash
# Python SDK side of the upload benchmark (see crates/lrs-core/benches/upload.rs): the same files
# (target/bench-upload/, written by the Rust bench) uploaded to a fresh Azurite on loopback by
# azure-storage-blob 12.x `upload_blob(max_concurrency=8)`, with and without validate_content=True.
# The API version is pinned to 2026-06-06, the newest Azurite 3.37 accepts (the SDK defaults to a newer one).
# Reports MB/s, CPU seconds and peak RSS from /usr/bin/time. Usage: scripts/bench-upload.sh [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}
data=$root/target/bench-upload
venv=$root/target/bench-venv
[ -d "$data/small" ] || { echo "run 'cargo bench -p lrs-core --bench upload' first (it writes the files)"; exit 2; }
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q 'azure-storage-blob>=12,<13'
bin=$root/tools/azurite/node_modules/.bin
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
loc=$(mktemp -d)
PATH=$bin:$PATH "$bin/azurite-blob" --disableTelemetry --silent --location "$loc" --blobHost 127.0.0.1 --blobPort "$port" &
azurite=$!
trap 'kill $azurite; wait $azurite 2>/dev/null; rm -rf "$loc"' EXIT
sleep 3
cat > "$loc/up.py" <<'PY'
import sys, os, time, uuid
from azure.storage.blob import BlobServiceClient
port, data, validate = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
conn = ("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
        f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;")
cc = BlobServiceClient.from_connection_string(conn, api_version="2026-06-06").get_container_client("pybench")
try: cc.create_container()
except Exception: pass
files = sorted(os.path.join(data, f) for f in os.listdir(data) if f.endswith(".bak")) + \
        sorted(os.path.join(data, "small", f) for f in os.listdir(os.path.join(data, "small")))
run, total, t = uuid.uuid4().hex[:8], 0, time.time()
for f in files:
    with open(f, "rb") as fh:
        cc.upload_blob(f"{run}/{os.path.basename(f)}", fh, overwrite=True, max_concurrency=8, validate_content=validate)
    total += os.path.getsize(f)
print(f"RESULT {total/1e6/(time.time()-t):.1f}")
PY
for validate in 0 1; do
  for i in $(seq "$runs"); do
    out=$( { /usr/bin/time -f 'TIME %U %S %M' "$venv/bin/python" "$loc/up.py" "$port" "$data" "$validate"; } 2>&1 ) || { echo "$out"; exit 1; }
    mbs=$(grep RESULT <<<"$out" | awk '{print $2}')
    read -r _ u s m < <(grep '^TIME' <<<"$out")
    echo "python validate_content=$validate run $i: $mbs MB/s, CPU $(python3 -c "print($u + $s)") s, peak RSS $((m / 1024)) MiB"
  done
done
