//! What every server's judgement in `listener.config` starts from: the port, its
//! sockets and their owner, and the rules all servers share.

use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::NginxInstance;
use crate::facts::servers::{ApacheInstance, CaddyInstance, Families, HaproxyInstance, Ports};
use crate::facts::{Listener, Place, WebServers};
use crate::model::{ByFamily, CheckId, Family, Finding};

/// What every server's judgement starts from.
pub struct Port<'a> {
    pub c: &'a Ctx<'a>,
    pub port: u16,
    pub web: &'a WebServers,
    /// The listening sockets on the port.
    pub sockets: Vec<&'a Listener>,
    /// The pid that owns them, as the listeners probe names it (the lowest pid holding
    /// the socket: a server's parent process).
    pub pid: Option<u32>,
    /// The servers whose configuration binds the port, with where: one of them may be
    /// the owner.
    pub also: Vec<(&'static str, u32, Place)>,
}

/// A running server whose configuration was read.
pub trait Instance {
    fn pid(&self) -> u32;
}

macro_rules! instance {
    ($($t:ty),*) => {$(
        impl Instance for $t {
            fn pid(&self) -> u32 {
                self.pid
            }
        }
    )*};
}
instance!(
    NginxInstance,
    ApacheInstance,
    HaproxyInstance,
    CaddyInstance
);

impl Port<'_> {
    /// The instance that owns the port's sockets. With the owner unknown (an
    /// unprivileged run) or not an instance's main process (a worker), the one running,
    /// but none when several run: another may belong to a container's network namespace,
    /// which an unprivileged run cannot tell.
    pub fn instance<'i, T: Instance>(&self, all: &'i [T]) -> Option<&'i T> {
        self.pid
            .and_then(|p| all.iter().find(|i| i.pid() == p))
            .or_else(|| if all.len() == 1 { all.first() } else { None })
    }

    pub fn subject(&self) -> Subject {
        Subject::on_port(CheckId::ListenerConfig, self.port)
    }

    /// `judge` of the instance of `server` that owns the port's sockets; a skip when no
    /// configuration of that server was read for the owner.
    pub fn with_instance<T: Instance>(
        &self,
        all: &[T],
        server: &str,
        judge: impl FnOnce(&T) -> Finding,
    ) -> Finding {
        match self.instance(all) {
            Some(i) => judge(i),
            None => self.subject().skip(format!(
                "no {server} configuration was read for pid {}",
                self.pid.unwrap_or(0)
            )),
        }
    }

    /// `judge` of a parsed configuration; an error naming `whose` configuration could
    /// not be read.
    pub fn with_config<'c, C>(
        &self,
        config: &'c Result<C, String>,
        whose: &str,
        judge: impl FnOnce(&'c C) -> Finding,
    ) -> Finding {
        match config {
            Ok(c) => judge(c),
            Err(e) => self
                .subject()
                .error(format!("could not read {whose} configuration: {e}")),
        }
    }

    /// The first family the target wants that `serves` lacks; IPv6 first, the usual gap.
    pub fn missing(&self, serves: ByFamily<bool>) -> Option<Family> {
        [Family::V6, Family::V4]
            .into_iter()
            .find(|&fam| self.c.opts.target.expect.wants(fam) && !serves.get(fam))
    }

    /// Which families an address the configuration names takes on this port. Where the
    /// server leaves it to the kernel or to its build, the real IPv6 wildcard socket
    /// on the port tells (its IPV6_V6ONLY), else `net.ipv6.bindv6only` or the usual build.
    pub fn serves(&self, families: Families) -> ByFamily<bool> {
        let wildcard_v6 = self
            .sockets
            .iter()
            .find(|l| l.ip.is_ipv6() && l.is_wildcard())
            .and_then(|l| l.v6only);
        let both_unless = |kernel_v6only: bool| ByFamily {
            v4: !wildcard_v6.unwrap_or(kernel_v6only),
            v6: true,
        };
        match families {
            Families::Ipv4 => ByFamily {
                v4: true,
                v6: false,
            },
            Families::Ipv6 => ByFamily {
                v4: false,
                v6: true,
            },
            Families::Both => ByFamily { v4: true, v6: true },
            Families::BothUnlessBindv6only => {
                let sysctl = self.c.facts.sysctl.value().and_then(|s| s.bindv6only);
                both_unless(sysctl == Some(1))
            }
            // Debian's and RHEL's builds map IPv4 into IPv6 sockets.
            Families::BothIfV4Mapped => both_unless(false),
            Families::OfResolvedName => {
                ByFamily::new(|fam| self.sockets.iter().any(|l| l.accepts(fam)))
            }
            Families::NotIp => ByFamily {
                v4: false,
                v6: false,
            },
        }
    }

    /// The union of what several addresses take.
    pub fn serves_any(&self, families: impl IntoIterator<Item = Families>) -> ByFamily<bool> {
        families.into_iter().fold(
            ByFamily {
                v4: false,
                v6: false,
            },
            |acc, f| {
                let s = self.serves(f);
                ByFamily {
                    v4: acc.v4 || s.v4,
                    v6: acc.v6 || s.v6,
                }
            },
        )
    }

    /// Evidence naming the other servers whose configuration also binds this port: they
    /// do not get the connections (the owner does), but an admin may be editing them.
    pub fn others(&self, owner: &str) -> Vec<String> {
        let port = self.port;
        self.also
            .iter()
            .filter(|(name, pid, _)| Some(*pid) != self.pid || *name != owner)
            .map(|(name, pid, at)| {
                format!(
                    "also configured on port {port}: {name} (pid {pid}) at {at}; it does not own the sockets"
                )
            })
            .collect()
    }
}

/// Evidence lines for the first problems met while reading a configuration.
pub fn config_problems(problems: &[String]) -> impl Iterator<Item = String> + '_ {
    problems.iter().take(5).map(|p| format!("config: {p}"))
}

/// Host name matching as nginx's `server_name` and Apache's `ServerAlias` write it
/// (`*.example`, nginx's `.example`), enough to pick the part that serves the domain.
pub fn name_matches(pattern: &str, domain: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let d = domain.trim_end_matches('.').to_ascii_lowercase();
    if let Some(suffix) = p.strip_prefix("*.") {
        d.ends_with(&format!(".{suffix}"))
    } else if let Some(suffix) = p.strip_prefix('.') {
        d == suffix || d.ends_with(&format!(".{suffix}"))
    } else {
        p == d
    }
}

/// Whether a configured port or range takes `port`; `None` (no port written) takes every port.
pub fn covers(ports: Option<Ports>, port: u16) -> bool {
    ports.is_none_or(|p| p.first <= port && port <= p.last)
}
