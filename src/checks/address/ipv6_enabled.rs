//! `address.ipv6_enabled`: the kernel has IPv6 and no `disable_ipv6` switches it off.

use crate::checks::host::{self, Ipv6State};
use crate::checks::view::Ctx;
use crate::model::{CheckId, Family, Finding, Status};

pub fn check(c: &Ctx) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let id = CheckId::AddressIpv6Enabled;
    if let Some(skip) = host::unexpected(o, id, None, Family::V6) {
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
            Finding::new(id, None, Status::Fail, format!("IPv6 is absent: {why}"))
                .explain("ipv6_absent", &[])
                .fix("kernel_cmdline_ipv6", &[])
        }
        Ipv6State::Disabled(keys) => {
            let fd = Finding::new(
                id,
                None,
                Status::Fail,
                format!("IPv6 is disabled: disable_ipv6 = 1 for {}", keys.join(", ")),
            )
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
        Ipv6State::Unknown => Finding::new(
            id,
            None,
            Status::Error,
            format!(
                "could not read the IPv6 settings: {}",
                f.sysctl
                    .result
                    .as_ref()
                    .err()
                    .map(|e| e.message.as_str())
                    .unwrap_or("unknown")
            ),
        ),
        Ipv6State::Enabled => Finding::new(id, None, Status::Pass, "IPv6 is enabled in the kernel")
            .evidence_all(values),
    }
    .took(f.sysctl.ms)
}
