#!/usr/bin/env bash
# The Debian package, as an admin gets it: build it with cargo-deb (installed when
# missing), check that it lists the binary, the man pages, the completions and the
# monitoring examples, install it into a throwaway root with dpkg and run the installed
# dsdoctor from there. Any miss fails the step; nothing is skipped.
#
# Run by scripts/test.sh; alone: bash scripts/deb-test.sh (needs dpkg and git).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() {
    echo "deb-test: FAIL: $*" >&2
    exit 1
}
now() { date +%s; }

for tool in dpkg dpkg-deb git; do
    command -v "$tool" >/dev/null || fail "$tool is missing"
done

if ! cargo deb --version >/dev/null 2>&1; then
    t0=$(now)
    echo "deb-test: cargo-deb missing: cargo install cargo-deb --locked"
    cargo install cargo-deb --locked </dev/null || fail "cannot install cargo-deb"
    echo "deb-test: cargo-deb installed in $(($(now) - t0)) s"
fi

# The commit the package must report (build.rs puts it in --version).
commit="$(git rev-parse --short HEAD)" || fail "not a git clone: cannot tell the commit to expect"

t0=$(now)
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo deb </dev/null 2>&1 | tee "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "cargo deb failed"
deb="$(grep -E '\.deb$' "$log" | tail -n 1)"
[ -f "$deb" ] || fail "cargo deb named no .deb file"
echo "deb-test: built $deb in $(($(now) - t0)) s"

listing="$(dpkg -c "$deb")" || fail "dpkg -c cannot read $deb"
expected=(
    ./usr/bin/dsdoctor
    ./usr/share/man/man1/dsdoctor.1
    ./usr/share/man/man1/dsdoctor-check.1
    ./usr/share/man/man1/dsdoctor-watch.1
    ./usr/share/bash-completion/completions/dsdoctor
    ./usr/share/zsh/vendor-completions/_dsdoctor
    ./usr/share/fish/vendor_completions.d/dsdoctor.fish
    ./usr/share/doc/dsdoctor/examples/dsdoctor-watch.service
    ./usr/share/doc/dsdoctor/examples/dsdoctor-check.service
    ./usr/share/doc/dsdoctor/examples/dsdoctor-check.timer
    ./usr/share/doc/dsdoctor/examples/nagios-dsdoctor.cfg
    ./usr/share/doc/dsdoctor/examples/icinga2-dsdoctor.conf
    ./usr/share/doc/dsdoctor/examples/ansible-fleet.yml
)
missing=()
for f in "${expected[@]}"; do
    awk '{print $NF}' <<<"$listing" | grep -qxF "$f" || missing+=("$f")
done
[ "${#missing[@]}" -eq 0 ] || fail "dpkg -c does not list: ${missing[*]}"
# Every monitoring file the repository ships is in the package.
for f in assets/monitoring/*; do
    awk '{print $NF}' <<<"$listing" | grep -qxF "./usr/share/doc/dsdoctor/examples/$(basename "$f")" ||
        fail "$f is not among the package's examples"
done

# A throwaway root with its own dpkg database: dpkg installs the package there as it
# would on a server (libc comes from this host, so its dependency is forced).
root="$(mktemp -d)"
trap 'rm -f "$log"; rm -rf "$root"' EXIT
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
dpkg --root="$root" --force-depends --force-not-root -i "$deb" </dev/null >/dev/null ||
    fail "dpkg --root cannot install $deb"
dpkg --root="$root" -s dsdoctor | grep -qx 'Status: install ok installed' ||
    fail "dpkg does not record dsdoctor as installed in $root"

version="$("$root/usr/bin/dsdoctor" --version)" || fail "the installed dsdoctor --version failed"
echo "deb-test: installed: $version"
grep -qF "($commit" <<<"$version" || fail "--version '$version' does not name commit $commit"

# The completions load, and the examples call the binary where the package puts it.
bash -c "source '$root/usr/share/bash-completion/completions/dsdoctor' && complete -p dsdoctor" >/dev/null ||
    fail "the bash completion does not register for dsdoctor"
"$root/usr/bin/dsdoctor" completions bash | cmp -s - "$root/usr/share/bash-completion/completions/dsdoctor" ||
    fail "the packaged bash completion differs from 'dsdoctor completions bash'"
grep -q '^ExecStart=/usr/bin/dsdoctor ' "$root/usr/share/doc/dsdoctor/examples/dsdoctor-check.service" ||
    fail "the example unit does not run /usr/bin/dsdoctor"
grep -q '^\.TH' "$root/usr/share/man/man1/dsdoctor.1" || fail "dsdoctor.1 is not a man page"

echo "deb-test: ok: $deb lists and installs the binary, man pages, completions and examples"
