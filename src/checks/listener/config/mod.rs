//! `listener.config`: the configuration of whatever owns the listening sockets on the
//! port asks for both families and serves the same site on both. The owner of the
//! sockets decides which server is judged: nginx, Apache httpd, HAProxy and Caddy from
//! their configuration, PID 1 from its `.socket` units, any other program from its
//! runtime settings or, with none, from the sockets it opened itself.

mod apache;
mod caddy;
mod container;
mod haproxy;
mod nginx;
mod port;
mod program;
mod socket_unit;
#[cfg(test)]
mod tests;

use crate::checks::subject::Subject;
use crate::checks::view::Ctx;
use crate::facts::{Listener, Place, WebServers};
use crate::model::{CheckId, Finding};
use port::Port;

pub fn check(c: &Ctx, port: u16) -> Finding {
    let s = Subject::on_port(CheckId::ListenerConfig, port);
    let web = match &c.facts.web.result {
        Ok(w) => w,
        Err(e) => {
            return s.unread(c.facts, "look for a web server", e);
        }
    };
    let sockets: Vec<&Listener> = c
        .facts
        .listeners
        .value()
        .into_iter()
        .flatten()
        .filter(|l| l.port == port)
        .collect();
    let owner = sockets
        .iter()
        .find_map(|l| l.process.clone().map(|p| (p, l.pid)));
    let p = Port {
        c,
        port,
        web,
        sockets,
        pid: owner.as_ref().and_then(|o| o.1),
        also: configured_on(web, port),
    };
    // A port a container publishes: the runtime's mapping is the configuration.
    if let Some(fd) = container::check(c, port, owner.as_ref().map(|o| o.0.as_str())) {
        return fd;
    }
    let Some((name, pid)) = owner else {
        return nginx::check(&p);
    };
    let server = matches!(name.as_str(), "apache2" | "httpd" | "haproxy" | "caddy");
    // Facts recorded before dsdoctor read these servers' configuration (an older
    // snapshot: no runtime hints either) say nothing of it. A program's own sockets are
    // in every recording, so it is judged all the same.
    if server && web.runtimes.is_none() {
        return s
            .skip(format!(
                "port {port} is served by {name} (pid {}); this recording was made before dsdoctor read {name}'s configuration",
                pid.unwrap_or(0)
            ))
            .explain("config_other_server", &[]);
    }
    match name.as_str() {
        "nginx" => nginx::check(&p),
        "apache2" | "httpd" => apache::check(&p),
        "haproxy" => haproxy::check(&p),
        "caddy" => caddy::check(&p),
        _ if pid == Some(1) => socket_unit::check(&p),
        _ => program::check(&p, &name),
    }
}

/// Every server whose configuration binds `port`, and where.
fn configured_on(web: &WebServers, port: u16) -> Vec<(&'static str, u32, Place)> {
    let mut out = Vec::new();
    for n in &web.nginx {
        out.extend(nginx::place_on(n, port).map(|at| ("nginx", n.pid, at)));
    }
    for a in &web.apache {
        out.extend(apache::place_on(a, port).map(|at| ("apache", a.pid, at)));
    }
    for h in &web.haproxy {
        out.extend(haproxy::place_on(h, port).map(|at| ("haproxy", h.pid, at)));
    }
    for c in &web.caddy {
        out.extend(caddy::place_on(c, port).map(|at| ("caddy", c.pid, at)));
    }
    out
}
