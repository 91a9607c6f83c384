//! The listener stage: does a socket accept each family on each port, and does the web
//! server's configuration ask for both?

pub mod config;
pub mod container;
pub mod socket;

#[cfg(test)]
mod container_tests;
#[cfg(test)]
mod tests;
