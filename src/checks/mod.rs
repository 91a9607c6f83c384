//! Pure evaluation: facts in, findings out. No I/O here, so every check is unit-tested
//! from hand-built facts.
//!
//! Two passes: the derived view (`view`) is computed once, then every check of the
//! catalogue is evaluated from it, then `causes` attaches causes and turns checks that
//! another finding makes moot into `skip`.

mod address;
pub mod catalogue;
pub mod causes;
mod dns;
mod failure;
mod firewall;
pub(crate) mod host;
mod host_values;
mod isp;
mod listener;
mod mail;
mod route;
mod subject;
pub mod view;

use crate::facts::Facts;
use crate::model::Finding;
use crate::options::Options;
use catalogue::{CATALOGUE, Eval};

/// Where nat rules send outside clients of the site's addresses on this host, for the
/// ISP probes to dial (they cannot evaluate rules themselves).
pub use isp::detours;

/// Evaluate the whole tree, in tree order.
pub fn evaluate(facts: &Facts, opts: &Options) -> Vec<Finding> {
    let mut out = evaluate_unsettled(facts, opts);
    causes::settle(&mut out);
    out
}

/// Every check's own answer, before the last pass relates them.
fn evaluate_unsettled(facts: &Facts, opts: &Options) -> Vec<Finding> {
    let ctx = view::Ctx::new(facts, opts);
    let mut out = Vec::new();
    for def in CATALOGUE {
        eval_into(&ctx, def, &mut out);
    }
    out
}

fn eval_into(ctx: &view::Ctx, def: &catalogue::CheckDef, out: &mut Vec<Finding>) {
    match def.eval {
        Eval::Host(f) => out.push(f(ctx)),
        Eval::Port(f) => {
            for &p in &ctx.opts.target.ports {
                out.push(f(ctx, p));
            }
        }
    }
}

#[cfg(test)]
mod catalogue_tests;
#[cfg(test)]
mod failure_tests;
#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod mail_tests;
#[cfg(test)]
mod tests;
