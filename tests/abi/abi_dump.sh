#!/bin/sh
# Writes the ABI of libforget.so as libabigail XML: the exported functions and the public types
# they reach. Types come from include/libforget and the generated version.h only; the opaque
# handles stay declarations, so internal structs never count. The one definition shared by the
# baseline (scripts/abi-baseline) and the abi test (test_abi.sh).
# Usage: abi_dump.sh <libforget.so> <source root> <build root> <out.abi>
set -eu
exec abidw --headers-dir "$2/include/libforget" --header-file "$3/include/libforget/version.h" \
    --drop-private-types --exported-interfaces-only \
    --no-corpus-path --no-comp-dir-path --short-locs --out-file "$4" "$1"
