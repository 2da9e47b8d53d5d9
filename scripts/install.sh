#!/usr/bin/env bash
# onprem-bot offline installer (inside the bundle made by `make bundle`). No network is used.
#
#   ./install.sh [PREFIX]          default PREFIX: /opt/onprem-bot (or $ONPREM_BOT_PREFIX)
#
# Steps, in this order (nothing is installed before the checks pass):
#   1. Python version and platform match the bundle (bundle.json)   → clear message, exit 3
#   2. every file matches SHA256SUMS                                 → names the file, exit 4
#   3. enough free disk space under PREFIX                           → exit 5
#   4. PREFIX/releases/<id>/{venv,app}: pip install --no-index --find-links wheels
#      (written in place and marked complete last; a failure, a full disk included, removes the
#      partial release, and PREFIX/current still points at the previous good one)
#   5. PREFIX/onprem-bot.toml (created once, never overwritten), PREFIX/bin/onprem-bot
#   6. onprem-bot doctor; on success PREFIX/current → this release (atomic symlink switch)
# A second run of the same bundle finds the release complete, installs nothing and re-runs doctor.
#
# Environment: PYTHON (interpreter to use; default python3.<bundle's minor>),
#   ONPREM_BOT_INSTALL_SKIP_SPACE_CHECK=1 (tests only), ONPREM_BOT_INSTALL_SKIP_DOCTOR=1.
set -Eeuo pipefail
umask 022

BUNDLE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREFIX="${1:-${ONPREM_BOT_PREFIX:-/opt/onprem-bot}}"

say() { printf '%s\n' "$*"; }
die() { local code="$1"; shift; printf '오류 (error): %s\n' "$*" >&2; exit "$code"; }

[[ -f "$BUNDLE/bundle.json" && -f "$BUNDLE/SHA256SUMS" ]] || die 2 "bundle.json/SHA256SUMS가 없습니다: 번들 폴더에서 실행하세요 (run install.sh from the unpacked bundle)"

# -- 1. Python and platform ------------------------------------------------------------------
json_field() { sed -n "s/^ *\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" "$BUNDLE/bundle.json" | head -n1; }
WANT_PY="$(json_field python)"
WANT_MACHINE="$(json_field machine)"
WANT_LIBC="$(json_field libc)"
WANT_LIBC_VERSION="$(json_field libc_version)"
VARIANT="$(json_field variant)"
PY="${PYTHON:-python$WANT_PY}"
if ! HAVE="$("$PY" -c '
import platform, sys
libc = platform.libc_ver()
print(f"{sys.version_info[0]}.{sys.version_info[1]}", platform.machine(), sys.platform, libc[0] or "-", libc[1] or "0")
' 2>/dev/null)"; then
    die 3 "Python $WANT_PY이(가) 필요합니다 (wrong Python: this bundle needs Python $WANT_PY; '$PY' not found or not runnable; set PYTHON=/path/to/python$WANT_PY). 설치하지 않았습니다 (nothing installed)"
fi
read -r HAVE_PY HAVE_MACHINE HAVE_OS HAVE_LIBC HAVE_LIBC_VERSION <<<"$HAVE"
[[ "$HAVE_OS" == linux ]] || die 3 "이 번들은 Linux용입니다 (bundle is for Linux; this is $HAVE_OS)"
[[ "$HAVE_PY" == "$WANT_PY" ]] || die 3 "Python 버전이 맞지 않습니다: 번들 $WANT_PY, 이 서버 $HAVE_PY ($PY) (wrong Python: bundle for $WANT_PY). 설치하지 않았습니다 (nothing installed)"
[[ "$HAVE_MACHINE" == "$WANT_MACHINE" ]] || die 3 "플랫폼이 맞지 않습니다: 번들 $WANT_MACHINE, 이 서버 $HAVE_MACHINE (wrong platform). 설치하지 않았습니다 (nothing installed)"
if [[ -n "$WANT_LIBC" && "$WANT_LIBC" == glibc ]]; then
    [[ "$HAVE_LIBC" == glibc ]] || die 3 "glibc가 필요합니다 (bundle needs glibc ≥ $WANT_LIBC_VERSION; this system: $HAVE_LIBC)"
    if [[ "$(printf '%s\n%s\n' "$WANT_LIBC_VERSION" "$HAVE_LIBC_VERSION" | sort -V | head -n1)" != "$WANT_LIBC_VERSION" ]]; then
        die 3 "glibc $HAVE_LIBC_VERSION < $WANT_LIBC_VERSION: 번들을 만든 서버보다 오래된 시스템입니다 (older than the build machine). 설치하지 않았습니다"
    fi
fi
say "[ok] Python $HAVE_PY, $HAVE_MACHINE, $HAVE_LIBC $HAVE_LIBC_VERSION (bundle: $VARIANT)"

# -- 2. checksums ----------------------------------------------------------------------------
command -v sha256sum >/dev/null 2>&1 || die 2 "sha256sum이 없습니다 (coreutils needed)"
SUMS_ID="$(sha256sum "$BUNDLE/SHA256SUMS" | cut -c1-64)"
say "[..] 체크섬 확인 중 (verifying $(wc -l <"$BUNDLE/SHA256SUMS") files; SHA256SUMS 지문 $SUMS_ID)"
if ! BAD="$(cd "$BUNDLE" && sha256sum --check --quiet SHA256SUMS 2>&1)"; then
    FILES="$(printf '%s\n' "$BAD" | sed -n 's/^\(.*\): FAILED.*$/\1/p; s/^sha256sum: \(.*\): No such file.*$/\1 (missing)/p' | sort -u | paste -sd, -)"
    die 4 "체크섬 불일치 — 번들이 손상되었거나 변조되었습니다 (checksum mismatch, bundle damaged or tampered): ${FILES:-$BAD}. 설치하지 않았습니다 (nothing installed)"
fi
say "[ok] 체크섬 (checksums)"

# -- 3. disk space ---------------------------------------------------------------------------
ID="${SUMS_ID:0:12}"
RELEASE="$PREFIX/releases/$ID"
mkdir -p "$PREFIX/releases" 2>/dev/null || die 5 "설치 폴더를 만들 수 없습니다 (cannot create $PREFIX)"
if [[ -f "$RELEASE/.complete" ]]; then
    say "[ok] 이미 설치됨 (already installed): $RELEASE — 다시 설치하지 않습니다 (nothing to do)"
else
    NEED_KB=$(( $(du -sk "$BUNDLE/wheels" | cut -f1) * 4 + $(du -sk "$BUNDLE/app" | cut -f1) + 200000 ))
    FREE_KB=$(df -Pk "$PREFIX/releases" | awk 'NR==2 {print $4}')
    if [[ "${ONPREM_BOT_INSTALL_SKIP_SPACE_CHECK:-0}" != 1 && "$FREE_KB" -lt "$NEED_KB" ]]; then
        die 5 "디스크 공간 부족 (not enough disk space) under $PREFIX: $((FREE_KB / 1024)) MiB free, about $((NEED_KB / 1024)) MiB needed. 설치하지 않았습니다"
    fi

    # -- 4. install the release in place; removed on any failure ---------------------------
    rm -rf "$RELEASE"  # a leftover from an interrupted run
    cleanup() {
        local rc=$?
        if [[ ! -f "$RELEASE/.complete" ]]; then
            rm -rf "$RELEASE"
            printf '오류 (error): 설치 실패 (install failed, exit %s); 부분 설치를 지웠습니다 (partial release removed): %s\n' "$rc" "$RELEASE" >&2
        fi
    }
    trap cleanup EXIT
    say "[..] 설치 중 (installing into $RELEASE)"
    mkdir -p "$RELEASE"
    cp -a "$BUNDLE/app" "$RELEASE/app"
    "$PY" -m venv "$RELEASE/venv"
    PIP=("$RELEASE/venv/bin/python" -m pip --disable-pip-version-check --no-input --quiet)
    export PIP_CONFIG_FILE=/dev/null PIP_NO_INDEX=1 PIP_FIND_LINKS="$BUNDLE/wheels"
    unset PIP_EXTRA_INDEX_URL PIP_INDEX_URL PIP_CONSTRAINT
    "${PIP[@]}" install --no-index --find-links "$BUNDLE/wheels" "setuptools>=68" wheel
    EXTRAS="$(sed -n 's/^ *"extras": *\[\(.*\)\].*/\1/p' "$BUNDLE/bundle.json" | tr -d ' "')"
    "${PIP[@]}" install --no-index --find-links "$BUNDLE/wheels" -c "$BUNDLE/wheels/constraints.txt" \
        --no-build-isolation -e "$RELEASE/app${EXTRAS:+[$EXTRAS]}"
    "$RELEASE/venv/bin/python" -c 'import onprem_bot, llama_cpp, faiss, streamlit' \
        || die 6 "설치 후 import 실패 (import check failed)"
    cp "$BUNDLE/bundle.json" "$BUNDLE/SHA256SUMS" "$RELEASE/"
    sync -f "$RELEASE" 2>/dev/null || sync
    touch "$RELEASE/.complete"
    trap - EXIT
    say "[ok] 설치됨 (installed): $RELEASE"
fi

# -- 5. configuration (kept across upgrades) and the command -----------------------------------
mkdir -p "$PREFIX/bin" "$PREFIX/var"
if [[ ! -f "$PREFIX/onprem-bot.toml" ]]; then
    cat >"$PREFIX/onprem-bot.toml.tmp" <<EOF
# onprem-bot settings (written once by install.sh; edit freely, upgrades keep it).
# See README.md "설정". An empty database_url means SQLite under home.
home = "$PREFIX/var"
database_url = ""

[llm]
# model_path = "$PREFIX/models/your-korean-7b.Q4_K_M.gguf"   # default: the bundle's models/default.gguf
EOF
    mv "$PREFIX/onprem-bot.toml.tmp" "$PREFIX/onprem-bot.toml"
fi
cat >"$PREFIX/bin/onprem-bot.tmp" <<EOF
#!/bin/sh
# onprem-bot (installed by install.sh): the current release with this installation's settings
export ONPREM_BOT_CONFIG="\${ONPREM_BOT_CONFIG:-$PREFIX/onprem-bot.toml}"
exec "$PREFIX/current/venv/bin/onprem-bot" "\$@"
EOF
chmod 755 "$PREFIX/bin/onprem-bot.tmp"
mv "$PREFIX/bin/onprem-bot.tmp" "$PREFIX/bin/onprem-bot"

# -- 6. doctor, then switch current ------------------------------------------------------------
if [[ "${ONPREM_BOT_INSTALL_SKIP_DOCTOR:-0}" != 1 ]]; then
    say "[..] onprem-bot doctor"
    if ! ONPREM_BOT_CONFIG="${ONPREM_BOT_CONFIG:-$PREFIX/onprem-bot.toml}" "$RELEASE/venv/bin/onprem-bot" doctor; then
        die 7 "doctor가 문제를 찾았습니다 (doctor found a problem); 현재 버전은 바꾸지 않았습니다 (current release unchanged). 고친 뒤 install.sh를 다시 실행하세요"
    fi
fi
ln -sfn "releases/$ID" "$PREFIX/.current.tmp"
mv -Tf "$PREFIX/.current.tmp" "$PREFIX/current"
say "[ok] 완료 (done): $PREFIX/bin/onprem-bot  (현재 버전 current → releases/$ID)"
say "     예: $PREFIX/bin/onprem-bot ingest $PREFIX/current/app/corpus && $PREFIX/bin/onprem-bot ui"
