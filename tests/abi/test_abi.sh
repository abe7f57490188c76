#!/bin/sh
# The built libforget.so against the committed ABI baseline (abi/libforget.abi), with libabigail.
# Allowed: new functions and variables, new enumerators, and fields appended to a size-versioned
# struct (one whose first field is struct_size). Anything else that abidiff reports (a removed
# or changed function, a changed, moved or removed field, a changed enumerator value, a grown
# struct that is embedded in another) fails. Exit 77 (skip) without abidw/abidiff or without
# debug information in the library.
# Usage: test_abi.sh <libforget.so> <source root> <build root>
set -eu
lib=$1
src=$2
build=$3
here=$(dirname "$0")
baseline=$src/abi/libforget.abi

for tool in abidw abidiff readelf; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "skip: $tool not found (Debian package abigail-tools; scripts/bootstrap installs it)"
        exit 77
    fi
done
if ! readelf -S "$lib" | grep -q '\.debug_info'; then
    echo "skip: $lib has no DWARF debug information (buildtype release or plain)"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lf_abi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$here/abi_dump.sh" "$lib" "$src" "$build" "$tmp/current.abi"

# abidiff's exit status is a bit set: 1 error, 2 usage error, 4 ABI change, 8 incompatible change
# (a removed symbol). Bit 4 alone covers additions as well as real breaks (a changed parameter
# type, a reordered struct), so those reports are read below.
rc=0
abidiff --leaf-changes-only --impacted-interfaces "$baseline" "$tmp/current.abi" > "$tmp/report" || rc=$?
if [ $((rc & 3)) -ne 0 ]; then
    cat "$tmp/report"
    echo "error: abidiff failed (exit status $rc)"
    exit 99
fi
if [ $((rc & 8)) -ne 0 ]; then
    cat "$tmp/report"
    echo "not ok: incompatible ABI change (abidiff status $rc: a symbol was removed)"
    exit 1
fi
if [ "$rc" -eq 0 ]; then
    echo "ok: the ABI equals the baseline $baseline"
    exit 0
fi

# Size-versioned structs of the baseline: those whose field at offset 0 is struct_size.
versioned=$(awk '
    /<class-decl name=/ { cls = ""; if ($0 !~ /\/>$/) { match($0, /name=.[^\047]*/); cls = substr($0, RSTART + 6, RLENGTH - 6) } next }
    cls != "" && /layout-offset-in-bits=.0./ { first = 1; next }
    cls != "" && /<var-decl / { if (first && $0 ~ /name=.struct_size./) print cls; cls = ""; first = 0 }
' "$baseline")

# Reads the leaf-change report; prints every line that is not an allowed addition.
bad=$(awk -v versioned="$versioned" '
    BEGIN { n = split(versioned, v, "\n"); for (i = 1; i <= n; i++) ok[v[i]] = 1 }
    /^(Leaf changes|Changed leaf types|Removed\/Changed\/Added) .*summary/ { next }
    /^$/ { next }
    /^[0-9]+ Added (function|variable)s?:$/ { block = "added"; next }
    block == "added" && /^  \[A\] / { next }
    /^\047struct [a-z_0-9]+ at .*\047 changed:$/ {
        name = $2
        if (name in ok) { block = "struct"; next }
        block = ""; print "grown or changed struct without struct_size: " $0; next }
    block == "struct" && /^  type size (changed from [0-9]+ to [0-9]+ \(in bits\)|hasn.t changed)$/ {
        if ($0 ~ /changed from/ && $5 + 0 > $7 + 0) print "struct shrank: " $0
        next }
    block == "struct" && /^  [0-9]+ data member insertions?:$/ { next }
    block == "struct" && /^    \047.*\047, at offset [0-9]+ \(in bits\)/ { next }
    (block == "struct") && /^  (one|[0-9]+) impacted interfaces?:$/ { next }
    (block == "struct") && /^    (function|variable) / { next }
    { block = ""; print }
' "$tmp/report")

cat "$tmp/report"
if [ -n "$bad" ]; then
    echo "not ok: incompatible ABI change (abidiff status $rc); not an addition:"
    printf '%s\n' "$bad"
    echo "If the break is intended, bump lf_soversion, record it in CHANGELOG.md and run scripts/abi-baseline."
    exit 1
fi
echo "ok: only additions to the baseline $baseline"
exit 0
