//! The address stage: does the host have a usable address of each family?

pub mod global_ipv4;
pub mod global_ipv6;
pub mod ipv6_enabled;
pub mod ipv6_persistent;

#[cfg(test)]
mod tests;
