//! `dns.geo`'s facts: each of the zone's authoritative servers asked for the domain's A
//! and AAAA once without a client subnet and once per region's client networks with an
//! EDNS Client Subnet option (RFC 7871), reading the scope prefix length of each answer.
//!
//! The resolver API has no ECS setting, so each query is a hickory-proto `Message` sent
//! here: over UDP, again over TCP when the answer is truncated. Every query has its own
//! time limit and all of them run at once, so the whole set costs about one round trip
//! to the slowest server (two when a server truncates).

use super::timed;
use crate::assets::GeoRegion;
use crate::facts::{DnsAnswer, GeoAnswer, GeoQuery, ProbeError, ProbeErrorKind, Probed, RecordIp};
use futures::future::join_all;
use hickory_resolver::proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_resolver::proto::rr::rdata::opt::{ClientSubnet, EdnsCode, EdnsOption};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Most records kept of one answer.
const MAX_RECORDS: usize = 64;
/// The UDP payload size offered (the DNS flag day 2020 value: no fragmentation).
const UDP_PAYLOAD: u16 = 1232;
/// Datagrams read while waiting for the answer to our query (others are dropped).
const MAX_STRAY: usize = 8;

/// An authoritative server to ask: its address, its NS name, and why it is not asked
/// (`--offline`, no route for its family), if it is not.
pub struct Target {
    pub server: SocketAddr,
    pub name: String,
    pub not_run: Option<String>,
}

/// Every target asked without a client subnet and with each region's networks, all at
/// once, each query under `limit`.
pub async fn gather(
    targets: &[Target],
    domain: &str,
    regions: &[GeoRegion],
    limit: Duration,
) -> Vec<GeoQuery> {
    let mut jobs: Vec<(&Target, Option<(&str, IpNet)>)> = Vec::new();
    for t in targets {
        jobs.push((t, None));
        if t.not_run.is_some() {
            continue;
        }
        for r in regions {
            jobs.push((t, Some((r.name.as_str(), r.v4))));
            jobs.push((t, Some((r.name.as_str(), r.v6))));
        }
    }
    join_all(jobs.into_iter().map(|(t, region)| async move {
        let subnet = region.map(|(_, net)| net);
        let (a, aaaa) = match &t.not_run {
            Some(why) => (
                Probed::err(ProbeErrorKind::NotRun, why.clone()),
                Probed::err(ProbeErrorKind::NotRun, why.clone()),
            ),
            None => {
                let what = |rtype: &str| match subnet {
                    Some(net) => format!("{rtype} with client subnet {net}"),
                    None => rtype.to_string(),
                };
                let (what_a, what_aaaa) = (what("A"), what("AAAA"));
                tokio::join!(
                    timed(limit, &what_a, ask(t.server, domain, RecordType::A, subnet)),
                    timed(
                        limit,
                        &what_aaaa,
                        ask(t.server, domain, RecordType::AAAA, subnet)
                    ),
                )
            }
        };
        GeoQuery {
            server: t.server,
            name: t.name.clone(),
            region: region.map(|(name, _)| name.to_string()),
            subnet,
            a,
            aaaa,
        }
    }))
    .await
}

fn failed(message: impl Into<String>) -> ProbeError {
    ProbeError::new(ProbeErrorKind::Failed, message)
}

fn io_err(server: SocketAddr, e: &std::io::Error) -> ProbeError {
    ProbeError::new(super::io_kind(e), format!("{server}: {e}"))
}

/// A query id that differs between the queries of a run (the sockets are connected,
/// so the id only has to tell our own queries apart).
fn next_id() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u16)
        .unwrap_or_default();
    NEXT.fetch_add(1, Ordering::Relaxed).wrapping_add(seed)
}

/// The query: non-recursive (the server is authoritative), EDNS0 with the client
/// subnet when one is given (scope 0, as RFC 7871 requires of a query).
pub fn query(
    id: u16,
    domain: &str,
    rtype: RecordType,
    subnet: Option<IpNet>,
) -> Result<Vec<u8>, ProbeError> {
    let fqdn = if domain.ends_with('.') {
        domain.to_string()
    } else {
        format!("{domain}.")
    };
    let name = Name::from_ascii(&fqdn).map_err(|e| failed(format!("{domain}: {e}")))?;
    let mut msg = Message::new();
    msg.set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(false)
        .add_query(Query::query(name, rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(UDP_PAYLOAD).set_version(0);
    if let Some(net) = subnet {
        edns.options_mut()
            .insert(EdnsOption::Subnet(ClientSubnet::new(
                net.addr(),
                net.prefix_len(),
                0,
            )));
    }
    msg.set_edns(edns);
    msg.to_vec()
        .map_err(|e| failed(format!("building the query: {e}")))
}

async fn ask(
    server: SocketAddr,
    domain: &str,
    rtype: RecordType,
    subnet: Option<IpNet>,
) -> Result<GeoAnswer, ProbeError> {
    let id = next_id();
    let q = query(id, domain, rtype, subnet)?;
    let resp = over_udp(server, &q, id).await?;
    let resp = if resp.truncated() {
        over_tcp(server, &q, id).await?
    } else {
        resp
    };
    read_answer(&resp, rtype)
}

async fn over_udp(server: SocketAddr, q: &[u8], id: u16) -> Result<Message, ProbeError> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let sock = tokio::net::UdpSocket::bind(local)
        .await
        .map_err(|e| io_err(server, &e))?;
    sock.connect(server).await.map_err(|e| io_err(server, &e))?;
    sock.send(q).await.map_err(|e| io_err(server, &e))?;
    let mut buf = vec![0u8; 4096];
    for _ in 0..MAX_STRAY {
        let n = sock.recv(&mut buf).await.map_err(|e| io_err(server, &e))?;
        if let Some(m) = response(&buf[..n], id) {
            return Ok(m);
        }
    }
    Err(failed(format!(
        "{server}: no answer to our query among the datagrams"
    )))
}

async fn over_tcp(server: SocketAddr, q: &[u8], id: u16) -> Result<Message, ProbeError> {
    let mut s = tokio::net::TcpStream::connect(server)
        .await
        .map_err(|e| io_err(server, &e))?;
    let len = u16::try_from(q.len()).map_err(|_| failed("query too long"))?;
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(q);
    s.write_all(&out).await.map_err(|e| io_err(server, &e))?;
    let n = s.read_u16().await.map_err(|e| io_err(server, &e))?;
    let mut buf = vec![0u8; usize::from(n)];
    s.read_exact(&mut buf)
        .await
        .map_err(|e| io_err(server, &e))?;
    response(&buf, id).ok_or_else(|| failed(format!("{server}: not an answer to our query (TCP)")))
}

/// A datagram that is the response to query `id`; anything else is `None`.
pub fn response(bytes: &[u8], id: u16) -> Option<Message> {
    let m = Message::from_vec(bytes).ok()?;
    (m.id() == id && m.message_type() == MessageType::Response).then_some(m)
}

/// The addresses of type `rtype` in the answer, and the client subnet scope echoed.
pub fn read_answer(m: &Message, rtype: RecordType) -> Result<GeoAnswer, ProbeError> {
    let scope = m
        .extensions()
        .as_ref()
        .and_then(|e| e.option(EdnsCode::Subnet))
        .and_then(|o| match o {
            EdnsOption::Subnet(s) => Some(s.scope_prefix()),
            _ => None,
        });
    let answer = match m.response_code() {
        ResponseCode::NXDomain => DnsAnswer::NxDomain,
        ResponseCode::NoError => {
            address_answer(m.answers().iter().filter(|r| r.record_type() == rtype))
        }
        code => return Err(failed(format!("answered {code}"))),
    };
    Ok(GeoAnswer { answer, scope })
}

/// The A and AAAA records among `records`, at most `MAX_RECORDS` of them (the rest
/// counted); the general lookups and the subnet queries read answers alike.
pub(super) fn address_answer<'a>(records: impl Iterator<Item = &'a Record>) -> DnsAnswer {
    let mut records: Vec<RecordIp> = records
        .filter_map(|r| {
            let ip = match r.data() {
                RData::A(a) => IpAddr::V4(a.0),
                RData::AAAA(a) => IpAddr::V6(a.0),
                _ => return None,
            };
            Some(RecordIp { ip, ttl: r.ttl() })
        })
        .collect();
    let omitted = records.len().saturating_sub(MAX_RECORDS);
    records.truncate(MAX_RECORDS);
    if records.is_empty() {
        DnsAnswer::NoData
    } else {
        DnsAnswer::Records { records, omitted }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::proto::rr::rdata::{A, AAAA};

    fn answer_with(scope: Option<u8>, rtype: RecordType, ips: &[&str]) -> Vec<u8> {
        answer_to(7, scope, rtype, ips)
    }

    fn answer_to(id: u16, scope: Option<u8>, rtype: RecordType, ips: &[&str]) -> Vec<u8> {
        let name = Name::from_ascii("shop.example.").unwrap();
        let mut m = Message::new();
        m.set_id(id).set_message_type(MessageType::Response);
        m.add_query(Query::query(name.clone(), rtype));
        for ip in ips {
            let rdata = match ip.parse::<IpAddr>().unwrap() {
                IpAddr::V4(v) => RData::A(A(v)),
                IpAddr::V6(v) => RData::AAAA(AAAA(v)),
            };
            m.add_answer(Record::from_rdata(name.clone(), 300, rdata));
        }
        let mut edns = Edns::new();
        if let Some(s) = scope {
            edns.options_mut()
                .insert(EdnsOption::Subnet(ClientSubnet::new(
                    "193.0.6.0".parse().unwrap(),
                    24,
                    s,
                )));
        }
        m.set_edns(edns);
        m.to_vec().unwrap()
    }

    #[test]
    fn the_query_carries_the_client_subnet() {
        let net: IpNet = "2001:67c:2e8::/48".parse().unwrap();
        let q = query(9, "shop.example", RecordType::AAAA, Some(net)).unwrap();
        let m = Message::from_vec(&q).unwrap();
        assert!(!m.recursion_desired());
        match m.extensions().as_ref().unwrap().option(EdnsCode::Subnet) {
            Some(EdnsOption::Subnet(s)) => {
                assert_eq!(s.addr(), net.addr());
                assert_eq!(s.source_prefix(), 48);
                assert_eq!(s.scope_prefix(), 0);
            }
            other => panic!("no client subnet: {other:?}"),
        }
        let plain =
            Message::from_vec(&query(9, "shop.example", RecordType::A, None).unwrap()).unwrap();
        assert!(
            plain
                .extensions()
                .as_ref()
                .unwrap()
                .option(EdnsCode::Subnet)
                .is_none()
        );
    }

    #[test]
    fn answers_and_scopes_are_read() {
        let m = response(
            &answer_with(Some(24), RecordType::AAAA, &["2001:db8::1"]),
            7,
        )
        .unwrap();
        let a = read_answer(&m, RecordType::AAAA).unwrap();
        assert_eq!(a.scope, Some(24));
        assert_eq!(
            a.answer.ips(),
            vec!["2001:db8::1".parse::<IpAddr>().unwrap()]
        );
        let m = response(&answer_with(None, RecordType::AAAA, &[]), 7).unwrap();
        let a = read_answer(&m, RecordType::AAAA).unwrap();
        assert_eq!((a.scope, a.answer), (None, DnsAnswer::NoData));
        // Another id is not our answer.
        assert!(response(&answer_with(None, RecordType::A, &[]), 8).is_none());
    }

    /// A server that truncates over UDP is asked again over TCP, on loopback.
    #[tokio::test]
    async fn a_truncated_answer_is_asked_again_over_tcp() {
        let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = udp.local_addr().unwrap();
        let tcp = tokio::net::TcpListener::bind(addr).await.unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            let (n, peer) = udp.recv_from(&mut buf).await.unwrap();
            let q = Message::from_vec(&buf[..n]).unwrap();
            let mut m = Message::new();
            m.set_id(q.id())
                .set_message_type(MessageType::Response)
                .set_truncated(true);
            udp.send_to(&m.to_vec().unwrap(), peer).await.unwrap();
        });
        tokio::spawn(async move {
            let (mut s, _) = tcp.accept().await.unwrap();
            let n = s.read_u16().await.unwrap();
            let mut b = vec![0u8; usize::from(n)];
            s.read_exact(&mut b).await.unwrap();
            let q = Message::from_vec(&b).unwrap();
            let out = answer_to(q.id(), Some(24), RecordType::AAAA, &["2001:db8::7"]);
            let mut framed = (out.len() as u16).to_be_bytes().to_vec();
            framed.extend(out);
            s.write_all(&framed).await.unwrap();
        });
        let net: IpNet = "193.0.6.0/24".parse().unwrap();
        let a = tokio::time::timeout(
            Duration::from_secs(5),
            ask(addr, "shop.example", RecordType::AAAA, Some(net)),
        )
        .await
        .expect("answered in time")
        .expect("answered");
        assert_eq!(a.scope, Some(24));
        assert_eq!(
            a.answer.ips(),
            vec!["2001:db8::7".parse::<IpAddr>().unwrap()]
        );
    }

    proptest::proptest! {
        #![proptest_config(crate::testutil::inputs::config())]

        #[test]
        fn fuzz_geo_answers(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            // Our id and a response's flags, then anything: the parser's deeper paths.
            let mut body = vec![0, 7, 0x84, 0];
            body.extend(tail);
            if let Some(m) = response(&body, 7) {
                let _ = read_answer(&m, RecordType::A);
            }
        }
    }
}
