//! The firewall stage: would the packet filter admit a new TCP connection from the
//! internet, per family and port?

use crate::facts::Facts;
use crate::model::Finding;
use crate::options::Options;

pub fn evaluate(_f: &Facts, o: &Options) -> Vec<Finding> {
    super::pending::firewall(o)
}
