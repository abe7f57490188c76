#!/bin/sh
# The installed library works for a program outside the build: install into a temporary DESTDIR,
# compile examples/train_mlp.c with the flags pkg-config gives for the installed libforget.pc,
# and run it (against the installed libforget.so) on a small synthetic IDX data set.
#
# Usage: test_example.sh MAKE_IDX
# Environment (from tests/cli/meson.build): LF_TEST_BUILDDIR, LF_TEST_SRCDIR, CC, PKG_CONFIG, MESON.
# Exit status: 0 pass, 77 skipped (no pkg-config or meson), anything else a failure.
set -eu

make_idx=$1
: "${LF_TEST_BUILDDIR:?}" "${LF_TEST_SRCDIR:?}"
cc=${CC:-cc}
pkg_config=${PKG_CONFIG:-pkg-config}
meson=${MESON:-meson}
for tool in "$pkg_config" "$meson"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "skipped: '$tool' not found"
    exit 77
  fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lf-example.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

# 1. Install what is already built (nothing is rebuilt, nothing is written to the source tree).
root=$tmp/root
"$meson" install -C "$LF_TEST_BUILDDIR" --destdir "$root" --no-rebuild >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; fail "meson install --destdir failed"; }
pc=$(find "$root" -name libforget.pc | head -n 1)
[ -n "$pc" ] || fail "no libforget.pc installed under $root"
lib=$(find "$root" -name 'libforget.so*' -type f | head -n 1)
[ -n "$lib" ] || fail "no libforget.so installed under $root"
libdir=$(dirname "$lib")

# 2. pkg-config against the DESTDIR only: the sysroot prefixes the .pc's -I/-L paths (the .pc
#    names the final prefix), and system paths are kept so a /usr prefix still gives its flags.
PKG_CONFIG_PATH=$(dirname "$pc")
PKG_CONFIG_LIBDIR=$PKG_CONFIG_PATH
PKG_CONFIG_SYSROOT_DIR=$root
PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1
PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
export PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_ALLOW_SYSTEM_CFLAGS \
       PKG_CONFIG_ALLOW_SYSTEM_LIBS
cflags=$("$pkg_config" --cflags libforget) || fail "pkg-config --cflags libforget"
libs=$("$pkg_config" --libs libforget) || fail "pkg-config --libs libforget"
case " $cflags " in *" -I$root/"*) ;; *) fail "cflags do not point into the DESTDIR: $cflags" ;; esac
case " $libs " in *" -L$root/"*) ;; *) fail "libs do not point into the DESTDIR: $libs" ;; esac
[ -f "$(echo " $cflags " | sed -n 's/.* -I\([^ ]*\) .*/\1/p')/libforget/libforget.h" ] ||
  fail "libforget/libforget.h is not under the -I folder ($cflags)"

# 3. Build the example exactly as its header comment says, warnings as errors. A sanitizer build
#    of the library needs the sanitizer runtime linked into the program too (LF_TEST_SANITIZE).
san=
case ${LF_TEST_SANITIZE:-none} in none|'') ;; *) san=-fsanitize=$LF_TEST_SANITIZE ;; esac
# shellcheck disable=SC2086 # the flags are word lists
$cc -Wall -Wextra -Werror $san "$LF_TEST_SRCDIR/examples/train_mlp.c" $cflags $libs -o "$tmp/train_mlp" ||
  fail "the example does not compile against the installed headers and library"

$cc -Wall -Wextra -Werror $san "$LF_TEST_SRCDIR/examples/forget_one_sample.c" $cflags $libs -lm \
  -o "$tmp/forget_one_sample" ||
  fail "examples/forget_one_sample.c does not compile against the installed headers and library"

# The README's C example (its first ```c block) compiles and links the same way, so the first
# code a newcomer copies stays true to the headers.
sed -n '/^```c$/,/^```$/{/^```/d;p}' "$LF_TEST_SRCDIR/README.md" | awk 'NR==1,/^}$/' >"$tmp/readme.c"
grep -q 'lf_unlearn' "$tmp/readme.c" || fail "no C example with lf_unlearn found in README.md"
# shellcheck disable=SC2086 # the flags are word lists
$cc -Wall -Wextra -Werror $san "$tmp/readme.c" $cflags $libs -o "$tmp/readme" ||
  fail "README.md's C example does not compile against the installed headers and library"

# 4. Run it against the installed library on a small synthetic data set.
mkdir "$tmp/data"
"$make_idx" "$tmp/data" || fail "make_idx"
if command -v ldd >/dev/null 2>&1; then
  LD_LIBRARY_PATH=$libdir ldd "$tmp/train_mlp" | grep -q "$libdir/libforget.so" ||
    fail "the example does not resolve libforget.so from the DESTDIR"
fi
LD_LIBRARY_PATH=$libdir "$tmp/train_mlp" "$tmp/data" 2 "$tmp/mlp.safetensors" ||
  fail "train_mlp exited with status $?"
[ -s "$tmp/mlp.safetensors" ] || fail "train_mlp did not write its model"
# a GDPR erasure of one sample with ReMI and the example's own membership scorer
LD_LIBRARY_PATH=$libdir "$tmp/forget_one_sample" "$tmp/mlp.safetensors" "$tmp/data" 5 \
  "$tmp/forgotten.safetensors" > "$tmp/forget.log" ||
  { cat "$tmp/forget.log"; fail "forget_one_sample exited with status $?"; }
grep -q "remi.acc_bound" "$tmp/forget.log" || { cat "$tmp/forget.log"; fail "no bound reported"; }
[ -s "$tmp/forgotten.safetensors" ] || fail "forget_one_sample did not write its model"

# 5. The installed tool runs against the installed library too.
forget=$(find "$root" -name forget -type f | head -n 1)
[ -n "$forget" ] || fail "the forget tool is not installed"
LD_LIBRARY_PATH=$libdir "$forget" --version | grep -q '^forget (libforget) ' ||
  fail "the installed forget --version"
echo "ok: examples/train_mlp.c and forget_one_sample.c build with pkg-config against the installed library and run; README.md's C example builds"
