#!/usr/bin/env bash
# The Debian package (debian/): builds postgresql-15-slotguard with
# dpkg-buildpackage in a temporary copy of the repository, installs it, runs
# CREATE EXTENSION from it (slotguard, and slotguard_proxy on a coordinator
# database) and the whole regression suite (installcheck) against it, removes
# it and checks that its files are gone, then puts back what `make install`
# had installed, so the suites that run after this one test the dev build.
#
# Two ways to install (DEB_INSTALL_MODE):
#   dpkg     dpkg -i / dpkg -r into the system. Only where the system's
#            PostgreSQL 15 is the one under test and nothing else uses it: CI
#            (a clean machine, suites one after another). The dev build's
#            files at the same paths are saved first and restored at the end
#            (even on failure).
#   extract  dpkg -x, then the package's files are copied into the
#            PostgreSQL of $PG_CONFIG (e.g. a private copy under /opt) and
#            deleted again at the end: for a shared machine, where
#            /usr/lib/postgresql/15 must not change.
#   auto     (default) dpkg when CI=true, running as root, and $PG_CONFIG is
#            the system's /usr/lib/postgresql/15/bin/pg_config; else extract.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
SYSTEM_PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
PKG=postgresql-15-slotguard

fail() { echo "debian_package: FAIL: $*" >&2; exit 1; }

mode=${DEB_INSTALL_MODE:-auto}
if [[ $mode == auto ]]; then
    if [[ ${CI:-} == true && $EUID -eq 0 && $(readlink -f "$PG_CONFIG") == "$SYSTEM_PG_CONFIG" ]]; then
        mode=dpkg
    else
        mode=extract
    fi
fi
case $mode in
    dpkg)
        [[ $(readlink -f "$PG_CONFIG") == "$SYSTEM_PG_CONFIG" ]] ||
            fail "DEB_INSTALL_MODE=dpkg installs into the system's PostgreSQL; PG_CONFIG is $PG_CONFIG"
        [[ $EUID -eq 0 ]] || fail "DEB_INSTALL_MODE=dpkg needs root" ;;
    extract) ;;
    *) fail "DEB_INSTALL_MODE must be dpkg, extract or auto, not $mode" ;;
esac
for tool in dpkg-buildpackage dh pg_buildext; do
    command -v "$tool" >/dev/null || { bash scripts/install-deps.sh </dev/null; break; }
done
# One version everywhere: the control file, debian/changelog, META.json.
ext=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" control/slotguard.control)
deb=$(dpkg-parsechangelog -l debian/changelog -S Version)
meta=$(/usr/bin/python3 -c 'import json; m = json.load(open("META.json")); print(m["version"], m["provides"]["slotguard"]["version"])')
[[ ${deb%-*} == "$ext.0" && $meta == "$ext.0 $ext.0" ]] ||
    fail "versions disagree: control $ext, debian/changelog $deb, META.json $meta"
echo "debian_package: version $ext in the control file, debian/changelog ($deb) and META.json"
PKGLIBDIR=$("$PG_CONFIG" --pkglibdir)
SHAREDIR=$("$PG_CONFIG" --sharedir)
echo "debian_package: install mode $mode, PostgreSQL of $PG_CONFIG"

# Where a file of the package lands in the PostgreSQL under test (empty: not
# a PostgreSQL file, e.g. documentation).
target_of() {
    case $1 in
        ./usr/lib/postgresql/15/lib/*) echo "$PKGLIBDIR/${1#./usr/lib/postgresql/15/lib/}" ;;
        ./usr/share/postgresql/15/*) echo "$SHAREDIR/${1#./usr/share/postgresql/15/}" ;;
        *) echo "" ;;
    esac
}

WORK=$(mktemp -d "${CLUSTER_TMPDIR:-/tmp}/slotguard-deb.XXXXXX")
SAVED=$WORK/saved-dev-build
mkdir -p "$SAVED" "$WORK/src"
installed=0

# --- 1. build the .deb in a temporary copy -----------------------------------
tar --exclude=./.git --exclude=./build --exclude=./results --exclude=./output_iso \
    --exclude='*.o' --exclude='*.d' --exclude='*.so' --exclude='*.bc' \
    --exclude=./control/slotguard--1.2.sql -cf - . | tar -C "$WORK/src" -xf -
echo "debian_package: dpkg-buildpackage -us -uc -b (log: $WORK/build.log)"
if ! (cd "$WORK/src" && DEB_BUILD_OPTIONS="parallel=${JOBS:-2}" \
    dpkg-buildpackage -us -uc -b >"$WORK/build.log" 2>&1); then
    tail -n 40 "$WORK/build.log" >&2
    fail "dpkg-buildpackage failed"
fi
DEB=$(ls "$WORK"/${PKG}_*_*.deb)
echo "debian_package: built $(basename "$DEB")"
dpkg-deb -f "$DEB" Package Version Depends | sed 's/^/debian_package:   /'

mapfile -t FILES < <(dpkg-deb --fsys-tarfile "$DEB" | tar -t | grep -v '/$')
PGFILES=()
for f in "${FILES[@]}"; do [[ -n $(target_of "$f") ]] && PGFILES+=("$f"); done
for want in ./usr/lib/postgresql/15/lib/slotguard.so \
    ./usr/share/postgresql/15/extension/slotguard.control \
    ./usr/share/postgresql/15/extension/slotguard--1.2.sql \
    ./usr/share/postgresql/15/extension/slotguard--1.1--1.2.sql \
    ./usr/share/postgresql/15/extension/slotguard_proxy.control \
    ./usr/share/postgresql/15/extension/slotguard_proxy--1.0.sql; do
    printf '%s\n' "${PGFILES[@]}" | grep -qxF "$want" || fail "the package lacks $want"
done
echo "debian_package: the package holds ${#PGFILES[@]} PostgreSQL files (slotguard and slotguard_proxy)"

# --- 2. save the dev build's files at the same paths, and restore them at exit
for f in "${PGFILES[@]}"; do
    t=$(target_of "$f")
    if [[ -e $t ]]; then
        mkdir -p "$SAVED/$(dirname "$f")"
        cp -a "$t" "$SAVED/$f"
    fi
done
remove_package() {
    local f t
    if [[ $mode == dpkg ]]; then
        dpkg -r "$PKG" >"$WORK/remove.log" 2>&1 || { cat "$WORK/remove.log" >&2; return 1; }
    else
        for f in "${PGFILES[@]}"; do rm -f "$(target_of "$f")"; done
    fi
}
restore_dev_build() {
    local f t
    if [[ $installed == 1 ]]; then
        remove_package || true
        installed=0
    fi
    for f in "${PGFILES[@]}"; do
        t=$(target_of "$f")
        if [[ -e $SAVED/$f ]]; then
            mkdir -p "$(dirname "$t")"
            cp -a "$SAVED/$f" "$t"
        fi
    done
    rm -rf "$WORK"
}
source test/lib/cluster.sh
cluster_at_exit restore_dev_build

# Without the dev build's files, only the package can make CREATE EXTENSION work.
for f in "${PGFILES[@]}"; do rm -f "$(target_of "$f")"; done

# --- 3. install -------------------------------------------------------------------
if [[ $mode == dpkg ]]; then
    installed=1
    dpkg -i "$DEB" >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; fail "dpkg -i failed"; }
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$PKG") == installed ]] || fail "dpkg says $PKG is not installed"
else
    installed=1
    dpkg -x "$DEB" "$WORK/root"
    for f in "${PGFILES[@]}"; do
        t=$(target_of "$f")
        mkdir -p "$(dirname "$t")"
        cp -a "$WORK/root/$f" "$t"
    done
fi
for f in "${PGFILES[@]}"; do [[ -f $(target_of "$f") ]] || fail "$(target_of "$f") is not installed"; done
echo "debian_package: installed ($mode)"

# --- 4. CREATE EXTENSION from the package, and the regression suite --------------
cluster_start "fsync = off"
out=$(cluster_psql -At -U postgres <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION slotguard CASCADE;
SELECT extversion FROM pg_extension WHERE extname = 'slotguard';
SELECT id FROM slotguard.book_slot('deb:room', '[2030-01-01 10:00+00,2030-01-01 11:00+00)');
CREATE DATABASE coordinator;
SQL
) || fail "CREATE EXTENSION slotguard from the package: $out"
[[ $out == $'1.2\n1' ]] || fail "after CREATE EXTENSION and a booking: $out"
out=$(cluster_psql -At -U postgres -d coordinator \
    -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION slotguard_proxy CASCADE' \
    -c "SELECT extversion FROM pg_extension WHERE extname = 'slotguard_proxy'" 2>&1) ||
    fail "CREATE EXTENSION slotguard_proxy from the package: $out"
[[ $out == 1.0 ]] || fail "slotguard_proxy: $out"
echo "debian_package: CREATE EXTENSION slotguard (1.2) and slotguard_proxy (1.0) from the package"
cluster_stop

echo "debian_package: the regression suite (installcheck) against the package"
bash ./run-tests.sh --installcheck regress || fail "installcheck against the package"

# --- 5. remove, and check that nothing is left ---------------------------------------
remove_package || fail "removing the package"
installed=0
for f in "${PGFILES[@]}"; do
    [[ ! -e $(target_of "$f") ]] || fail "$(target_of "$f") is still there after removing the package"
done
if [[ $mode == dpkg ]]; then
    st=$(dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null || true)
    [[ $st != installed ]] || fail "dpkg still lists $PKG as installed"
    for f in "${FILES[@]}"; do
        [[ ! -e ${f#.} ]] || fail "${f#.} is still there after dpkg -r"
    done
fi
echo "debian_package: removed; none of its ${#FILES[@]} files is left"

# --- 6. the dev build is back (restore_dev_build runs at exit; check it now) ------
for f in "${PGFILES[@]}"; do
    t=$(target_of "$f")
    if [[ -e $SAVED/$f ]]; then cp -a "$SAVED/$f" "$t"; fi
done
for f in "${PGFILES[@]}"; do
    [[ ! -e $SAVED/$f ]] || cmp -s "$SAVED/$f" "$(target_of "$f")" || fail "$(target_of "$f") was not restored"
done
echo "debian_package: the dev build's files are back"
echo "debian_package: OK"
