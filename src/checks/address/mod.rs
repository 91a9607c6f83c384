//! The address stage: does the host have a usable address of each family?

mod declare;
pub mod global_ipv4;
pub mod global_ipv6;
pub mod ipv4_dependencies;
pub mod ipv6_enabled;
pub mod ipv6_persistent;
pub mod mail_source;

use super::host;
use super::subject::Subject;
use super::view::Ctx;
use crate::model::{CheckId, Family, Finding};

/// A global address check of a family: the `skip` when `--expect` leaves the family
/// out, the `error` when the addresses could not be read, else `judge`'s answer with the
/// host's addresses of the family as evidence.
fn global_address(c: &Ctx, family: Family, judge: fn(&Ctx, Subject) -> Finding) -> Finding {
    let s = Subject::host(family.pick(CheckId::AddressGlobalIpv4, CheckId::AddressGlobalIpv6));
    if let Some(skip) = host::unexpected(c.opts, s, family) {
        return skip;
    }
    if let Err(e) = &c.facts.links.result {
        return s.unread(c.facts, "read addresses", e);
    }
    judge(c, s).evidence_all(host::addr_evidence(c.facts, family))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod persist_tests;

#[cfg(test)]
mod deps_tests;
