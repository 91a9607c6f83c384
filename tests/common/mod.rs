//! Shared helpers for the integration tests: `mod common;` in a test file.
//!
//! Each test binary uses only part of these helpers, so unused items are expected.
#![allow(dead_code)]

pub mod firewall;
pub mod isp;
pub mod lab;

pub use lab::*;
