//! The network-namespace lab the tests run dsdoctor in.
//!
//! Every [`Lab`] builds three namespaces of its own:
//!
//! ```text
//!   srv (the server under diagnosis)        net (router, DNS)                    cli (a client outside)
//!   eth0 203.0.113.10/24 ---------- esrv 203.0.113.1/24         ecli 198.51.100.1/24 ---------- eth0 198.51.100.10/24
//!        2001:db8:1::10/64               2001:db8:1::1/64            2001:db8:2::1/64                2001:db8:2::10/64
//!                                   lo: 192.0.2.53, 2001:db8:53::53 (resolver, dnsmasq #1)
//!                                       192.0.2.54, 2001:db8:53::54 (ns1)  } authoritative for lab.example,
//!                                       192.0.2.55, 2001:db8:53::55 (ns2)  } dnsmasq #2
//!                                                                    cli: the echo service on :8180 (isp)
//! ```
//!
//! srv and cli route everything through net (forwarding on, for both families). srv's
//! `/etc/resolv.conf` (seen through `ip netns exec`) names the resolver 192.0.2.53.
//!
//! Rules kept here: nothing is added to the root namespace (no link, address, route, rule or
//! sysctl); traffic only goes to addresses inside the lab's namespaces; every process started
//! is recorded by pid and stopped by pid; namespaces are named `dsd-<pid>-<tag>-<n>-{srv,net,cli}`
//! so concurrent tests never collide; teardown runs from `Drop`, so it also happens when a
//! test panics half-way. When the lab cannot be built (not root, `ip netns` unusable, a tool
//! missing) the constructor panics with the reason: the tests fail, they never skip.
//!
//! One module per part:
//! - [`topology`]: the namespaces, links, addresses and routes, srv's `/etc`, teardown;
//! - [`process`]: commands in a namespace, background programs recorded by pid;
//! - [`dns`]: the zone builder and the two dnsmasq instances;
//! - [`web`]: nginx, "a service on port N", HTTP and TCP probes from a namespace;
//! - [`servers`]: Apache httpd, HAProxy and Caddy from Debian's packages;
//! - [`firewall`]: packet-filter rules inside a lab namespace;
//! - [`isp`]: the echo service, NAT, upstream faults, TLS certificates, an SMTP stub;
//! - [`nat64`]: a NAT64 translator (tayga) and routers' PREF64;
//! - [`regions`]: probe namespaces on the lab's internet and a Globalping-compatible API
//!   that measures from them;
//! - [`containers`]: a container namespace behind Docker's bridge, Docker's rules for a
//!   published port, docker-proxy and a Docker-compatible API on a unix socket;
//! - [`oracle`]: the kernel as the oracle for the firewall stage (load a ruleset, connect, compare);
//! - [`dsdoctor`]: running the binary under test;
//! - [`report`]: the typed report and the assertions on it;
//! - [`tmux`]: a private terminal for the wizard.
//!
//! The benches include this directory too (`#[path]`), which is why the modules name each
//! other with `super::` only.

pub mod containers;
pub mod dns;
pub mod dsdoctor;
pub mod firewall;
pub mod isp;
pub mod nat64;
pub mod oracle;
pub mod process;
pub mod regions;
pub mod report;
pub mod servers;
pub mod tmux;
pub mod topology;
pub mod web;

pub use containers::*;
pub use dns::*;
pub use dsdoctor::*;
pub use firewall::*;
pub use isp::*;
pub use nat64::*;
pub use oracle::*;
pub use process::*;
pub use regions::*;
pub use report::*;
pub use servers::*;
pub use tmux::*;
pub use topology::*;
pub use web::*;
