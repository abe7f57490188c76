#!/bin/sh
# shellcheck disable=SC2015 # ok never fails: `condition && ok ... || not_ok ...` is an if/else
# forget bench --report: the HTML page of a tiny bench (an MLP on make_idx's synthetic data,
# retrain, ft and ga) read back with Python's XML parser: well-formed, a table row per method,
# the two bar charts and a confidence histogram for the original, retrain and every method, the
# setup and the command line, and nothing that reaches outside the file. Also: a --report path
# in a missing folder fails before any work and writes nothing. TAP on stdout.
#
# Usage: test_report.sh FORGET MAKE_IDX
set -u

forget=$1
make_idx=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lf-report.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

if ! command -v python3 >/dev/null 2>&1; then
  echo "1..0 # SKIP python3 is needed to parse the page"
  exit 0
fi

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
  n=$((n + 1)); echo "not ok $n - $1"
  shift
  for line in "$@"; do echo "# $line"; done
  [ -s "$tmp/err" ] && sed 's/^/# stderr: /' "$tmp/err"
  return 0
}
run() {
  "$forget" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
}

# check_page DESCRIPTION FILE TEST_NAME METHODS...: the checks of check_page.py below, each a TAP
# line. TEST_NAME is the histograms' test samples as the legend names them.
check_page() {
  desc=$1 page=$2 test_name=$3
  shift 3
  python3 - "$page" "$test_name" "$@" >"$tmp/checks" 2>&1 <<'EOF'
import re, sys
import xml.etree.ElementTree as ET

page, test_name, methods = sys.argv[1], sys.argv[2], sys.argv[3:]
text = open(page, encoding="utf-8").read()

def check(name, cond, detail=""):
    print(("ok|" if cond else "not ok|") + name + ("|" + detail if not cond and detail else ""))

try:
    root = ET.fromstring(text)
except ET.ParseError as e:
    check("well-formed (XML parser)", False, str(e))
    sys.exit(0)
check("well-formed (XML parser)", root.tag == "html", "root is " + root.tag)
outside = [p for p in ("http:", "https:", "src=", "<script", "url(", "@import", "href=")
           if p in text.lower()]
check("self-contained: no script, no external reference", not outside, "found " + ", ".join(outside))

def words(e):
    return " ".join(" ".join(e.itertext()).split())

results = [t for t in root.iter("table") if t.get("class") == "results"]
trs = [tr for t in results for tr in t.iter("tr") if tr.find("td") is not None]
rows = [words(tr.find("td")) for tr in trs]
check("the table: one row per method, retrain first", len(results) == 1 and rows == methods,
      "rows %s" % rows)
check("the table: 8 cells per row", all(len(tr.findall("td")) == 8 for tr in trs))
heads = [words(th) for t in results for th in t.iter("th")]
want = ["Method", "UA", "MIA-Efficacy", "RA", "TA", "Avg. Disparity", "Run time (s)",
        "Speed-up vs Retrain"]
check("the table's columns are the printed table's", heads == want, "columns %s" % heads)

svgs = list(root.iter("svg"))
def title(svg):
    t = svg.find("title")
    return words(t) if t is not None else ""
titles = [title(s) for s in svgs]
check("every chart has a title", all(titles), "titles %s" % titles)
bars = [s for s in svgs if s.get("class") == "chart"]
check("a bar chart of Avg. Disparity", any("Avg. Disparity" in title(s) for s in bars), str(titles))
check("a bar chart of run time", any("Run time" in title(s) for s in bars), str(titles))
for s in bars:
    labels = [words(t) for t in s.iter("text") if t.get("class") == "bar-label"]
    if labels != methods:
        check("bar labels of '%s'" % title(s), False, "labels %s" % labels)

hists = {title(s).rsplit(": ", 1)[-1]: s for s in svgs if s.get("class") == "hist"}
want = ["original"] + methods
check("a histogram for the original, retrain and every method", list(hists) == want,
      "histograms %s" % list(hists))
for name, s in hists.items():
    areas = [p for p in s.iter("path")]
    ticks = [words(t) for t in s.iter("text") if t.get("class") == "tick"]
    labels = [words(t) for t in s.iter("text") if t.get("class") == "axis-label"]
    if len(areas) != 2 or len(ticks) < 6 or len(labels) != 2:
        check("histogram '%s' has both sets, ticks and axis labels" % name, False,
              "%d areas, ticks %s, labels %s" % (len(areas), ticks, labels))
# one x axis for all: the panels compare only if their ticks agree
axes = {tuple(words(t) for t in s.iter("text") if t.get("class") == "tick") for s in hists.values()}
check("every histogram has the same axes", len(axes) == 1, "%d different tick sets" % len(axes))
legend = [words(s) for s in svgs if s.get("class") == "legend"]
check("the legend names D_f and the test samples",
      len(legend) == 1 and "D_f" in legend[0] and test_name in legend[0], "legend %s" % legend)

body = words(root.find("body"))
check("the setup: set sizes, backend, threads, seed",
      re.search(r"Set sizes \d+ forget \(D_f\), \d+ retain \(D_r\), \d+ test", body) is not None
      and re.search(r"Backend \w+, \d+ threads?", body) is not None and "Seed 1" in body, body[:400])
pre = [words(p) for p in root.iter("pre")]
check("the command line as typed", len(pre) == 1 and pre[0].startswith("forget bench ")
      and "--report" in pre[0], "pre %s" % pre)
EOF
  if [ ! -s "$tmp/checks" ]; then
    not_ok "$desc: the checks ran" "no output"
    return
  fi
  while IFS='|' read -r status name detail; do
    if [ "$status" = ok ]; then
      ok "$desc: $name"
    elif [ "$status" = "not ok" ]; then
      not_ok "$desc: $name" "$detail"
    else
      not_ok "$desc: the checks ran" "$status $name $detail"
    fi
  done <"$tmp/checks"
}

data=$tmp/data
model=$tmp/m.safetensors
if ! mkdir "$data" || ! "$make_idx" "$data" ||
   ! "$forget" train --data "$data" --arch mlp --epochs 1 --batch 64 --lr 0.003 --seed 7 -o "$model" -q >/dev/null; then
  echo "Bail out! no data set or model"
  exit 1
fi

# ---- class-wise: the histograms' test samples are those of the forgotten class ----
run bench --model "$model" --forget class:1 --methods ft,ga --threads 1 --report "$tmp/class.html" -q
if [ "$rc" -eq 0 ] && [ -s "$tmp/class.html" ] && grep -Eq '^ga +' "$tmp/out"; then
  ok "bench --report (class:1): exit 0, the table printed, the page written"
  check_page "class:1" "$tmp/class.html" "the test samples of class 1" retrain ft ga
else
  not_ok "bench --report (class:1)" "exit status $rc"
fi

# ---- random forgetting: the whole test set; a quoted argument in the command line ----
run bench --model "$model" --forget random:0.2 --methods ga --param "ga.lr=0.001" --threads 1 \
  --report "$tmp/random page.html" -q
if [ "$rc" -eq 0 ] && [ -s "$tmp/random page.html" ]; then
  ok "bench --report (random:0.2): exit 0, the page written"
  check_page "random:0.2" "$tmp/random page.html" "the test set" retrain ga
  grep -q -- "--report '$tmp/random page.html'" "$tmp/random page.html" &&
    ok "an argument with a blank is quoted in the command line" ||
    not_ok "an argument with a blank is quoted in the command line"
else
  not_ok "bench --report (random:0.2)" "exit status $rc"
fi

# ---- a missing folder: a clear message before any work, nothing written ----
run bench --model "$model" --forget class:1 --methods ft --report "$tmp/nowhere/r.html" -q
if [ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
   grep -q "^forget: $tmp/nowhere/r.html: the folder '$tmp/nowhere' does not exist" "$tmp/err" &&
   [ ! -s "$tmp/out" ] && [ ! -e "$tmp/nowhere" ]; then
  ok "--report in a missing folder: exit 1, one line naming the folder, no table, nothing written"
else
  not_ok "--report in a missing folder" "exit status $rc" "$(cat "$tmp/out")"
fi
leftovers=$(find "$tmp" -name '*.tmp.*' | wc -l)
[ "$leftovers" -eq 0 ] && ok "no temporary file left behind" || not_ok "no temporary file left behind" "$leftovers"

echo "1..$n"
