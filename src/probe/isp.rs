//! What the internet sees: egress, public addresses, inbound probes, HTTP parity.

use crate::facts::isp::IspFacts;
use crate::facts::{DnsFacts, Link, Listener, ProbeErrorKind, Probed, Route};
use crate::options::Options;

/// Everything the ISP stage needs, gathered once the DNS answers are known.
pub async fn gather(
    opts: &Options,
    _dns: &DnsFacts,
    _links: Option<&Vec<Link>>,
    _routes: Option<&Vec<Route>>,
    _listeners: Option<&Vec<Listener>>,
) -> Probed<IspFacts> {
    if opts.offline {
        return Probed::err(ProbeErrorKind::NotRun, "not run: --offline");
    }
    Probed::err(ProbeErrorKind::NotRun, "not yet implemented")
}
