#!/bin/sh
# shellcheck disable=SC2015 # ok never fails: `condition && ok ... || not_ok ...` is an if/else
# The forget tool from the outside: exit statuses and one-line messages for bad command lines,
# help and version, and a tiny end-to-end run (train -> model file -> predict -> .npy) on a
# synthetic IDX data set (8×8 images, 4 classes, from make_idx). TAP on stdout.
#
# Usage: test_cli.sh FORGET MAKE_IDX
set -u

forget=$1
make_idx=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lf-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
classes=4

n=0
failures=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
  n=$((n + 1)); failures=$((failures + 1)); echo "not ok $n - $1"
  shift
  for line in "$@"; do echo "# $line"; done
  [ -s "$tmp/err" ] && sed 's/^/# stderr: /' "$tmp/err"
  return 0
}

# none_exist PATHS...: true if none of the paths (an unmatched glob stays literal) exists.
none_exist() {
  for f in "$@"; do [ -e "$f" ] && return 1; done
  return 0
}

# run ARGS...: runs forget with stdout in $tmp/out, stderr in $tmp/err, status in $rc.
run() {
  "$forget" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
}

# expect_usage_error DESCRIPTION PATTERN ARGS...: status 2, nothing on stdout, and exactly one
# line on stderr that starts "forget: " and matches PATTERN (a grep -E expression).
expect_usage_error() {
  desc=$1 pattern=$2
  shift 2
  run "$@"
  lines=$(wc -l <"$tmp/err")
  if [ "$rc" -ne 2 ]; then
    not_ok "$desc" "exit status $rc, wanted 2"
  elif [ -s "$tmp/out" ]; then
    not_ok "$desc" "wrote to stdout"
  elif [ "$lines" -ne 1 ] || ! grep -q '^forget: ' "$tmp/err"; then
    not_ok "$desc" "wanted one 'forget: ...' line on stderr, got $lines lines"
  elif ! grep -Eq -- "$pattern" "$tmp/err"; then
    not_ok "$desc" "the message does not match '$pattern'"
  else
    ok "$desc"
  fi
}

# expect_runtime_error DESCRIPTION ARGS...: status 1 and one "forget: ..." line on stderr.
expect_runtime_error() {
  desc=$1
  shift
  run "$@"
  lines=$(wc -l <"$tmp/err")
  if [ "$rc" -ne 1 ]; then
    not_ok "$desc" "exit status $rc, wanted 1"
  elif [ "$lines" -ne 1 ] || ! grep -q '^forget: ' "$tmp/err"; then
    not_ok "$desc" "wanted one 'forget: ...' line on stderr, got $lines lines"
  else
    ok "$desc"
  fi
}

data=$tmp/data
if ! mkdir "$data" || ! "$make_idx" "$data"; then
  echo "Bail out! make_idx failed"
  exit 1
fi
model=$tmp/m.safetensors
# expect_train_usage_error DESCRIPTION PATTERN ARGS...: a train command line that would be
# valid without ARGS.
expect_train_usage_error() {
  d=$1 p=$2
  shift 2
  expect_usage_error "$d" "$p" train --data "$data" --arch mlp -o "$tmp/unused.safetensors" "$@"
}

# ---- bad command lines: exit 2, one line ----
run
if [ "$rc" -eq 2 ] && grep -q '^usage: forget' "$tmp/err" && [ ! -s "$tmp/out" ]; then
  ok "no arguments: usage on stderr, exit 2"
else
  not_ok "no arguments: usage on stderr, exit 2" "exit status $rc"
fi
expect_usage_error "unknown sub-command" "unknown command 'frobnicate'" frobnicate
expect_usage_error "unknown top-level option" "unknown option '--frob'" --frob
expect_train_usage_error "unknown option" "unknown option '--frob'" --frob
expect_train_usage_error "--epochs abc" "--epochs.*'abc' is not an integer" --epochs abc
expect_train_usage_error "--epochs 5x (trailing junk)" "--epochs.*'5x'" --epochs 5x
expect_train_usage_error "--schedule nonsense" "--schedule: unknown schedule 'zigzag'" --schedule zigzag
expect_train_usage_error "--epochs ' 5' (leading blank)" "--epochs" --epochs ' 5'
expect_train_usage_error "--epochs 0" "--epochs.*out of range" --epochs 0
expect_train_usage_error "--epochs 99999999999 (overflow)" "--epochs" --epochs 99999999999
expect_train_usage_error "--epochs without a value" "--epochs needs a value" --epochs
expect_train_usage_error "--lr -1" "--lr.*out of range" --lr -1
expect_train_usage_error "--lr 0" "--lr.*out of range" --lr 0
expect_train_usage_error "--lr nan" "--lr.*not a finite number" --lr nan
expect_train_usage_error "--val-fraction 1" "--val-fraction.*out of range" --val-fraction 1
expect_train_usage_error "--seed -1" "--seed.*'-1'" --seed -1
expect_train_usage_error "--json=1 (a flag with a value)" "--json takes no value" --json=1
expect_train_usage_error "positional argument" "unexpected argument 'extra'" extra
expect_usage_error "missing -o" "missing -o" train --data "$data" --arch mlp
expect_usage_error "missing --data" "missing --data" train -o "$model"
expect_train_usage_error "unknown --arch" "unknown architecture 'lenet9'" --arch lenet9
expect_train_usage_error "--backend nonsense" "unknown backend 'nonsense'" --backend nonsense
expect_train_usage_error "--threads -1" "--threads.*out of range" --threads -1
expect_usage_error "predict without --model" "missing --model" predict --data "$data"
expect_usage_error "predict --split nope" "--split: 'nope'" predict --model "$model" --split nope
expect_usage_error "predict --limit 0" "--limit.*out of range" predict --model "$model" --limit 0
expect_usage_error "help of an unknown command" "unknown command 'nosuch'" help nosuch
[ ! -e "$tmp/unused.safetensors" ] && ok "no model written by the refused command lines" ||
  not_ok "no model written by the refused command lines"

# ---- version and help ----
run --version
if [ "$rc" -eq 0 ] && grep -Eqx 'forget \(libforget\) [0-9]+\.[0-9]+\.[0-9]+' "$tmp/out"; then
  ok "--version"
else
  not_ok "--version" "exit status $rc, stdout: $(cat "$tmp/out")"
fi
for args in "help" "--help" "-h"; do
  run $args
  if [ "$rc" -eq 0 ] && grep -q '^usage: forget' "$tmp/out" && grep -q 'train' "$tmp/out" &&
     grep -q 'predict' "$tmp/out"; then
    ok "forget $args lists the commands"
  else
    not_ok "forget $args lists the commands" "exit status $rc"
  fi
done
for args in "help train" "train --help" "help predict" "predict -h"; do
  run $args
  if [ "$rc" -eq 0 ] && grep -q '^usage: forget' "$tmp/out" && grep -q -- '--backend' "$tmp/out"; then
    ok "forget $args shows the command's options"
  else
    not_ok "forget $args shows the command's options" "exit status $rc"
  fi
done

# ---- end to end: train with --json ----
run train --data "$data" --arch mlp --epochs 2 --batch 32 --lr 0.1 --seed 7 -o "$model" --json
if [ "$rc" -ne 0 ]; then
  not_ok "train --json exits 0" "exit status $rc"
else
  ok "train --json exits 0"
fi
json_ok=1
[ "$(wc -l <"$tmp/out")" -eq 1 ] && grep -q '^{.*}$' "$tmp/out" || json_ok=0
for key in train_accuracy val_accuracy test_accuracy seconds; do
  grep -Eq "\"$key\": [0-9][0-9.eE+-]*[,}]" "$tmp/out" || json_ok=0
done
if command -v jq >/dev/null 2>&1; then
  jq -e '(.train_accuracy|type) == "number" and (.val_accuracy|type) == "number" and
         (.test_accuracy|type) == "number" and (.seconds|type) == "number" and
         .test_accuracy >= 0 and .test_accuracy <= 100 and .epochs == 2 and .seed == 7' \
     "$tmp/out" >/dev/null || json_ok=0
fi
[ $json_ok -eq 1 ] && ok "train --json prints one JSON object with the four keys" ||
  not_ok "train --json prints one JSON object with the four keys" "stdout: $(cat "$tmp/out")"
grep -q '^epoch 1/2: loss' "$tmp/err" && grep -q '^epoch 2/2: loss' "$tmp/err" &&
  ok "progress: one plain line per epoch when stderr is not a terminal" ||
  not_ok "progress: one plain line per epoch when stderr is not a terminal"
[ -s "$model" ] && ok "the model file exists" || not_ok "the model file exists"
# On a terminal: a live line redrawn in place with a bar and an ETA (script(1) gives a pty).
if command -v script >/dev/null 2>&1; then
  script -qec "'$forget' train --data '$data' --epochs 2 --batch 8 -o '$tmp/tty.safetensors'" \
    /dev/null >"$tmp/tty" 2>&1 </dev/null
  tr '\r' '\n' <"$tmp/tty" | grep -Eq '^train +\[[#.]{24}\] [0-9]+/[0-9]+  epoch [12]/2  loss .*ETA' &&
    ok "progress: a live bar with step/total, epoch, loss and ETA on a terminal" ||
    not_ok "progress: a live bar with step/total, epoch, loss and ETA on a terminal" \
      "$(tr '\r' '\n' <"$tmp/tty" | head -5)"
fi

# ---- text output, --quiet ----
run train --data "$data" --epochs 1 --batch 32 -o "$tmp/m2.safetensors" --quiet
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && grep -Eq '^test accuracy: +[0-9]+\.[0-9]{2}%' "$tmp/out" &&
   grep -Eq '^validation accuracy: +[0-9]+\.[0-9]{2}%' "$tmp/out"; then
  ok "train --quiet: accuracies on stdout, nothing on stderr"
else
  not_ok "train --quiet: accuracies on stdout, nothing on stderr" "exit status $rc"
fi
full_n=$(sed -n 's/^train accuracy:.*(\([0-9]*\) samples)$/\1/p' "$tmp/out")

# ---- --data-fraction: a stratified subset, recorded so eval rebuilds the same split ----
expect_train_usage_error "--data-fraction 0" "--data-fraction.*out of range" --data-fraction 0
expect_train_usage_error "--data-fraction 1.5" "--data-fraction.*out of range" --data-fraction 1.5
run train --data "$data" --epochs 1 --batch 32 --data-fraction 0.5 -o "$tmp/half.safetensors" --quiet
half_n=$(sed -n 's/^train accuracy:.*(\([0-9]*\) samples)$/\1/p' "$tmp/out")
if [ "$rc" -eq 0 ] && [ -n "$full_n" ] && [ -n "$half_n" ] &&
   [ $((2 * half_n)) -ge $((full_n - classes * 2)) ] && [ $((2 * half_n)) -le $((full_n + classes * 2)) ]; then
  ok "train --data-fraction 0.5 trains on half the train split ($half_n of $full_n)"
else
  not_ok "train --data-fraction 0.5 trains on half the train split" "exit $rc, $half_n of $full_n"
fi
run eval -m "$tmp/half.safetensors" --forget random:0.1 -q
split_n=$(sed -n 's/^forget set .*: \([0-9]*\) forget, \([0-9]*\) retain.*/\1 \2/p' "$tmp/out")
if [ "$rc" -eq 0 ] && [ -n "$split_n" ] && [ $((${split_n% *} + ${split_n#* })) -eq "$half_n" ]; then
  ok "eval of a --data-fraction model rebuilds its subset (forget + retain = $half_n)"
else
  not_ok "eval of a --data-fraction model rebuilds its subset" "exit $rc, '$split_n' vs $half_n"
fi

# ---- a sparse convnet: --prune / --prune-epoch ----
expect_train_usage_error "--prune-epoch without --prune" "--prune-epoch needs --prune" --prune-epoch 1
expect_train_usage_error "--prune 1" "--prune.*out of range" --prune 1
expect_train_usage_error "--prune-epoch after the last epoch" "--prune-epoch 3 is after the last epoch" \
  --epochs 2 --prune 0.5 --prune-epoch 3
sparse=$tmp/sparse.safetensors
run train --data "$data" --arch convnet --epochs 2 --batch 32 --prune 0.9 --prune-epoch 1 -o "$sparse" --quiet
if [ "$rc" -eq 0 ] && grep -Eq '^pruned: +90\.00% of the conv weights after epoch 1' "$tmp/out" &&
   grep -aq '"conv1.weight_mask"' "$sparse" && grep -aq '"conv2.weight_mask"' "$sparse" &&
   ! grep -aq '"fc1.weight_mask"' "$sparse" && grep -aq '"train.prune":"0.9"' "$sparse"; then
  ok "train --arch convnet --prune 0.9: conv masks saved, linear layers dense, recipe recorded"
else
  not_ok "train --arch convnet --prune 0.9: conv masks saved, linear layers dense, recipe recorded" \
    "exit status $rc" "$(cat "$tmp/out" "$tmp/err")"
fi

# ---- predict: .npy of the first 10 test samples ----
npy=$tmp/l.npy
run predict --model "$model" --data "$data" --split test --limit 10 --npy "$npy"
if [ "$rc" -eq 0 ] && grep -Eq '^test accuracy: [0-9]+\.[0-9]{2}% \(10 of 10 samples\)' "$tmp/out"; then
  ok "predict --limit 10 --npy prints the accuracy of 10 samples"
else
  not_ok "predict --limit 10 --npy prints the accuracy of 10 samples" "exit status $rc" "$(cat "$tmp/out")"
fi
if [ -f "$npy" ]; then
  # header: "\x93NUMPY" 1 0 <uint16 LE header length> <dict padded to 64 bytes>; then 10×C×4 bytes
  magic=$(head -c 6 "$npy" | od -An -c | tr -d ' \n')
  hlen=$(od -An -tu1 -j8 -N2 "$npy" | awk '{print $1 + 256 * $2}')
  size=$(wc -c <"$npy" | tr -d ' ')
  want=$((10 + hlen + 10 * classes * 4))
  header=$(head -c $((10 + hlen)) "$npy" | tail -c "$hlen")
  if [ "$magic" = '223NUMPY' ] && [ $(((10 + hlen) % 64)) -eq 0 ] && [ "$size" -eq "$want" ] &&
     echo "$header" | grep -Fq "{'descr': '<f4', 'fortran_order': False, 'shape': (10, $classes), }"; then
    ok ".npy: header, 64-byte alignment and size (10 x $classes float32)"
  else
    not_ok ".npy: header, 64-byte alignment and size" "magic '$magic', header length $hlen, size $size (wanted $want)" "header: $header"
  fi
else
  not_ok ".npy: written" "no file $npy"
fi
none_exist "$tmp"/*.tmp.* && ok "no temporary files left behind" || not_ok "no temporary files left behind"

run predict --model "$model" --split val --limit 5 --json
if [ "$rc" -eq 0 ] && grep -q '"samples": 5' "$tmp/out" && grep -Eq '"accuracy": [0-9]' "$tmp/out"; then
  ok "predict --split val (data set from the model's metadata) --json"
else
  not_ok "predict --split val (data set from the model's metadata) --json" "exit status $rc" "$(cat "$tmp/out")"
fi
run predict --model "$model" --data "$data" --split train
if [ "$rc" -eq 0 ] && grep -Eq '^train accuracy: .*\(360 of 360 samples\)' "$tmp/out"; then
  ok "predict --split train: the whole train split (400 less 10% validation)"
else
  not_ok "predict --split train: the whole train split" "exit status $rc" "$(cat "$tmp/out")"
fi

# ---- predict rebuilds train's split from the model's metadata ----
# A barely trained model (some samples right, some wrong), a non-default seed and fraction:
# predict's accuracy on each split (its own argmax over the logits) must equal what train
# reported for it (lf_model_accuracy), and the val split must have 20% of 400 samples.
json_field() { sed -n "s/.*\"$1\": \([^,}]*\).*/\1/p" "$2"; }
pct() { awk -v x="$1" 'BEGIN { printf "%.2f", x }'; }
weak=$tmp/weak.safetensors
run train --data "$data" --epochs 1 --batch 64 --lr 0.003 --seed 7 --val-fraction 0.2 -o "$weak" --json -q
cp "$tmp/out" "$tmp/weak.json"
[ "$rc" -eq 0 ] && [ "$(json_field val_samples "$tmp/weak.json")" = 80 ] &&
  ok "train --val-fraction 0.2 holds out 80 of 400 samples" ||
  not_ok "train --val-fraction 0.2 holds out 80 of 400 samples" "$(cat "$tmp/weak.json")"
for split in train val test; do
  run predict --model "$weak" --split "$split" --json
  want=$(pct "$(json_field "${split}_accuracy" "$tmp/weak.json")")
  got=$(pct "$(json_field accuracy "$tmp/out")")
  if [ "$rc" -eq 0 ] && [ "$want" = "$got" ]; then
    ok "predict --split $split reproduces train's $split accuracy ($got%)"
  else
    not_ok "predict --split $split reproduces train's $split accuracy" "exit status $rc, $got% vs $want%"
  fi
done

# ---- eval: the forget split of the train split, metrics consistent with train's ----
run eval --model "$weak" --forget random:0.25 --json
if [ "$rc" -eq 0 ] && [ "$(json_field n_forget "$tmp/out")" = 80 ] &&
   [ "$(json_field n_retain "$tmp/out")" = 240 ] && [ "$(json_field n_test "$tmp/out")" = 100 ] &&
   [ "$(pct "$(json_field ta "$tmp/out")")" = "$(pct "$(json_field test_accuracy "$tmp/weak.json")")" ]; then
  ok "eval --forget random:0.25: 80 forget / 240 retain / 100 test, TA = train's test accuracy"
else
  not_ok "eval --forget random:0.25" "exit status $rc" "$(cat "$tmp/out")"
fi
for key in ua ra ta mia_efficacy; do
  v=$(json_field "$key" "$tmp/out")
  awk -v x="$v" 'BEGIN { exit !(x != "" && x >= 0 && x <= 100) }' &&
    ok "eval --json: $key = $v is a percentage" || not_ok "eval --json: $key" "'$v'"
done
run eval --model "$weak" --forget class:1 --json
[ "$rc" -eq 0 ] && [ "$(json_field n_forget "$tmp/out")" = 80 ] && [ "$(json_field n_test "$tmp/out")" -lt 100 ] &&
  ok "eval --forget class:1: the class's 80 samples, the test set without class 1" ||
  not_ok "eval --forget class:1" "exit status $rc" "$(cat "$tmp/out")"
printf '0\n5\n# a comment\n\n7\n' >"$tmp/idx.txt"
run eval --model "$weak" --forget "indices:$tmp/idx.txt" --json
[ "$rc" -eq 0 ] && [ "$(json_field n_forget "$tmp/out")" = 3 ] &&
  ok "eval --forget indices:FILE reads three indices" ||
  not_ok "eval --forget indices:FILE" "exit status $rc" "$(cat "$tmp/out")"
expect_usage_error "eval without --forget" "missing --forget" eval --model "$weak"
expect_usage_error "eval --forget nope" "--forget: 'nope'" eval --model "$weak" --forget nope
expect_usage_error "eval --forget random:1.5" "fraction '1.5'" eval --model "$weak" --forget random:1.5
expect_usage_error "eval --forget class:x" "class 'x'" eval --model "$weak" --forget class:x
expect_usage_error "eval --forget moon:3" "unknown kind 'moon'" eval --model "$weak" --forget moon:3
printf '3\nseven\n' >"$tmp/badidx.txt"
expect_usage_error "eval: a bad line in the index file" "badidx.txt:2" eval --model "$weak" --forget "indices:$tmp/badidx.txt"
expect_runtime_error "eval: a missing index file" eval --model "$weak" --forget "indices:$tmp/none.txt"

# ---- methods and unlearn ----
run methods
if [ "$rc" -eq 0 ] && grep -q '^retrain ' "$tmp/out" && grep -q '^ft ' "$tmp/out" && grep -q '^ga ' "$tmp/out" &&
   grep -Eq '^ +lr +.*\(default [0-9.e-]+; number in \[1e-08, 10\]\)' "$tmp/out"; then
  ok "methods lists retrain, ft and ga with their parameters"
else
  not_ok "methods lists retrain, ft and ga with their parameters" "$(cat "$tmp/out")"
fi
sum_before=$(cksum <"$weak")
run unlearn --model "$weak" --forget class:1 --method ft --param epochs=1 --param lr=0.02 -o "$tmp/ft.safetensors" --json
if [ "$rc" -eq 0 ] && [ "$(json_field method "$tmp/out")" = '"ft"' ] && [ "$(json_field steps "$tmp/out")" -ge 1 ] &&
   [ "$(json_field n_forget "$tmp/out")" = 80 ] && [ -s "$tmp/ft.safetensors" ] &&
   grep -aq '"libforget.unlearn.method":"ft"' "$tmp/ft.safetensors"; then
  ok "unlearn --method ft --json: method, steps, the metrics, the new model saved"
else
  not_ok "unlearn --method ft --json" "exit status $rc" "$(cat "$tmp/out" "$tmp/err")"
fi
[ "$(cksum <"$weak")" = "$sum_before" ] && ok "unlearn leaves the input model file untouched" ||
  not_ok "unlearn leaves the input model file untouched"
run unlearn --model "$weak" --forget random:0.1 --method retrain -o "$tmp/re.safetensors" --quiet
if [ "$rc" -eq 0 ] && grep -Eq '^retrain: .* s, [0-9]+ steps' "$tmp/out" && grep -q '^UA ' "$tmp/out"; then
  ok "unlearn --method retrain: the model's recipe, text report"
else
  not_ok "unlearn --method retrain" "exit status $rc" "$(cat "$tmp/out" "$tmp/err")"
fi
run bench --model "$weak" --forget class:1 --methods ga,ft --json "$tmp/bench.json" --csv "$tmp/bench.csv" -q
if [ "$rc" -eq 0 ] && grep -Eq '^retrain +' "$tmp/out" && grep -Eq '^ga +' "$tmp/out" && grep -Eq '^ft +' "$tmp/out" &&
   [ "$(grep -c '"method"' "$tmp/bench.json")" -eq 3 ] &&
   grep -q '^{"dataset": ".*", "arch": "mlp", "forget": "class:1", "backend": ".*", "threads": [0-9]*, "seed": 1, "rows": \[' "$tmp/bench.json" &&
   grep -q '"method": "retrain", "ua": .*"avg_disparity": 0, "seconds": .*"speedup": 1}' "$tmp/bench.json" &&
   [ "$(wc -l <"$tmp/bench.csv")" -eq 4 ]; then
  ok "bench --model --methods ga,ft: retrain first, table, JSON rows with the issue's keys, CSV"
else
  not_ok "bench --model --methods ga,ft" "exit status $rc" "$(cat "$tmp/out" "$tmp/err" "$tmp/bench.json")"
fi
expect_usage_error "bench --methods with an unknown one" "unknown method 'nope'" bench --model "$weak" --forget class:1 --methods ft,nope
expect_usage_error "bench --param without a method" "expected METHOD.KEY=VALUE" bench --model "$weak" --forget class:1 --param lr=1
expect_usage_error "unlearn without --method" "missing --method" unlearn --model "$weak" --forget class:1 -o "$tmp/u.safetensors"
expect_usage_error "unlearn --method nope" "unknown method 'nope'" unlearn --model "$weak" --forget class:1 --method nope -o "$tmp/u.safetensors"
expect_usage_error "unlearn --param without =" "expected KEY=VALUE" unlearn --model "$weak" --forget class:1 --method ft --param lr -o "$tmp/u.safetensors"
expect_usage_error "unlearn --param unknown key" "has no parameter 'nope'" unlearn --model "$weak" --forget class:1 --method ft --param nope=1 -o "$tmp/u.safetensors"
expect_usage_error "unlearn --param out of range" "outside \[1e-08, 10\]" unlearn --model "$weak" --forget class:1 --method ft --param lr=50 -o "$tmp/u.safetensors"
expect_runtime_error "eval --forget class:9 (no such class)" eval --model "$weak" --forget class:9

# ---- runtime failures: exit 1, one line, no partial output ----
expect_runtime_error "-o into a missing folder" \
  train --data "$data" --epochs 1 -o "$tmp/missing/m.safetensors"
[ ! -e "$tmp/missing" ] && ok "nothing written for the missing folder" ||
  not_ok "nothing written for the missing folder"
mkdir "$tmp/adir"
expect_runtime_error "-o naming a folder (the save itself fails)" \
  train --data "$data" --epochs 1 --quiet -o "$tmp/adir"
none_exist "$tmp"/adir.tmp.* && ok "the failed save left no temporary file" ||
  not_ok "the failed save left no temporary file"
expect_runtime_error "--data: a missing folder" train --data "$tmp/nodata/" -o "$model"
expect_runtime_error "predict: a missing model file" predict --model "$tmp/none.safetensors" --data "$data"
expect_runtime_error "predict --npy into a missing folder" \
  predict --model "$model" --data "$data" --npy "$tmp/missing/l.npy"
printf 'not a model' >"$tmp/bad.safetensors"
expect_runtime_error "predict: a malformed model file" predict --model "$tmp/bad.safetensors" --data "$data"

echo "1..$n"
[ $failures -eq 0 ]
