#!/bin/sh
# Runs the libFuzzer targets built under DIR: each replays its corpus (the
# committed inputs of tests/fuzz/corpus/<target>/, every document of
# tests/corpus/documents.json and manifests/ for the document readers, and
# what earlier runs here found), then fuzzes for SECONDS, and prints its
# executions per second. A crash stops the run with the input's path: fix
# the bug and keep the input in tests/fuzz/corpus/<target>/.
#
# Usage: hack/fuzz.sh DIR SECONDS TARGET...
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$1 secs=$2
shift 2

# Seeds from the documents the validators' tests use.
seeds=$dir/seeds
rm -rf "$seeds"
mkdir -p "$seeds/documents" "$seeds/manifests" "$dir/artifacts"
/usr/bin/python3 - "$top" "$seeds" <<'PY'
import json, os, sys
top, seeds = sys.argv[1], sys.argv[2]
rows = json.load(open(os.path.join(top, "tests/corpus/documents.json")))
docs = [row["doc"] for row in rows if "doc" in row]
# A row is a document, or the text of one that does not parse as such.
for i, row in enumerate(rows):
    with open(os.path.join(seeds, "documents", "%04d.json" % i), "w") as f:
        f.write(json.dumps(row["doc"]) if "doc" in row else row["text"])
# The manifest reader's three forms: one document, an array, several in a row.
for i in range(0, len(docs), 7):
    group = docs[i:i + 3]
    with open(os.path.join(seeds, "manifests", "array-%04d.json" % i), "w") as f:
        json.dump(group, f)
    with open(os.path.join(seeds, "manifests", "stream-%04d.json" % i), "w") as f:
        f.write("\n".join(json.dumps(d) for d in group))
PY
find "$top/manifests" -name '*.json' -exec cp {} "$seeds/manifests/" \;

# fuzz TARGET CORPUS...: the first folder takes what the run finds.
fuzz() {
    t=$1
    shift
    log=$dir/$t.log
    if ! "$dir/$t" -max_total_time="$secs" -print_final_stats=1 -max_len=65536 -timeout=10 \
        -artifact_prefix="$dir/artifacts/$t-" "$@" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "fuzz: $t failed; the input is in $dir/artifacts/ (keep it in tests/fuzz/corpus/${t#fuzz_}/ once fixed)" >&2
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    inputs=$(find "$@" -type f | wc -l)
    echo "fuzz: $t: $runs executions in ${secs}s, $rate exec/s, corpus of $inputs inputs replayed"
}

for t in "$@"; do
    name=${t#fuzz_}
    mkdir -p "$dir/corpus/$t"
    committed=$top/tests/fuzz/corpus/$name
    [ -d "$committed" ] || committed=
    case $name in
    validate) fuzz "$t" "$dir/corpus/$t" ${committed:+"$committed"} "$seeds/documents" ;;
    manifest) fuzz "$t" "$dir/corpus/$t" ${committed:+"$committed"} "$seeds/documents" "$seeds/manifests" ;;
    *) fuzz "$t" "$dir/corpus/$t" ${committed:+"$committed"} ;;
    esac
done
