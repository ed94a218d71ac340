# Shared by the end-to-end scripts (sourced with their arguments SLIMFORMER SOURCE_DIR): the
# program, the source tree, a scratch directory removed on exit, named checks and pinned errors.
bin=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
check() {  # check NAME CONDITION...
  local name=$1
  shift
  if "$@"; then echo "ok: $name"; else echo "FAILED: $name"; failures=$((failures + 1)); fi
}
expect_error() {  # expect_error NAME EXIT_CODE MESSAGE -- COMMAND...
  local name=$1 code=$2 message=$3
  shift 4
  local out rc
  out=$("$@" 2>&1 >/dev/null)
  rc=$?
  if [[ $rc -eq $code && "$out" == *"$message"* ]]; then
    echo "ok: $name"
  else
    echo "FAILED: $name (exit $rc, stderr: $out)"
    failures=$((failures + 1))
  fi
}

