#!/usr/bin/env bash
# The logic of the immutag GitHub Action (action.yml at the repository root), run by the
# runner as the action's one step. Inputs arrive as INPUT_* environment variables (action.yml
# maps them); GITHUB_ACTION_PATH, GITHUB_OUTPUT, RUNNER_OS, RUNNER_ARCH and RUNNER_TEMP are
# the runner's. crates/immutag-cli/tests/action.rs runs it the same way, offline.
#
# 1. Get immutag: download the release archive for this runner and verify its SHA-256, or
#    build this checkout with cargo (`version: source`), or use the immutag an earlier step
#    put on PATH (`version: installed`).
# 2. Run `immutag evaluate` or `immutag pins check` on the paths: the table into the log
#    (and the job summary), then the SARIF report into `sarif-file`.
# 3. Exit: 0 clean; 1 findings (0 with `fail-on: errors`, with a warning); 2 bad input and 3
#    incomplete always fail the step. The `exit-code` output is immutag's own code.
set -euo pipefail

USAGE=2
INCOMPLETE=3

annotate() { # LEVEL MESSAGE: a workflow command; % CR LF escaped so that no input can end it
  local text="$2"
  text=${text//%/%25}
  text=${text//$'\r'/%0D}
  text=${text//$'\n'/%0A}
  printf '::%s title=immutag::%s\n' "$1" "$text" >&2
}
error() { annotate error "$*"; }
warning() { annotate warning "$*"; }
usage() { error "$*"; exit "$USAGE"; }

output() { # NAME VALUE: a step output (the runner's GITHUB_OUTPUT file), in the delimited
  # form so that no value can add another output
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    local delimiter="immutag_${RANDOM}${RANDOM}${RANDOM}"
    printf '%s<<%s\n%s\n%s\n' "$1" "$delimiter" "$2" "$delimiter" >> "$GITHUB_OUTPUT"
  fi
}

trim() { # TEXT -> TEXT without leading and trailing blanks
  local s="$1"
  s="${s#"${s%%[![:space:]]*}"}"
  s="${s%"${s##*[![:space:]]}"}"
  printf '%s' "$s"
}

sha256_of() { # FILE -> its SHA-256, lower-case hex
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    usage "neither sha256sum nor shasum is installed: cannot verify the release archive"
  fi
}

action_path="${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}"
temp="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
work=$(mktemp -d "$temp/immutag-action.XXXXXX")

# ---- inputs -------------------------------------------------------------------------------

command_input=$(trim "${INPUT_COMMAND:-evaluate}")
case "$command_input" in
  evaluate) command_args=(evaluate) ;;
  "pins check") command_args=(pins check) ;;
  *) usage "command: '$command_input' is not one of: evaluate, pins check" ;;
esac

fail_on=$(trim "${INPUT_FAIL_ON:-findings}")
case "$fail_on" in
  findings | errors) ;;
  *) usage "fail-on: '$fail_on' is not one of: findings, errors" ;;
esac

# Rule parameters: a JSON object goes to --params-file as it is; KEY=VALUE lines become --param.
param_args=()
params=$(trim "${INPUT_PARAMS:-}")
if [ "${params:0:1}" = "{" ]; then
  printf '%s\n' "$params" > "$work/params.json"
  param_args=(--params-file "$work/params.json")
elif [ -n "$params" ]; then
  while IFS= read -r line; do
    line=$(trim "$line")
    [ -z "$line" ] && continue
    case "$line" in
      *=*) param_args+=(--param "$line") ;;
      *) usage "params: '$line' is neither KEY=VALUE nor a JSON object" ;;
    esac
  done <<< "$params"
fi

extra_args=()
read -r -d '' -a extra_args <<< "${INPUT_ARGS:-}" || true

# Paths: each word is a path or a glob pattern. A pattern that matches nothing is a warning;
# nothing at all to read is an input error. A literal path is passed as written (immutag
# names it if it cannot be read).
paths=()
read -r -d '' -a words <<< "${INPUT_PATHS:-}" || true
# (bash 3.2, macOS's /bin/bash, has no globstar: `**` is then `*`; empty arrays are written
# ${a[@]+"${a[@]}"} for it.)
shopt -s globstar 2>/dev/null || true
shopt -s nullglob
for word in ${words[@]+"${words[@]}"}; do
  case "$word" in
    *[*?[]*)
      # shellcheck disable=SC2206 # the word is a glob pattern: expand it
      matches=($word)
      if [ "${#matches[@]}" -eq 0 ]; then
        warning "paths: '$word' matches no file"
      fi
      paths+=(${matches[@]+"${matches[@]}"})
      ;;
    *) paths+=("$word") ;;
  esac
done
shopt -u nullglob
if [ "${#words[@]}" -eq 0 ]; then
  case "$command_input" in
    "pins check") paths=(.) ;;
    *) usage "paths: immutag evaluate needs the files to read (templates, cdk.out/*.template.json, plan JSON)" ;;
  esac
fi
[ "${#paths[@]}" -gt 0 ] || usage "paths: no file matches '${INPUT_PATHS:-}'"

# ---- immutag ------------------------------------------------------------------------------

version=$(trim "${INPUT_VERSION:-}")
if [ -z "$version" ]; then
  ref="${IMMUTAG_ACTION_REF:-}"
  if [[ "$ref" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]]; then
    version="$ref"
  else
    version=source
  fi
fi

release_target() { # the release build for this runner: a Rust target triple
  local os="${RUNNER_OS:-$(uname -s)}" arch="${RUNNER_ARCH:-$(uname -m)}"
  case "$os/$arch" in
    Linux/X64 | Linux/x86_64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64 | Linux/aarch64 | Linux/arm64) echo aarch64-unknown-linux-musl ;;
    macOS/X64 | Darwin/x86_64) echo x86_64-apple-darwin ;;
    macOS/ARM64 | Darwin/arm64) echo aarch64-apple-darwin ;;
    *) usage "no immutag release for $os/$arch: set 'version: source' to build it with cargo" ;;
  esac
}

install_release() { # VERSION -> prints the path of the verified binary
  local target archive base url expected actual pinned
  target=$(release_target)
  archive="immutag-cli-$target.tar.gz"
  base="${INPUT_RELEASE_URL:-https://github.com/immutag/immutag/releases/download}"
  url="${base%/}/$1/$archive"
  echo "::group::immutag $1 for $target" >&2
  echo "downloading $url" >&2
  if ! curl --fail --silent --show-error --location --retry 3 -o "$work/$archive" "$url" ||
    ! curl --fail --silent --show-error --location --retry 3 -o "$work/$archive.sha256" "$url.sha256"; then
    error "cannot download $url (or its .sha256): is $1 a released version?"
    exit "$INCOMPLETE"
  fi
  # The checksum file holds the hex digest first (`HEX  NAME` or `HEX`).
  expected=$(cut -d' ' -f1 < "$work/$archive.sha256" | head -n 1 | tr 'A-F' 'a-f' | tr -d '\r')
  actual=$(sha256_of "$work/$archive")
  pinned=$(trim "${INPUT_CHECKSUM:-}" | tr 'A-F' 'a-f')
  if [ "$actual" != "$expected" ]; then
    usage "$archive: SHA-256 $actual does not match $archive.sha256 ($expected): not installed"
  fi
  if [ -n "$pinned" ] && [ "$actual" != "$pinned" ]; then
    usage "$archive: SHA-256 $actual is not the pinned checksum ($pinned): not installed"
  fi
  echo "sha256 $actual verified" >&2
  mkdir -p "$work/release"
  tar -xzf "$work/$archive" -C "$work/release"
  local bin
  bin=$(find "$work/release" -type f -name immutag | head -n 1)
  [ -n "$bin" ] || usage "$archive holds no immutag binary"
  echo "::endgroup::" >&2
  printf '%s' "$bin"
}

install_source() { # -> prints the path of the binary built from the action's checkout
  command -v cargo >/dev/null 2>&1 ||
    usage "version: source needs cargo (add a Rust toolchain step before this action), or set a released version"
  echo "::group::building immutag from $action_path" >&2
  cargo install --locked --path "$action_path/crates/immutag-cli" --root "$work/cargo" >&2 ||
    usage "cargo install failed (messages above)"
  echo "::endgroup::" >&2
  printf '%s' "$work/cargo/bin/immutag"
}

installed() { # -> prints the path of the immutag on PATH (an earlier step installed it)
  local bin
  bin=$(command -v immutag) ||
    usage "version: installed, but no immutag on PATH: install it in an earlier step, or set a released version"
  echo "using the installed $bin" >&2
  printf '%s' "$bin"
}

case "$version" in
  source) immutag=$(install_source) ;;
  installed) immutag=$(installed) ;;
  v[0-9]*) immutag=$(install_release "$version") ;;
  *) usage "version: '$version' is not a release (vX.Y.Z), 'source' or 'installed'" ;;
esac
"$immutag" --version >&2
output immutag "$immutag"

# ---- run ----------------------------------------------------------------------------------

run_immutag() { # FORMAT -> immutag's exit code; stdout is the report
  local rc=0
  "$immutag" "${command_args[@]}" ${param_args[@]+"${param_args[@]}"} ${extra_args[@]+"${extra_args[@]}"} \
    --output "$1" -- "${paths[@]}" || rc=$?
  return "$rc"
}

# The table: into the log, and into the job summary when there is one.
rc=0
run_immutag table > "$work/table.txt" || rc=$?
cat "$work/table.txt"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -s "$work/table.txt" ]; then
  { echo "### immutag ${command_args[*]}"; echo '```text'; cat "$work/table.txt"; echo '```'; } >> "$GITHUB_STEP_SUMMARY"
fi

sarif_file=$(trim "${INPUT_SARIF_FILE:-}")
if [ -n "$sarif_file" ]; then
  mkdir -p "$(dirname "$sarif_file")"
  # The report that is uploaded decides the exit code (the same inputs, read again).
  rc=0
  run_immutag sarif > "$sarif_file" 2> "$work/sarif.err" || rc=$?
  if [ "$rc" -ge "$USAGE" ]; then
    cat "$work/sarif.err" >&2
  fi
  echo "SARIF report: $sarif_file" >&2
fi
output exit-code "$rc"
output sarif-file "$sarif_file"

case "$rc" in
  0) exit 0 ;;
  1)
    if [ "$fail_on" = findings ]; then
      error "immutag ${command_args[*]} found problems (exit 1): see the report above"
      exit 1
    fi
    warning "immutag ${command_args[*]} found problems (exit 1); fail-on: errors lets the step pass"
    exit 0
    ;;
  2) error "immutag ${command_args[*]}: usage or input error (exit 2): see the messages above"; exit 2 ;;
  3) error "immutag ${command_args[*]}: incomplete (exit 3): some targets could not be read"; exit 3 ;;
  *) error "immutag ${command_args[*]} exited $rc"; exit "$rc" ;;
esac
