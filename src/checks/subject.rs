//! What a finding is about: one check, on one port or on the host. A check gives its
//! answer through it (`s.fail(summary)`), so the check and the port are named once per
//! evaluation, not once per possible answer.

use crate::checks::failure::{self, Peer};
use crate::facts::{Facts, ProbeError};
use crate::model::{CheckId, Finding, Status};

#[derive(Debug, Clone, Copy)]
pub struct Subject {
    pub id: CheckId,
    pub port: Option<u16>,
}

impl Subject {
    /// A check that is answered once for the host.
    pub fn host(id: CheckId) -> Subject {
        Subject { id, port: None }
    }

    /// A check answered per port of the target.
    pub fn on_port(id: CheckId, port: u16) -> Subject {
        Subject {
            id,
            port: Some(port),
        }
    }

    pub fn finding(self, status: Status, summary: impl Into<String>) -> Finding {
        Finding::new(self.id, self.port, status, summary)
    }

    pub fn pass(self, summary: impl Into<String>) -> Finding {
        self.finding(Status::Pass, summary)
    }

    pub fn warn(self, summary: impl Into<String>) -> Finding {
        self.finding(Status::Warn, summary)
    }

    pub fn fail(self, summary: impl Into<String>) -> Finding {
        self.finding(Status::Fail, summary)
    }

    pub fn skip(self, summary: impl Into<String>) -> Finding {
        self.finding(Status::Skip, summary)
    }

    pub fn error(self, summary: impl Into<String>) -> Finding {
        self.finding(Status::Error, summary)
    }

    /// The `error` of a check whose facts a probe could not gather: "could not {what}:
    /// {the admin's words}", the raw error in the evidence, and the explaining check (no
    /// default route) in `caused_by`.
    pub fn unread(self, f: &Facts, what: &str, e: &ProbeError) -> Finding {
        self.unread_from(f, what, None, e)
    }

    /// `unread` of a probe that talked to `peer`.
    pub fn unread_from(
        self,
        f: &Facts,
        what: &str,
        peer: Option<&Peer>,
        e: &ProbeError,
    ) -> Finding {
        let w = failure::word(f, peer, e);
        let mut fd = self
            .error(format!("could not {what}: {}", w.text))
            .evidence(format!("error: {}", e.message));
        if let Some(c) = w.cause {
            fd = fd.caused_by(c);
        }
        fd
    }
}

/// Items written one after the other in a finding's text, `sep` between them.
pub fn joined<T: std::fmt::Display>(items: impl IntoIterator<Item = T>, sep: &str) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(sep)
}
