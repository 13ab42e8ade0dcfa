#!/bin/sh
# Static checks that `make check` runs: cppcheck over the sources (the
# tests are Criterion macros that cppcheck cannot follow; they build with
# -Werror and run under the sanitizers instead).
set -eu
cd "$(dirname "$0")/.."
# cppcheck reads uthash (header-only) to follow its macros, but not the
# rest of /usr/include, which it cannot parse.
inc=$(mktemp -d)
trap 'rm -rf "$inc"' EXIT
ln -s /usr/include/uthash.h "$inc/uthash.h"
cppcheck --enable=warning,performance,portability --std=c11 --quiet --inline-suppr \
    --error-exitcode=1 -I. -I"$inc" core controller reconcilers drivers scheduler schema novactl

# The layers of README.md ("Layout"): each folder includes only its own
# headers and those of the folders below it, so no arrow runs back up.
layer() { # FOLDER ALLOWED...
    dir=$1
    shift
    pattern=$(printf '%s\\|' "$dir" "$@")
    bad=$(grep -n '#include "[a-z]*/' "$dir"/*.[ch] | grep -v "#include \"\\(${pattern%\\|}\\)/" || true)
    [ -z "$bad" ] || { echo "lint: $dir/ reaches up a layer:"; echo "$bad"; exit 1; } >&2
}
layer controller scheduler reconcilers drivers core schema
layer scheduler core schema
layer novactl core scheduler schema
layer reconcilers drivers core schema
layer drivers core schema
layer core schema
layer schema
