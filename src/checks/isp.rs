//! The ISP stage: what the internet sees of this host.

use crate::facts::Facts;
use crate::model::Finding;
use crate::options::Options;

pub fn evaluate(_f: &Facts, o: &Options) -> Vec<Finding> {
    super::pending::isp(o)
}
