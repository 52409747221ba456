# Shared set-up for scripts/*: a venv with the project, and the system packages it needs.
# Sourced, not run. Idempotent: a second run installs nothing.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

say() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }

# ensure_system_packages CMD:PACKAGE ... : apt-get install the packages whose command is missing.
ensure_system_packages() {
  local missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]} with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    # Debian starts a system redis-server on 6379 after install; we never use it.
    if [[ " ${missing[*]} " == *" redis-server "* ]]; then
      (service redis-server stop || systemctl stop redis-server) >/dev/null 2>&1 || true
    fi
  else
    say "missing: ${missing[*]}. Install them (as root: apt-get install -y ${missing[*]}) and retry."
    return 1
  fi
}

ensure_venv() {
  local python="${PYTHON:-python3}"
  if [ ! -x "$PY" ]; then
    say "creating $VENV"
    "$python" -m venv "$VENV"
  fi
  local stamp="$VENV/.installed"
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    say "installing the project and its test extras into .venv"
    "$PY" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    if ! "$PY" -m pip install -q -e "$ROOT[test]" >"$VENV/pip.log" 2>&1; then
      cat "$VENV/pip.log" >&2
      say "pip install failed (log above, kept in $VENV/pip.log)"
      return 1
    fi
    touch "$stamp"
  fi
}
