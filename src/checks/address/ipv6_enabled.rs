//! `address.ipv6_enabled`: the kernel has IPv6 and no `disable_ipv6` switches it off.

use crate::checks::host::{self, Ipv6State};
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::model::{CheckId, Family, Finding};

pub fn check(c: &Ctx) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let s = Subject::host(CheckId::AddressIpv6Enabled);
    if let Some(skip) = host::unexpected(o, s, Family::V6) {
        return skip;
    }
    let values: Vec<String> = f
        .sysctl
        .value()
        .map(|s| {
            ["all".to_string(), "default".to_string()]
                .into_iter()
                .chain(host::relevant_ifaces(f, Family::V6))
                .filter_map(|k| {
                    s.disable_ipv6
                        .get(&k)
                        .map(|v| format!("net.ipv6.conf.{k}.disable_ipv6 = {v}"))
                })
                .collect()
        })
        .unwrap_or_default();
    match host::ipv6_state(f) {
        Ipv6State::Absent => {
            let why = if f.host.ipv6_cmdline_disabled {
                "the kernel was booted with ipv6.disable=1"
            } else {
                "the kernel has no IPv6 support (/proc/sys/net/ipv6 is absent)"
            };
            s.fail(format!("IPv6 is absent: {why}"))
                .explain("ipv6_absent", &[])
                .fix("kernel_cmdline_ipv6", &[])
        }
        Ipv6State::Disabled(keys) => {
            let fd = s
                .fail(format!(
                    "IPv6 is disabled: disable_ipv6 = 1 for {}",
                    keys.join(", ")
                ))
                .evidence_all(values)
                .explain("ipv6_disabled", &[]);
            let mut cmds: Vec<String> = keys
                .iter()
                .map(|k| format!("sysctl -w net.ipv6.conf.{k}.disable_ipv6=0"))
                .collect();
            if !keys.iter().any(|k| k == "default") {
                cmds.push("sysctl -w net.ipv6.conf.default.disable_ipv6=0".into());
            }
            fd.fix_lines("enable_ipv6_now", cmds)
                .fix("enable_ipv6_persist", &[])
        }
        Ipv6State::Unknown => s.error(format!(
            "could not read the IPv6 settings: {}",
            f.sysctl
                .result
                .as_ref()
                .err()
                .map(|e| e.message.as_str())
                .unwrap_or("unknown")
        )),
        Ipv6State::Enabled => s.pass("IPv6 is enabled in the kernel").evidence_all(values),
    }
    .took(f.sysctl.ms)
}
