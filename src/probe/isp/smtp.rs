//! SMTP greeting and EHLO answer from one address (implicit TLS on port 465).

use super::conn::{Io, Tls, connect, tls_wrap};
use crate::facts::isp::SmtpAnswer;
use crate::facts::{ProbeError, ProbeErrorKind};
use crate::sanitize::clean;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

/// Longest SMTP reply read.
const MAX_REPLY: usize = 8 * 1024;

pub async fn probe(
    addr: SocketAddr,
    domain: &str,
    tls: &Tls,
    limit: Duration,
) -> Result<SmtpAnswer, ProbeError> {
    let deadline = Instant::now() + limit;
    let tcp = connect(addr, deadline).await?;
    let mut io: Box<dyn Io> = if addr.port() == 465 {
        tls_wrap(tcp, tls.mail.clone(), domain, deadline).await?.0
    } else {
        Box::new(tcp)
    };
    let banner = reply(&mut io, deadline, "greeting").await?;
    let ehlo_cmd = "EHLO dsdoctor.invalid\r\n";
    tokio::time::timeout_at(deadline, io.write_all(ehlo_cmd.as_bytes()))
        .await
        .map_err(|_| ProbeError::new(ProbeErrorKind::Timeout, "sending EHLO: timed out"))?
        .map_err(|e| ProbeError::new(ProbeErrorKind::Failed, format!("sending EHLO: {e}")))?;
    let ehlo = reply(&mut io, deadline, "EHLO answer").await?;
    let _ = tokio::time::timeout_at(deadline, io.write_all(b"QUIT\r\n")).await;
    Ok(SmtpAnswer { banner, ehlo })
}

/// The greeting of a receiving mail server, then QUIT: `isp.mail_egress` needs only
/// to know that port 25 gets through and who answers.
pub async fn banner(addr: SocketAddr, limit: Duration) -> Result<Vec<String>, ProbeError> {
    let deadline = Instant::now() + limit;
    let tcp = connect(addr, deadline).await?;
    let mut io: Box<dyn Io> = Box::new(tcp);
    let greeting = reply(&mut io, deadline, "greeting").await?;
    let _ = tokio::time::timeout_at(deadline, io.write_all(b"QUIT\r\n")).await;
    Ok(greeting)
}

/// One (possibly multi-line) reply: lines until one whose fourth byte is a space.
async fn reply(
    io: &mut Box<dyn Io>,
    deadline: Instant,
    what: &str,
) -> Result<Vec<String>, ProbeError> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let text = String::from_utf8_lossy(&buf).to_string();
        let lines: Vec<&str> = text.split("\r\n").collect();
        // Complete lines are all but the last piece.
        if let Some(last_full) = lines[..lines.len().saturating_sub(1)]
            .iter()
            .position(|l| l.len() < 4 || l.as_bytes()[3] == b' ')
        {
            return Ok(lines[..=last_full].iter().map(|l| clean(l)).collect());
        }
        if buf.len() > MAX_REPLY {
            return Err(ProbeError::new(
                ProbeErrorKind::Failed,
                format!("{what} longer than {MAX_REPLY} bytes"),
            ));
        }
        match tokio::time::timeout_at(deadline, io.read(&mut chunk)).await {
            Ok(Ok(0)) => {
                return Err(ProbeError::new(
                    ProbeErrorKind::Failed,
                    format!("the server closed the connection before its {what}"),
                ));
            }
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(e)) => {
                return Err(ProbeError::new(
                    ProbeErrorKind::Failed,
                    format!("reading the {what}: {e}"),
                ));
            }
            Err(_) => {
                return Err(ProbeError::new(
                    ProbeErrorKind::Timeout,
                    format!("no {what} before the timeout"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{inputs, is_inert};

    proptest::proptest! {
        #![proptest_config(inputs::config())]

        #[test]
        fn fuzz_reply_parsing(raw in inputs::input("smtp", 40)) {
            let rt = crate::testutil::runtime();
            let got = rt.block_on(async {
                let mut io: Box<dyn Io> = Box::new(std::io::Cursor::new(raw.clone()));
                let deadline = Instant::now() + Duration::from_secs(5);
                reply(&mut io, deadline, "greeting").await
            });
            match got {
                Ok(lines) => assert!(lines.iter().all(|l| is_inert(l)), "{lines:?}"),
                Err(e) => assert!(is_inert(&e.message), "{:?}", e.message),
            }
        }
    }
}
