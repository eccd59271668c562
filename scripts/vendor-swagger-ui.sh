#!/usr/bin/env bash
# Vendors Swagger UI into components/docs/assets/swagger-ui/ from the npm registry: the pinned
# swagger-ui-dist tarball (fetched with npm, the registry's own client), its sha512 checked
# against the registry's `dist.integrity` and against the integrity pinned below, then only
# the files the docs page serves, plus the licences. The result is checked in so that builds
# stay offline; this script is how to update it:
#
#   VERSION=5.36.0 INTEGRITY= bash scripts/vendor-swagger-ui.sh   # prints the integrity to pin
#   # then pin VERSION and INTEGRITY below, run it again and review components/docs/assets/.
#
# Needs npm, tar and python3.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PACKAGE=swagger-ui-dist
VERSION=${VERSION:-5.35.0}
# The registry's `dist.integrity` of $PACKAGE@$VERSION, pinned when it was first vendored.
# Empty (INTEGRITY=): take the registry's value this once and print it for pinning.
INTEGRITY=${INTEGRITY-sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==}
DEST=components/docs/assets/swagger-ui
# What the docs page uses: the bundle (BaseLayout, so no standalone preset), its stylesheet
# and the favicons; plus Swagger UI's licence and notice and the bundled libraries' licences.
FILES=(
    swagger-ui-bundle.js
    swagger-ui-bundle.js.LICENSE.txt
    swagger-ui.css
    favicon-16x16.png
    favicon-32x32.png
    LICENSE
    NOTICE
)

log() { printf '[vendor-swagger-ui] %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "VERSION must be an exact version, not '$VERSION'"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vendor-swagger-ui.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

log "asking the npm registry for $PACKAGE@$VERSION"
registry_integrity=$(npm view "$PACKAGE@$VERSION" dist.integrity)
[[ $registry_integrity == sha512-* ]] || die "the registry gives no sha512 integrity: '$registry_integrity'"
if [[ -n $INTEGRITY && $registry_integrity != "$INTEGRITY" ]]; then
    die "the registry's integrity $registry_integrity is not the pinned $INTEGRITY"
fi

log "downloading the tarball"
(cd "$WORK" && npm pack "$PACKAGE@$VERSION" --silent >/dev/null)
tarball=$WORK/$PACKAGE-$VERSION.tgz
[[ -s $tarball ]] || die "npm pack left no $PACKAGE-$VERSION.tgz"
actual="sha512-$(python3 -c '
import base64, hashlib, sys
with open(sys.argv[1], "rb") as f:
    print(base64.b64encode(hashlib.sha512(f.read()).digest()).decode())' "$tarball")"
[[ $actual == "$registry_integrity" ]] || die "the tarball's sha512 $actual is not the registry's $registry_integrity"
log "integrity verified: $actual"

mkdir -p "$WORK/package"
tar -xzf "$tarball" -C "$WORK/package" --strip-components=1 \
    "${FILES[@]/#/package/}" package/package.json
found_version=$(python3 -c '
import json, sys
with open(sys.argv[1]) as f:
    print(json.load(f)["version"])' "$WORK/package/package.json")
[[ $found_version == "$VERSION" ]] || die "the tarball holds $found_version, not $VERSION"

rm -rf "$DEST"
mkdir -p "$DEST"
for file in "${FILES[@]}"; do
    [[ -s $WORK/package/$file ]] || die "$file is missing from the tarball"
    install -m 0644 "$WORK/package/$file" "$DEST/$file"
done
cat >"$DEST/VERSION" <<EOF
$PACKAGE $VERSION
$actual
Vendored by scripts/vendor-swagger-ui.sh from the npm registry; do not edit these files by hand.
EOF

if [[ -z $INTEGRITY ]]; then
    log "pin this in scripts/vendor-swagger-ui.sh: INTEGRITY=$actual"
fi
log "vendored into $DEST:"
(cd "$DEST" && ls -l)
