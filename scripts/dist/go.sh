#!/usr/bin/env bash
# The Go release artifact: a file-system module proxy under OUTDIR/goproxy/ holding the module
# github.com/fencelock/fencelock/bindings/go at v<version>, exactly what the go command
# serves itself from the tag bindings/go/v<version> of the published repository:
#   OUTDIR/goproxy/github.com/fencelock/fencelock/bindings/go/@v/
#     list  v<version>.info  v<version>.mod  v<version>.zip
# Use it with GOPROXY=file://OUTDIR/goproxy and GONOSUMDB=github.com/fencelock/fencelock (the
# checksum database knows no unpublished version). The module links the C library of the
# same version through pkg-config (scripts/dist/c.sh).
#   scripts/dist/go.sh OUTDIR
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: scripts/dist/go.sh OUTDIR" >&2; exit 2; }
root="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
cd "$root"

version=$(scripts/version)
[ -n "$version" ] || { echo "dist/go.sh: no version found in Cargo.toml [workspace.package]" >&2; exit 1; }
module=$(sed -n 's/^module[[:space:]]\{1,\}//p' bindings/go/go.mod)
[ "$module" = github.com/fencelock/fencelock/bindings/go ] ||
  { echo "dist/go.sh: bindings/go/go.mod names module '$module'" >&2; exit 1; }
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"

# The module's files: those git would commit under bindings/go (tracked, or new and not
# ignored), as a clone of the tag has them.
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- bindings/go)
[ "${#files[@]}" -gt 0 ] || { echo "dist/go.sh: git lists no file under bindings/go" >&2; exit 1; }

python3 - "$out/goproxy" "$module" "v$version" "$epoch" "${files[@]}" <<'PY'
"""Writes the proxy files of one module version (the layout of `go help goproxy`)."""
import datetime, json, os, pathlib, stat, sys, zipfile

proxy, module, version, epoch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
files = sys.argv[5:]
subdir = "bindings/go/"
# The go command's escaping of module paths on a proxy: an upper-case letter becomes !lower.
escaped = "".join("!" + c.lower() if c.isupper() else c for c in module)
vdir = pathlib.Path(proxy, escaped, "@v")
vdir.mkdir(parents=True, exist_ok=True)

entries = []
for f in sorted(files):
    rel = f[len(subdir):]
    parts = rel.split("/")
    st = os.lstat(f)
    # As the go command's module zips: regular files only, nothing under vendor/ or a nested
    # module, no VCS metadata.
    if not stat.S_ISREG(st.st_mode) or "vendor" in parts[:-1] or any(
        p in (".git", ".hg", ".svn", ".bzr") for p in parts
    ):
        continue
    if len(parts) > 1 and any(
        os.path.exists(os.path.join(subdir, *parts[:i], "go.mod")) for i in range(1, len(parts))
    ):
        continue
    entries.append((rel, pathlib.Path(f).read_bytes()))
names = {rel for rel, _ in entries}
if "go.mod" not in names:
    sys.exit("dist/go.sh: bindings/go/go.mod is not among the module's files")
# A module in a subdirectory without its own LICENSE gets the repository's (as the go command
# does when it zips a module from a repository).
if not any(n.lower() == "license" for n in names) and os.path.isfile("LICENSE"):
    entries.append(("LICENSE", pathlib.Path("LICENSE").read_bytes()))

stamp = datetime.datetime.fromtimestamp(max(epoch, 315532800), datetime.timezone.utc)
zpath = vdir / f"{version}.zip"
with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
    for rel, data in sorted(entries):
        info = zipfile.ZipInfo(f"{module}@{version}/{rel}", stamp.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        z.writestr(info, data)
(vdir / f"{version}.mod").write_bytes(dict(entries)["go.mod"])
(vdir / f"{version}.info").write_text(
    json.dumps({"Version": version, "Time": stamp.strftime("%Y-%m-%dT%H:%M:%SZ")}) + "\n"
)
(vdir / "list").write_text(version + "\n")
print(f"dist/go.sh: {vdir} ({len(entries)} files in {zpath.name}, {zpath.stat().st_size} bytes)")
PY
