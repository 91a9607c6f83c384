//! Listening TCP sockets from netlink sock_diag, the only source that reports
//! IPV6_V6ONLY per socket, with their owner processes.

use super::io_error;
use crate::facts::deps::{Connection, Connections};
use crate::facts::{Listener, ProbeError, ProbeErrorKind};
use crate::sanitize::clean;
use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_packet_sock_diag::constants::{AF_INET, AF_INET6, IPPROTO_TCP};
use netlink_packet_sock_diag::inet::{
    ExtensionFlags, InetRequest, InetResponse, SocketId, StateFlags, nlas::Nla,
};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_SOCK_DIAG};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Upper bound on listening sockets kept (a host has tens; this guards the memory).
const MAX_LISTENERS: usize = 65_536;

pub fn listening_sockets() -> Result<Vec<Listener>, ProbeError> {
    let mut out = dump_listeners()?;
    attach_owners(&mut out);
    Ok(out)
}

/// The kernel's listening TCP sockets, without their owners.
pub fn dump_listeners() -> Result<Vec<Listener>, ProbeError> {
    // A kernel without IPv6 rejects the AF_INET6 dump; that is a fact, not an error.
    let with_v6 = std::path::Path::new("/proc/sys/net/ipv6").exists();
    // The two dumps are independent and, on a busy host, each costs tens of
    // milliseconds of kernel time: run them side by side.
    let (v4, v6) = std::thread::scope(|scope| {
        let v6 = with_v6.then(|| {
            scope.spawn(|| {
                let mut v6 = Vec::new();
                dump(AF_INET6, &mut v6).map(|()| v6)
            })
        });
        let mut v4 = Vec::new();
        let v4 = dump(AF_INET, &mut v4).map(|()| v4);
        let v6 = match v6.map(|h| h.join()) {
            None => Ok(Vec::new()),
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(ProbeError::new(
                ProbeErrorKind::Failed,
                "sock_diag: the IPv6 dump thread panicked",
            )),
        };
        (v4, v6)
    });
    let mut out = v4?;
    out.extend(v6?);
    out.truncate(MAX_LISTENERS);
    out.sort_by_key(|l| (l.port, l.ip.is_ipv6(), l.ip));
    Ok(out)
}

/// Name the process holding each socket.
pub fn attach_owners(out: &mut [Listener]) {
    let inodes: BTreeSet<u32> = out.iter().map(|l| l.inode).filter(|i| *i != 0).collect();
    let owners = owners_of(&inodes);
    let names = process_names(owners.values().copied().collect());
    for l in out.iter_mut() {
        if let Some(pid) = owners.get(&l.inode) {
            l.pid = Some(*pid);
            l.process = names.get(pid).cloned();
        }
    }
}

fn dump(family: u8, out: &mut Vec<Listener>) -> Result<(), ProbeError> {
    dump_state(family, StateFlags::LISTEN, &mut |resp| {
        if out.len() >= MAX_LISTENERS {
            return;
        }
        let v6only = resp.nlas.iter().find_map(|n| match n {
            Nla::SkV6Only(b) => Some(*b),
            _ => None,
        });
        let id = &resp.header.socket_id;
        out.push(Listener {
            ip: id.source_address,
            port: id.source_port,
            v6only: if family == AF_INET6 {
                Some(v6only.unwrap_or(false))
            } else {
                None
            },
            uid: resp.header.uid,
            inode: resp.header.inode,
            pid: None,
            process: None,
        });
    })
}

/// Dump the TCP sockets of a family in `states`, handing each to `visit`.
fn dump_state(
    family: u8,
    states: StateFlags,
    visit: &mut dyn FnMut(&InetResponse),
) -> Result<(), ProbeError> {
    let mut socket =
        Socket::new(NETLINK_SOCK_DIAG).map_err(|e| io_error("sock_diag socket", &e))?;
    socket
        .bind_auto()
        .map_err(|e| io_error("sock_diag bind", &e))?;
    socket
        .connect(&SocketAddr::new(0, 0))
        .map_err(|e| io_error("sock_diag connect", &e))?;
    let socket_id = if family == AF_INET {
        SocketId::new_v4()
    } else {
        SocketId::new_v6()
    };
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    let mut packet = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: IPPROTO_TCP,
            extensions: ExtensionFlags::empty(),
            states,
            socket_id,
        })
        .into(),
    );
    packet.finalize();
    let mut buf = vec![0; packet.buffer_len()];
    packet.serialize(&mut buf[..]);
    socket
        .send(&buf[..], 0)
        .map_err(|e| io_error("sock_diag send", &e))?;

    let mut rx = vec![0u8; 64 * 1024];
    loop {
        let size = socket
            .recv(&mut &mut rx[..], 0)
            .map_err(|e| io_error("sock_diag recv", &e))?;
        if size == 0 {
            return Ok(());
        }
        let mut offset = 0;
        while offset < size {
            let msg =
                <NetlinkMessage<SockDiagMessage>>::deserialize(&rx[offset..size]).map_err(|e| {
                    ProbeError::new(
                        ProbeErrorKind::Failed,
                        format!("sock_diag: bad message: {e}"),
                    )
                })?;
            let len = msg.header.length as usize;
            match msg.payload {
                NetlinkPayload::Done(_) => return Ok(()),
                NetlinkPayload::Error(e) => {
                    return Err(ProbeError::new(
                        ProbeErrorKind::Failed,
                        format!("sock_diag: {e:?}"),
                    ));
                }
                NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(resp)) => visit(&resp),
                _ => {}
            }
            if len == 0 {
                break;
            }
            offset += len;
        }
    }
}

/// Outbound connections kept: enough to name every service that talks to IPv4 peers;
/// a host with more (a proxy) shows the first ones and the count of the rest.
const MAX_CONNECTIONS: usize = 256;

/// The established TCP connections this host opened to IPv4 peers other than
/// loopback (an IPv6 socket's v4-mapped peers included), with their owners. A
/// connection whose local port is a listening port was accepted, not opened: its peer
/// is a client, which an IPv6-only host loses by design, not a dependency.
pub fn outbound_ipv4_connections() -> Result<Connections, ProbeError> {
    let with_v6 = std::path::Path::new("/proc/sys/net/ipv6").exists();
    let listening: BTreeSet<u16> = dump_listeners()?.iter().map(|l| l.port).collect();
    let mut found: Vec<(Connection, u32)> = Vec::new();
    let mut omitted = 0usize;
    let families: &[u8] = if with_v6 {
        &[AF_INET, AF_INET6]
    } else {
        &[AF_INET]
    };
    for &family in families {
        dump_state(family, StateFlags::ESTABLISHED, &mut |resp| {
            let id = &resp.header.socket_id;
            let (peer, mapped) = match id.destination_address {
                IpAddr::V4(v4) => (v4, false),
                IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                    Some(v4) => (v4, true),
                    None => return,
                },
            };
            if peer.is_loopback() || peer.is_unspecified() || listening.contains(&id.source_port) {
                return;
            }
            if found.len() >= MAX_CONNECTIONS {
                omitted += 1;
                return;
            }
            let local = match id.source_address {
                IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
                ip => ip,
            };
            found.push((
                Connection {
                    local: std::net::SocketAddr::new(local, id.source_port),
                    peer: std::net::SocketAddr::new(IpAddr::V4(peer), id.destination_port),
                    mapped,
                    pid: None,
                    process: None,
                },
                resp.header.inode,
            ));
        })?;
    }
    let inodes: BTreeSet<u32> = found.iter().map(|(_, i)| *i).filter(|i| *i != 0).collect();
    let owners = owners_of(&inodes);
    let names = process_names(owners.values().copied().collect());
    // dsdoctor's own probes (the echo service, egress targets) run meanwhile: they
    // are not the host's services.
    let me = std::process::id();
    let mut list: Vec<Connection> = found
        .into_iter()
        .map(|(mut c, inode)| {
            c.pid = owners.get(&inode).copied();
            c.process = c.pid.and_then(|p| names.get(&p).cloned());
            c
        })
        .filter(|c| c.pid != Some(me))
        .collect();
    list.sort_by_key(|c| (c.peer, c.local));
    Ok(Connections { list, omitted })
}

/// Map socket inodes to the pid holding them, from `/proc/*/fd/*` links. Without root
/// only our own processes are visible; the listener then shows no owner.
fn owners_of(inodes: &BTreeSet<u32>) -> BTreeMap<u32, u32> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    if inodes.is_empty() {
        return BTreeMap::new();
    }
    let Ok(proc_dir) = std::fs::read_dir("/proc") else {
        return BTreeMap::new();
    };
    let mut pids: Vec<u32> = proc_dir
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .collect();
    // The sockets belong to this network namespace, and nearly always to its processes:
    // scanning those first lets the scan stop before a container host's thousands of
    // other processes. The others still follow, in case a socket was passed out.
    if let Ok(own) = std::fs::read_link("/proc/self/ns/net") {
        pids.sort_by_cached_key(|pid| {
            std::fs::read_link(format!("/proc/{pid}/ns/net"))
                .ok()
                .as_ref()
                != Some(&own)
        });
    }
    // One readlink per open file of every process: on a busy host that is the whole
    // cost of the probe, so it is spread over the cores.
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    let owners: Mutex<BTreeMap<u32, u32>> = Mutex::new(BTreeMap::new());
    let done = AtomicBool::new(false);
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (pids, owners, done, next) = (&pids, &owners, &done, &next);
            scope.spawn(move || {
                // Processes differ wildly in open files, so each thread takes the next
                // unscanned process rather than a fixed share.
                while let Some(pid) = pids.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if done.load(Ordering::Relaxed) {
                        return;
                    }
                    let found = sockets_of(*pid, inodes);
                    if found.is_empty() {
                        continue;
                    }
                    let Ok(mut map) = owners.lock() else { return };
                    for inode in found {
                        // Several processes (nginx workers) share a socket: keep the
                        // lowest pid, which is the master that opened it.
                        map.entry(inode)
                            .and_modify(|p: &mut u32| *p = (*p).min(*pid))
                            .or_insert(*pid);
                    }
                    if map.len() == inodes.len() {
                        done.store(true, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    owners.into_inner().unwrap_or_default()
}

/// The wanted socket inodes among a process's open files.
fn sockets_of(pid: u32, inodes: &BTreeSet<u32>) -> Vec<u32> {
    use nix::dir::Dir;
    use nix::fcntl::{OFlag, readlinkat};
    use nix::sys::stat::Mode;
    use std::os::fd::AsRawFd;
    // Relative to the open fd directory, each readlink spares the kernel a walk of
    // /proc/PID/fd: on a busy host these calls are most of the probe's cost.
    let Ok(mut dir) = Dir::open(
        format!("/proc/{pid}/fd").as_str(),
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) else {
        return Vec::new();
    };
    let dirfd = dir.as_raw_fd();
    // readlink, not stat: stat would follow the link to files on network mounts and
    // can hang on a dead NFS server; readlink only reads the kernel's name for it.
    dir.iter()
        .flatten()
        .filter(|entry| entry.file_name().to_bytes().first() != Some(&b'.'))
        .filter_map(|entry| readlinkat(Some(dirfd), entry.file_name()).ok())
        .filter_map(|target| {
            target
                .to_str()
                .and_then(|t| t.strip_prefix("socket:["))
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse::<u32>().ok())
        })
        .filter(|i| inodes.contains(i))
        .collect()
}

fn process_names(pids: Vec<u32>) -> BTreeMap<u32, String> {
    use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};
    let mut sys = System::new();
    let pids: Vec<Pid> = pids.into_iter().map(Pid::from_u32).collect();
    // `ProcessesToUpdate::Some` missed nginx masters (renamed process titles) in testing,
    // while a full refresh finds them; names alone cost little even on a busy host.
    sys.refresh_processes_specifics(ProcessesToUpdate::All, true, ProcessRefreshKind::nothing());
    pids.iter()
        .filter_map(|p| {
            sys.process(*p)
                .map(|proc_| (p.as_u32(), clean(&proc_.name().to_string_lossy())))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The probe finds a socket this test process listens on, on both families, with
    /// this process as its owner and the IPV6_V6ONLY flag as the kernel holds it.
    #[test]
    fn own_listeners_are_found_with_their_owner() {
        let v4 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let v4_port = v4.local_addr().unwrap().port();
        let v6 = std::net::TcpListener::bind("[::1]:0");
        let mut found = listening_sockets().unwrap();
        found.retain(|l| l.pid == Some(std::process::id()));
        let mine_v4 = found.iter().find(|l| l.port == v4_port && l.ip.is_ipv4());
        assert!(mine_v4.is_some(), "{found:?}");
        assert!(mine_v4.unwrap().process.is_some());
        // A kernel or sandbox without ::1 cannot bind it; the IPv4 half still holds.
        if let Ok(v6) = v6 {
            let port = v6.local_addr().unwrap().port();
            let l = found.iter().find(|l| l.port == port && l.ip.is_ipv6());
            // The kernel sets the flag on a socket bound to a specific IPv6 address
            // (inet6_bind): ::1 can never take IPv4 clients, whatever bindv6only says.
            assert_eq!(l.map(|l| l.v6only), Some(Some(true)), "{found:?}");
        }
    }

    #[test]
    fn no_inodes_means_no_scan() {
        assert!(owners_of(&BTreeSet::new()).is_empty());
    }
}
