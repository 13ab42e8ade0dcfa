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
    --error-exitcode=1 -I. -I"$inc" controller reconcilers drivers schema novactl
