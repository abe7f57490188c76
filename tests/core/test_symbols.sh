#!/bin/sh
# The shared library exports exactly the lf_* names listed in src/libforget.sym, and every
# exported name is versioned (catches helpers leaking with default visibility, and exports
# missing from the script). Usage: test_symbols.sh <libforget.so> <libforget.sym>
set -eu
lib=$1
sym=$2
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | grep -v '^LIBFORGET_' | sort -u)
listed=$(sed -n 's/^[[:space:]]*\(lf_[a-z0-9_]*\);.*/\1/p' "$sym" | sort -u)
status=0
extra=$(printf '%s\n' "$exported" | grep -v '^lf_' || true)
if [ -n "$extra" ]; then echo "not ok: non-lf_ symbols exported:"; echo "$extra"; status=1; fi
missing=$(comm -13 "$(printf '%s\n' "$exported" > "${TMPDIR:-/tmp}/lf_exp.$$"; echo "${TMPDIR:-/tmp}/lf_exp.$$")" \
               "$(printf '%s\n' "$listed" > "${TMPDIR:-/tmp}/lf_lst.$$"; echo "${TMPDIR:-/tmp}/lf_lst.$$")")
unlisted=$(comm -23 "${TMPDIR:-/tmp}/lf_exp.$$" "${TMPDIR:-/tmp}/lf_lst.$$")
rm -f "${TMPDIR:-/tmp}/lf_exp.$$" "${TMPDIR:-/tmp}/lf_lst.$$"
if [ -n "$missing" ]; then echo "not ok: listed in the version script but not exported:"; echo "$missing"; status=1; fi
if [ -n "$unlisted" ]; then echo "not ok: exported but not in the version script:"; echo "$unlisted"; status=1; fi
unversioned=$(nm -D --defined-only "$lib" | awk '$3 ~ /^lf_/ && $3 !~ /@@LIBFORGET_/ {print $3}')
if [ -n "$unversioned" ]; then echo "not ok: exported without a version node:"; echo "$unversioned"; status=1; fi
[ $status -eq 0 ] && echo "ok: $(printf '%s\n' "$exported" | wc -l) symbols, all lf_* and versioned"
exit $status
