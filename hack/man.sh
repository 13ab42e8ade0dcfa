#!/bin/sh
# Writes the man page of a NovaCron binary from its --help with help2man:
#   hack/man.sh BINARY SECTION "WHAT IT IS" OUT
# The page's extra sections come from man/<name>.h2m; for novactl, each
# verb's own --help becomes a subsection of VERBS, so the pages never say
# other than the programs do.
set -eu
bin=$1 section=$2 what=$3 out=$4
name=$(basename "$bin")
top=$(cd "$(dirname "$0")/.." && pwd)
inc=$(mktemp)
trap 'rm -f "$inc"' EXIT
cat "$top/man/$name.h2m" >"$inc"
if [ "$name" = novactl ]; then
    printf '\n[VERBS]\n' >>"$inc"
    for verb in apply validate get describe delete wait completion; do
        printf '.SS %s\n.nf\n' "$verb" >>"$inc"
        # roff: backslashes escaped, no line may start with a control character.
        "$bin" "$verb" --help | sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/" >>"$inc"
        printf '.fi\n' >>"$inc"
    done
fi
help2man --no-info --no-discard-stderr --section "$section" --name "$what" \
    --include "$inc" --output "$out" "$bin"
