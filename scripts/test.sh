#!/usr/bin/env bash
# The whole test suite of dualstack-doctor: install the lab's tools when missing, then
# formatting, lints, every test (the network-namespace lab tests need root) and the
# Debian package.
#
# Works unattended (CI=true, no stdin). Exits non-zero when any step fails, after running
# all of them and printing a summary.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEBIAN_FRONTEND=noninteractive
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

say() { printf '\n==> %s\n' "$*"; }

# ---------------------------------------------------------------------------------------
# 1. Tools the lab needs (tool -> Debian package).
# ---------------------------------------------------------------------------------------
declare -A PKG_OF=(
    [ip]=iproute2 [ss]=iproute2
    [sysctl]=procps [kill]=procps
    [dnsmasq]=dnsmasq-base
    [nginx]=nginx-light
    [apache2]=apache2 [haproxy]=haproxy [caddy]=caddy
    [nft]=nftables
    [iptables]=iptables [ip6tables]=iptables
    [ipset]=ipset
    [socat]=socat
    [tmux]=tmux
    [dig]=dnsutils
    [python3]=python3
    [setpriv]=util-linux
    [promtool]=prometheus
    [netplan]=netplan.io
    [unshare]=util-linux
    [openssl]=openssl
    [tayga]=tayga
    [postfix]=postfix
    [curl]=curl [ping]=iputils-ping
    [docker-proxy]=docker.io
)
# netplan.io has no maintainer scripts and starts nothing: its generator only runs at
# boot. The lab's srv declares its network in netplan, and the lab reads back what
# `netplan generate` makes of a fix.
# docker.io only for its docker-proxy (the lab's published-port rows start it in srv);
# policy-rc.d keeps its scripts from starting dockerd or containerd.
# postfix is installed with debconf's "No configuration": no main.cf, nothing started;
# the mail rows run it from a configuration directory of their own in srv.
PACKAGES="nginx-light apache2 haproxy caddy dnsmasq-base nftables iptables ipset socat tmux dnsutils iproute2 python3 util-linux procps prometheus netplan.io openssl postfix tayga curl iputils-ping docker.io"

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

missing=()
for tool in "${!PKG_OF[@]}"; do
    have "$tool" || missing+=("$tool")
done

setup_status=ok
if [ "${#missing[@]}" -gt 0 ]; then
    say "missing tools: ${missing[*]} -> installing $PACKAGES"
    if [ "$(id -u)" -ne 0 ]; then
        echo "not root: cannot apt-get install; install as root: apt-get install -y $PACKAGES" >&2
        setup_status=failed
    else
        # Keep package scripts from starting services (nginx, apache2, haproxy, caddy) in
        # the root namespace.
        made_policy=0
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
            chmod +x /usr/sbin/policy-rc.d
            made_policy=1
        fi
        echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
        if apt-get update </dev/null &&
            apt-get install -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
                $PACKAGES </dev/null; then
            :
        else
            setup_status=failed
        fi
        [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
        still=()
        for tool in "${missing[@]}"; do have "$tool" || still+=("$tool"); done
        if [ "${#still[@]}" -gt 0 ]; then
            echo "still missing after apt-get install: ${still[*]}" >&2
            setup_status=failed
        fi
    fi
fi

for comp in fmt clippy; do
    if ! cargo "$comp" --version >/dev/null 2>&1; then
        say "cargo $comp missing: rustup component add"
        if ! { command -v rustup >/dev/null && rustup component add "$([ "$comp" = fmt ] && echo rustfmt || echo clippy)" </dev/null; }; then
            echo "cannot install cargo $comp" >&2
            setup_status=failed
        fi
    fi
done

if ! cargo deny --version >/dev/null 2>&1; then
    say "cargo-deny missing: cargo install cargo-deny --locked"
    cargo install cargo-deny --locked </dev/null || setup_status=failed
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "WARNING: not running as root: the network-namespace lab tests will fail." >&2
fi

# ---------------------------------------------------------------------------------------
# 2. The suite. Every step runs; the summary says which failed.
# ---------------------------------------------------------------------------------------
fmt_status=failed
clippy_status=failed
test_status=failed

say "cargo fmt --all -- --check"
cargo fmt --all -- --check </dev/null && fmt_status=ok

say "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings </dev/null && clippy_status=ok

deny_status=failed
say "cargo deny check licenses"
cargo deny check licenses </dev/null && deny_status=ok

say "cargo test --all-targets"
test_log="$(mktemp)"
cargo test --all-targets --no-fail-fast </dev/null 2>&1 | tee "$test_log"
[ "${PIPESTATUS[0]}" -eq 0 ] && test_status=ok

# Add up the per-binary "test result:" lines.
read -r passed failed ignored < <(awk '
    /^test result:/ {
        for (i = 1; i <= NF; i++) {
            if ($(i+1) ~ /^passed/)  p += $i
            if ($(i+1) ~ /^failed/)  f += $i
            if ($(i+1) ~ /^ignored/) g += $i
        }
    }
    END { printf "%d %d %d\n", p, f, g }' "$test_log")
failed_tests="$(grep -E '^test .* \.\.\. FAILED$' "$test_log" | sed -E 's/^test (.*) \.\.\. FAILED$/\1/' | sort -u)"
rm -f "$test_log"

# The Debian package: built with cargo-deb (installed when missing: about 45 s on 2
# cores), its contents listed, installed into a throwaway root and run from there.
deb_status=failed
say "Debian package (scripts/deb-test.sh)"
bash scripts/deb-test.sh </dev/null && deb_status=ok

echo
echo "================ dualstack-doctor test summary ================"
printf '  %-28s %s\n' "tools (apt)" "$setup_status"
printf '  %-28s %s\n' "cargo fmt --check" "$fmt_status"
printf '  %-28s %s\n' "cargo clippy -D warnings" "$clippy_status"
printf '  %-28s %s\n' "cargo deny (licences)" "$deny_status"
printf '  %-28s %s\n' "cargo test --all-targets" "$test_status"
printf '  %-28s %s\n' "Debian package" "$deb_status"
if [ -n "$failed_tests" ]; then
    echo "  failed tests:"
    printf '    %s\n' $failed_tests
fi
echo "==============================================================="
echo "tests: $passed passed, $failed failed, $ignored skipped"

if [ "$setup_status" = ok ] && [ "$fmt_status" = ok ] && [ "$clippy_status" = ok ] && [ "$deny_status" = ok ] && [ "$test_status" = ok ] && [ "$deb_status" = ok ]; then
    exit 0
fi
exit 1
