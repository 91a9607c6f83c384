//! `address.ipv6_persistent`: no sysctl configuration file or kernel command line turns
//! IPv6 off at the next boot.

use crate::checks::host::{self, Ipv6State};
use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::model::{CheckId, Family, Finding};
use crate::parse::sysctl_conf::last_assignment;

pub fn check(c: &Ctx) -> Finding {
    let (f, o) = (c.facts, c.opts);
    let s = Subject::host(CheckId::AddressIpv6Persistent);
    if let Some(skip) = host::unexpected(o, s, Family::V6) {
        return skip;
    }
    let settings = match &f.sysctl_files.result {
        Ok(s) => s,
        Err(e) => {
            return s.unread("read the sysctl configuration", e);
        }
    };
    let mut keys = vec!["all".to_string(), "default".to_string()];
    keys.extend(host::relevant_ifaces(f, Family::V6));
    let mut offenders = Vec::new();
    let mut evidence = Vec::new();
    for k in &keys {
        let key = format!("net.ipv6.conf.{k}.disable_ipv6");
        if let Some(s) = last_assignment(settings, &key) {
            evidence.push(format!("{}: {} = {}", s.at, s.key, s.value));
            if s.value.trim() == "1" {
                offenders.push(s.clone());
            }
        }
    }
    if f.host.ipv6_cmdline_disabled {
        return s
            .fail("the kernel command line has ipv6.disable=1: IPv6 stays off after every boot")
            .explain("ipv6_absent", &[])
            .fix("kernel_cmdline_ipv6", &[]);
    }
    if offenders.is_empty() {
        if evidence.is_empty() {
            evidence.push("no sysctl configuration file sets disable_ipv6".into());
        }
        return s
            .pass("no sysctl configuration file disables IPv6 at boot")
            .evidence_all(evidence);
    }
    let where_ = offenders
        .iter()
        .map(|s| format!("{} ({} = {})", s.at, s.key, s.value))
        .collect::<Vec<_>>()
        .join(", ");
    let now_enabled = host::ipv6_state(f) == Ipv6State::Enabled;
    let mut fd = s
        .fail(if now_enabled {
            format!("IPv6 works now but will be disabled at the next boot by {where_}")
        } else {
            format!("IPv6 is disabled at every boot by {where_}")
        })
        .evidence_all(evidence)
        .explain("ipv6_persistent", &[]);
    for s in &offenders {
        fd = fd.fix(
            "sysctl_file_line",
            &[
                ("file", &s.at.file.display().to_string()),
                ("line", &s.at.line.to_string()),
                ("key", &s.key),
            ],
        );
    }
    fd.took(f.sysctl_files.ms)
}
