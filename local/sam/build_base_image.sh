#!/usr/bin/env bash
# Builds, offline, a stand-in for the Lambda base image `public.ecr.aws/lambda/python:3.12-x86_64`, for
# machines that cannot pull it (air-gapped, or no container registry reachable). `sam local invoke` and
# `sam local start-api` then use it when given --skip-pull-image (or SAM_SKIP_PULL_IMAGE=1 in the environment).
#
# What goes in: a Debian `debootstrap --variant=minbase` root file system (same suite as the host, from the
# host's apt mirror), this machine's CPython 3.12 copied to /var/lang, awslambdaric + boto3 (PyPI wheels)
# in /var/runtime, a /var/runtime/bootstrap that sets sys.path like the official image (/var/task, then
# /opt/python/lib/python3.12/site-packages, then /opt/python) and a /lambda-entrypoint.sh; the tree is
# `docker import`ed with the official image's environment, working directory and entrypoint.
# SAM CLI then derives its `...:3.12-rapid-x86_64` image from it by adding its own aws-lambda-rie binary.
#
# Idempotent: does nothing when the image exists, unless FORCE=1. A rebuild deletes the rapid images that
# SAM CLI derived from the old base, or SAM would go on using them.
#
# Needs root, debootstrap and a running Docker engine (local/sam/install_docker.sh provides both).
# Settings (environment):
#   FORCE=1           rebuild even if the image exists
#   IMAGE             tag to build                      (default public.ecr.aws/lambda/python:3.12-x86_64)
#   PYTHON312         CPython 3.12 to copy              (default: python3.12 on PATH, else ~/.pyenv/versions/3.12*)
#   DEBIAN_MIRROR     apt mirror for debootstrap        (default: the first Debian URI in /etc/apt/sources.list*)
#   DEBIAN_SUITE      Debian suite                      (default: the host's VERSION_CODENAME)
#   WORK_DIR          scratch directory, removed at the end (default /tmp/batchops-lambda-image)
#   DEB_PACKAGES      Debian packages of the libraries CPython needs (default: bookworm's names)
#   STEP_TIMEOUT      seconds each slow step may take    (default 900)
set -euo pipefail
# dockerd, debootstrap and chroot live in sbin, which a non-login shell may lack.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

# Pins: the Lambda runtime interface client, and the runtime's own boto3, as the official image has one
# (the layer ships the boto3 our code uses and comes first on sys.path; this is the same version).
AWSLAMBDARIC_VERSION=4.2.2
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BOTO3_VERSION="$(sed -n 's/^boto3==\([0-9.]*\).*/\1/p' "$REPO_ROOT/layers/batchops/requirements.txt" 2>/dev/null | head -n1)"
[[ -n "$BOTO3_VERSION" ]] || { echo "build_base_image: ERROR: no boto3== pin in layers/batchops/requirements.txt" >&2; exit 1; }

IMAGE="${IMAGE:-public.ecr.aws/lambda/python:3.12-x86_64}"
WORK_DIR="${WORK_DIR:-/tmp/batchops-lambda-image}"
ROOTFS="$WORK_DIR/rootfs"
# Shared libraries CPython's standard extension modules link against (tkinter is left out).
# The names are bookworm's (trixie renamed several, e.g. libssl3t64): another suite must set DEB_PACKAGES.
BOOKWORM_PACKAGES=ca-certificates,libssl3,libffi8,libsqlite3-0,libexpat1,libbz2-1.0,liblzma5,zlib1g,libreadline8,libncursesw6,libtinfo6,libuuid1,libnsl2,libtirpc3,libgdbm6,libcrypt1
# Slow steps (debootstrap, pip, docker import) each get this many seconds.
STEP_TIMEOUT="${STEP_TIMEOUT:-900}"

log() { echo "build_base_image: $*" >&2; }
die() { echo "build_base_image: ERROR: $*" >&2; exit 1; }

# ---- preconditions --------------------------------------------------------------------------------------
[[ "$(uname -m)" == x86_64 ]] || die "this builds an x86_64 image and must run on x86_64 (got $(uname -m))"
command -v docker >/dev/null 2>&1 || die "docker not found: run local/sam/install_docker.sh first"
timeout 20 docker info >/dev/null 2>&1 || die "no Docker engine answers \`docker info\`: run local/sam/install_docker.sh first"

OLD_ID="$(docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
if [[ -n "$OLD_ID" && "${FORCE:-0}" != 1 ]]; then
    log "$IMAGE already exists (${OLD_ID:7:12}); nothing to do (FORCE=1 rebuilds it)"
    exit 0
fi

[[ "$(id -u)" == 0 ]] || die "must run as root (debootstrap and chroot)"
command -v debootstrap >/dev/null 2>&1 || die "debootstrap not found: run local/sam/install_docker.sh (or apt-get install debootstrap)"

IS_CPYTHON312_X86='import sys, platform; sys.exit(not (sys.version_info[:2] == (3, 12) and sys.implementation.name == "cpython" and platform.machine() == "x86_64"))'
if [[ -n "${PYTHON312:-}" ]] && ! "$PYTHON312" -c "$IS_CPYTHON312_X86" 2>/dev/null; then
    die "PYTHON312=$PYTHON312 is not a CPython 3.12 for x86_64"
fi
find_python() {
    local c
    for c in "${PYTHON312:-}" python3.12 "$HOME"/.pyenv/versions/3.12*/bin/python3.12; do
        [[ -n "$c" ]] && command -v "$c" >/dev/null 2>&1 || continue
        if "$c" -c "$IS_CPYTHON312_X86" 2>/dev/null; then
            echo "$c"
            return 0
        fi
    done
    return 1
}
PY="$(find_python)" || die "no CPython 3.12 (x86_64) found: set PYTHON312=/path/to/python3.12 (e.g. pyenv install 3.12)"
PY_PREFIX="$("$PY" -c 'import sys; print(sys.base_prefix)')"
PY_VERSION="$("$PY" -c 'import platform; print(platform.python_version())')"
[[ -x "$PY_PREFIX/bin/python3.12" && -d "$PY_PREFIX/lib/python3.12/lib-dynload" ]] \
    || die "$PY_PREFIX does not look like a CPython install prefix (bin/python3.12, lib/python3.12/lib-dynload)"
"$PY" -m pip --version >/dev/null 2>&1 || die "$PY has no pip (needed to fetch awslambdaric and boto3 wheels)"

# The root file system must be the host's Debian release: the copied CPython links against its libraries.
if [[ -z "${DEBIAN_SUITE:-}" ]]; then
    DEBIAN_SUITE="$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")"
    [[ -n "$DEBIAN_SUITE" ]] || die "cannot tell the host's Debian suite: set DEBIAN_SUITE (e.g. bookworm)"
fi
if [[ -z "${DEBIAN_MIRROR:-}" ]]; then
    DEBIAN_MIRROR="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -v '^\s*#' | grep -oE '(https?|file)://[^ ]*/debian/?( |$)' | head -n1 | tr -d ' ' || true)"
    [[ -n "$DEBIAN_MIRROR" ]] || die "no Debian mirror found in /etc/apt/sources.list*: set DEBIAN_MIRROR"
fi

# ---- build ----------------------------------------------------------------------------------------------
START=$(date +%s)
cleanup() { [[ -d "$ROOTFS" ]] && { umount -R "$ROOTFS/proc" "$ROOTFS/sys" 2>/dev/null || true; }; rm -rf "$WORK_DIR"; }
trap cleanup EXIT
rm -rf "$WORK_DIR"
mkdir -p "$ROOTFS"

log "debootstrap $DEBIAN_SUITE (minbase) from $DEBIAN_MIRROR"
if [[ -z "${DEB_PACKAGES:-}" ]]; then
    [[ "$DEBIAN_SUITE" == bookworm ]] \
        || die "the package list is bookworm's; on $DEBIAN_SUITE set DEB_PACKAGES (comma-separated) to its names"
    DEB_PACKAGES="$BOOKWORM_PACKAGES"
fi
if ! timeout "$STEP_TIMEOUT" debootstrap --variant=minbase --include="$DEB_PACKAGES" "$DEBIAN_SUITE" "$ROOTFS" "$DEBIAN_MIRROR" \
    >"$WORK_DIR/debootstrap.log" 2>&1; then
    tail -n 20 "$WORK_DIR/debootstrap.log" >&2
    cp "$WORK_DIR/debootstrap.log" /tmp/batchops-debootstrap.log 2>/dev/null || true
    die "debootstrap failed (log kept at /tmp/batchops-debootstrap.log)"
fi

log "copying CPython $PY_VERSION from $PY_PREFIX to /var/lang"
mkdir -p "$ROOTFS/var/lang/bin" "$ROOTFS/var/lang/lib"
cp -a "$PY_PREFIX/bin/python3.12" "$ROOTFS/var/lang/bin/"
ln -sf python3.12 "$ROOTFS/var/lang/bin/python3"
ln -sf python3.12 "$ROOTFS/var/lang/bin/python"
cp -a "$PY_PREFIX"/lib/libpython3*.so* "$ROOTFS/var/lang/lib/" 2>/dev/null || true
tar -C "$PY_PREFIX/lib" -cf - \
    --exclude='python3.12/test' --exclude='python3.12/idlelib' --exclude='python3.12/tkinter' \
    --exclude='python3.12/turtledemo' --exclude='python3.12/ensurepip' --exclude='python3.12/lib2to3' \
    --exclude='python3.12/config-3.12-*' --exclude='python3.12/site-packages/*' \
    --exclude='python3.12/lib-dynload/_tkinter*' --exclude='__pycache__/*.opt-*.pyc' \
    python3.12 | tar -C "$ROOTFS/var/lang/lib" -xf -
# The copied interpreter's RPATH points at its old prefix: let the loader find libpython in /var/lang/lib.
echo /var/lang/lib >"$ROOTFS/etc/ld.so.conf.d/00-var-lang.conf"
chroot "$ROOTFS" /sbin/ldconfig

log "installing awslambdaric==$AWSLAMBDARIC_VERSION boto3==$BOTO3_VERSION into /var/runtime"
if ! timeout "$STEP_TIMEOUT" "$PY" -m pip install --quiet --disable-pip-version-check --no-compile --target "$ROOTFS/var/runtime" \
    --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.12 --implementation cp --abi cp312 \
    "awslambdaric==$AWSLAMBDARIC_VERSION" "boto3==$BOTO3_VERSION" >"$WORK_DIR/pip.log" 2>&1; then
    grep -v '^WARNING: Location' "$WORK_DIR/pip.log" | tail -n 20 >&2
    die "pip install of awslambdaric/boto3 into /var/runtime failed"
fi
rm -rf "$ROOTFS/var/runtime/bin"
# Byte-compile in place (inside the root) so cold starts do not compile botocore on every container start.
chroot "$ROOTFS" /var/lang/bin/python3.12 -m compileall -q -j 0 /var/runtime >/dev/null \
    || die "byte-compiling /var/runtime failed"

cat >"$ROOTFS/var/runtime/bootstrap" <<'EOF'
#!/bin/sh
# Stand-in for the official python3.12 image's bootstrap (see local/sam/build_base_image.sh).
export AWS_EXECUTION_ENV=AWS_Lambda_python3.12
if [ -z "$AWS_LAMBDA_EXEC_WRAPPER" ]; then
  exec /var/lang/bin/python3.12 /var/runtime/bootstrap.py "$@"
fi
if [ ! -f "$AWS_LAMBDA_EXEC_WRAPPER" ]; then echo "$AWS_LAMBDA_EXEC_WRAPPER: does not exist"; exit 127; fi
if [ ! -x "$AWS_LAMBDA_EXEC_WRAPPER" ]; then echo "$AWS_LAMBDA_EXEC_WRAPPER: is not an executable"; exit 126; fi
exec "$AWS_LAMBDA_EXEC_WRAPPER" /var/lang/bin/python3.12 /var/runtime/bootstrap.py "$@"
EOF
cat >"$ROOTFS/var/runtime/bootstrap.py" <<'EOF'
"""Stand-in for the official python3.12 image's bootstrap.py (see local/sam/build_base_image.sh)."""

import os
import sys

# sys.path[0] is /var/runtime (this file's folder), where awslambdaric and boto3 live. In front of it, like
# the official image: LAMBDA_TASK_ROOT, then the layers' /opt/python/lib/python3.12/site-packages, then
# /opt/python (the last two only when PYTHONPATH is not set).
if "PYTHONPATH" not in os.environ:
    sys.path.insert(0, "/opt/python")
    sys.path.insert(0, "/opt/python/lib/python{}.{}/site-packages".format(*sys.version_info[:2]))
task_root = os.environ.get("LAMBDA_TASK_ROOT", "/var/task")
sys.path.insert(0, task_root)

import awslambdaric.__main__ as awslambdaricmain  # noqa: E402

handler = os.environ.get("_HANDLER") or os.environ.get("AWS_LAMBDA_FUNCTION_HANDLER") or (sys.argv[1:] or [""])[0]
if not handler:
    sys.exit("bootstrap: no handler (_HANDLER is not set)")
awslambdaricmain.main([task_root, handler])
EOF
cat >"$ROOTFS/lambda-entrypoint.sh" <<'EOF'
#!/bin/sh
# Stand-in for the official image's entrypoint: `docker run IMAGE module.handler`.
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"
RUNTIME_ENTRYPOINT=/var/runtime/bootstrap
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  for rie in /var/rapid/aws-lambda-rie /usr/local/bin/aws-lambda-rie; do
    [ -x "$rie" ] && exec "$rie" "$RUNTIME_ENTRYPOINT"
  done
  echo "no aws-lambda-rie in this image and AWS_LAMBDA_RUNTIME_API is not set" 1>&2
  exit 127
fi
exec "$RUNTIME_ENTRYPOINT"
EOF
chmod 755 "$ROOTFS/var/runtime/bootstrap" "$ROOTFS/lambda-entrypoint.sh"
mkdir -p "$ROOTFS/var/task" "$ROOTFS/opt"
chmod 1777 "$ROOTFS/tmp"

log "checking the interpreter inside the root file system"
missing="$(chroot "$ROOTFS" /bin/sh -c 'for f in /var/lang/bin/python3.12 /var/lang/lib/python3.12/lib-dynload/*.so $(find /var/runtime -name "*.so"); do ldd "$f" 2>/dev/null | grep "not found" | sed "s|^|$f: |"; done' || true)"
[[ -z "$missing" ]] || die "shared libraries missing in the image (add their Debian packages to DEB_PACKAGES):
$missing"
if ! chroot "$ROOTFS" /usr/bin/env -i PATH=/var/lang/bin:/usr/bin:/bin LANG=C.UTF-8 /var/lang/bin/python3.12 -c '
import sys
assert sys.prefix == "/var/lang", sys.prefix
import ssl, sqlite3, ctypes, lzma, bz2, zlib, decimal, json, uuid, hashlib, asyncio, zoneinfo
sys.path.insert(0, "/var/runtime")
import awslambdaric.bootstrap, boto3
print("python", sys.version.split()[0], "boto3", boto3.__version__)
' >"$WORK_DIR/check.log" 2>&1; then
    cat "$WORK_DIR/check.log" >&2
    die "the copied CPython does not work inside the image (output above)"
fi
log "inside the image: $(cat "$WORK_DIR/check.log")"

# Slim down: apt's caches and lists, documentation, manual pages and locales are of no use at run time.
rm -rf "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/usr/share/doc/* \
    "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/usr/share/locale/* "$ROOTFS"/var/log/*

log "importing as $IMAGE"
NEW_ID="$(tar --numeric-owner -C "$ROOTFS" -cf - . | timeout "$STEP_TIMEOUT" docker import \
    --change 'ENV LANG=en_US.UTF-8' \
    --change 'ENV TZ=:/etc/localtime' \
    --change 'ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin' \
    --change 'ENV LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib' \
    --change 'ENV LAMBDA_TASK_ROOT=/var/task' \
    --change 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
    --change 'WORKDIR /var/task' \
    --change 'ENTRYPOINT ["/lambda-entrypoint.sh"]' \
    --message "offline stand-in for $IMAGE: Debian $DEBIAN_SUITE, CPython $PY_VERSION, awslambdaric $AWSLAMBDARIC_VERSION, boto3 $BOTO3_VERSION" \
    - "$IMAGE")" || die "docker import failed"

# SAM CLI keeps using images it derived from the old base (`<repo>:3.12-rapid-x86_64`, and
# `samcli/lambda-python:3.12-x86_64-<layers hash>` for functions with layers): remove them.
repo="${IMAGE%:*}"
stale="$(docker images --format '{{.Repository}}:{{.Tag}}' \
    | grep -E "^${repo//./\\.}:3\.12-rapid-x86_64$|^samcli/lambda-python:3\.12-x86_64-" || true)"
if [[ -n "$stale" ]]; then
    log "removing images SAM CLI derived from the old base: $(echo $stale)"
    docker rmi -f $stale >/dev/null || log "warning: could not remove some of: $stale"
fi
if [[ -n "$OLD_ID" && "$OLD_ID" != "$NEW_ID" ]]; then
    docker rmi "$OLD_ID" >/dev/null 2>&1 || true
fi

SIZE="$(docker image inspect --format '{{.Size}}' "$IMAGE")"
log "built $IMAGE (${NEW_ID:7:12}, $((SIZE / 1000000)) MB) in $(($(date +%s) - START))s"
log "use it with: sam local invoke --skip-pull-image ..."
