//! SPF evaluation (RFC 7208 `check_host()`) over DNS answers given as data.
//!
//! The evaluator never asks the network: it reads answers through `Dns`, and when one
//! it needs is not there it stops and names the question (`Evaluation::missing`). The
//! mail probe asks those questions and evaluates again until nothing is missing; the
//! `dns.spf` check evaluates once more from the recorded answers, so a replay gives the
//! same result. No SPF crate was taken: viaspf (the complete one) is GPL-3.0, which
//! this MIT/Apache-2.0 crate cannot ship, and mail-auth does its own lookups through its
//! resolver, which a pure check cannot use.
//!
//! Covered: `all`, `include`, `a`, `mx`, `ptr` (counted, never matched, as RFC 7208
//! 5.5 advises against it), `ip4`, `ip6`, `exists`, `redirect`, dual CIDR lengths,
//! macros in domain specifications, the limits of 10 DNS-querying terms, 10 MX names
//! per `mx` and 2 void lookups, and include/redirect loops. `exp` is not fetched (its
//! text only explains a fail).

use crate::facts::mail::{SpfAnswer, SpfQuery};
use std::net::IpAddr;

/// The result of `check_host()` (RFC 7208 2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpfResult {
    None,
    Neutral,
    Pass,
    Fail,
    SoftFail,
    TempError,
    PermError,
}

impl SpfResult {
    pub fn name(self) -> &'static str {
        match self {
            SpfResult::None => "none",
            SpfResult::Neutral => "neutral",
            SpfResult::Pass => "pass",
            SpfResult::Fail => "fail",
            SpfResult::SoftFail => "softfail",
            SpfResult::TempError => "temperror",
            SpfResult::PermError => "permerror",
        }
    }
}

/// What `evaluate` found: the result, why, and the way there.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub result: SpfResult,
    /// Why: the matching term, or the error (`more than 10 DNS lookups`).
    pub reason: String,
    /// The records and terms evaluated, in order (`shop.example: "v=spf1 mx -all"`).
    pub trace: Vec<String>,
    /// DNS-querying terms counted against the limit of 10.
    pub lookups: u32,
    /// The question whose answer was not given (then `result` is `TempError`).
    pub missing: Option<SpfQuery>,
}

/// Answers by question: `None` when the question was not asked yet; `Err` when it was
/// and failed (a timeout, SERVFAIL).
pub trait Dns {
    fn answer(&self, q: &SpfQuery) -> Option<Result<SpfAnswer, String>>;
}

impl<F: Fn(&SpfQuery) -> Option<Result<SpfAnswer, String>>> Dns for F {
    fn answer(&self, q: &SpfQuery) -> Option<Result<SpfAnswer, String>> {
        self(q)
    }
}

/// RFC 7208 4.6.4.
const MAX_LOOKUPS: u32 = 10;
const MAX_VOID: u32 = 2;
const MAX_MX_NAMES: usize = 10;
/// Longest trace kept: a hostile record set cannot make the evidence unbounded.
const MAX_TRACE: usize = 64;
/// Longest record text shown in the trace.
const MAX_SHOWN: usize = 300;

/// Evaluate the SPF policy of `domain` for mail from `ip` (the sender
/// `postmaster@domain`, HELO name `helo`).
pub fn evaluate(ip: IpAddr, domain: &str, helo: &str, dns: &dyn Dns) -> Evaluation {
    let domain = norm(domain);
    let mut st = State {
        ip,
        sender_domain: domain.clone(),
        helo: helo.to_string(),
        dns,
        lookups: 0,
        voids: 0,
        stack: Vec::new(),
        trace: Vec::new(),
    };
    let mut e = match st.check_host(&domain) {
        Ok((result, reason)) => Evaluation {
            result,
            reason,
            trace: st.trace,
            lookups: st.lookups,
            missing: None,
        },
        Err(Stop::Error(result, reason)) => Evaluation {
            result,
            reason,
            trace: st.trace,
            lookups: st.lookups,
            missing: None,
        },
        Err(Stop::Missing(q)) => Evaluation {
            result: SpfResult::TempError,
            reason: format!("{q}: not looked up"),
            trace: st.trace,
            lookups: st.lookups,
            missing: Some(q),
        },
    };
    // Names in the reason come from DNS data.
    e.reason = crate::sanitize::clean(&e.reason);
    e
}

/// Lower case, no trailing dot: the form questions are keyed by.
pub fn norm(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

enum Stop {
    /// A result that ends evaluation at once (permerror, temperror).
    Error(SpfResult, String),
    Missing(SpfQuery),
}

fn perm(msg: impl Into<String>) -> Stop {
    Stop::Error(SpfResult::PermError, msg.into())
}

struct State<'a> {
    ip: IpAddr,
    sender_domain: String,
    helo: String,
    dns: &'a dyn Dns,
    lookups: u32,
    voids: u32,
    /// The domains of the include/redirect chain being evaluated.
    stack: Vec<String>,
    trace: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Qualifier {
    Pass,
    Fail,
    SoftFail,
    Neutral,
}

impl Qualifier {
    fn result(self) -> SpfResult {
        match self {
            Qualifier::Pass => SpfResult::Pass,
            Qualifier::Fail => SpfResult::Fail,
            Qualifier::SoftFail => SpfResult::SoftFail,
            Qualifier::Neutral => SpfResult::Neutral,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Mechanism {
    All,
    Include(String),
    A(Option<String>, Cidr),
    Mx(Option<String>, Cidr),
    Ptr,
    Ip(ipnet::IpNet),
    Exists(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Cidr {
    v4: u8,
    v6: u8,
}

#[derive(Debug, Clone, PartialEq)]
struct Record {
    directives: Vec<(Qualifier, Mechanism, String)>,
    redirect: Option<String>,
}

impl State<'_> {
    fn note(&mut self, line: String) {
        if self.trace.len() < MAX_TRACE {
            self.trace.push(crate::sanitize::clean(&line));
        }
    }

    fn ask(&mut self, q: SpfQuery) -> Result<Result<SpfAnswer, String>, Stop> {
        self.dns.answer(&q).ok_or(Stop::Missing(q))
    }

    /// A lookup whose failure is a temperror and whose empty answer is a void lookup.
    fn ask_counted_void(&mut self, q: SpfQuery) -> Result<SpfAnswer, Stop> {
        let shown = q.to_string();
        let a = self
            .ask(q)?
            .map_err(|e| Stop::Error(SpfResult::TempError, format!("{shown}: {e}")))?;
        let empty = match &a {
            SpfAnswer::Txt(v) | SpfAnswer::Names(v) => v.is_empty(),
            SpfAnswer::Ips(v) => v.is_empty(),
        };
        if empty {
            self.voids += 1;
            if self.voids > MAX_VOID {
                return Err(perm(format!(
                    "more than {MAX_VOID} lookups found nothing (void lookup limit, RFC 7208 4.6.4), the last {shown}"
                )));
            }
        }
        Ok(a)
    }

    fn count(&mut self, term: &str) -> Result<(), Stop> {
        self.lookups += 1;
        if self.lookups > MAX_LOOKUPS {
            return Err(perm(format!(
                "more than {MAX_LOOKUPS} DNS lookups (RFC 7208 4.6.4), at {term}"
            )));
        }
        Ok(())
    }

    fn check_host(&mut self, domain: &str) -> Result<(SpfResult, String), Stop> {
        if let Some(pos) = self.stack.iter().position(|d| d == domain) {
            let mut chain: Vec<&str> = self.stack[pos..].iter().map(String::as_str).collect();
            chain.push(domain);
            return Err(perm(format!("loop: {}", chain.join(" -> "))));
        }
        let txt = match self.ask(SpfQuery::Txt(domain.to_string()))? {
            Ok(SpfAnswer::Txt(t)) => t,
            Ok(_) => Vec::new(),
            Err(e) => {
                return Err(Stop::Error(
                    SpfResult::TempError,
                    format!("TXT {domain}: {e}"),
                ));
            }
        };
        let spf: Vec<&String> = txt.iter().filter(|t| is_spf1(t)).collect();
        let text = match spf.as_slice() {
            [] => {
                self.note(format!("{domain}: no SPF record"));
                return Ok((SpfResult::None, format!("{domain} has no SPF record")));
            }
            [one] => one.as_str(),
            _ => {
                return Err(perm(format!(
                    "{domain} has {} SPF records (one is allowed)",
                    spf.len()
                )));
            }
        };
        self.note(format!("{domain}: \"{}\"", shown(text)));
        let rec = parse_record(text).map_err(|e| perm(format!("{domain}: {e}")))?;
        self.stack.push(domain.to_string());
        let r = self.run(domain, &rec);
        self.stack.pop();
        r
    }

    fn run(&mut self, domain: &str, rec: &Record) -> Result<(SpfResult, String), Stop> {
        for (q, m, term) in &rec.directives {
            if self.matches(domain, m, term)? {
                let r = q.result();
                return Ok((r, format!("{term} in the record of {domain} matches")));
            }
        }
        if let Some(spec) = &rec.redirect {
            let term = format!("redirect={spec}");
            self.count(&term)?;
            let target = self.expand(spec, domain)?;
            self.note(format!("{domain}: {term} -> {target}"));
            let (r, why) = self.check_host(&target)?;
            if r == SpfResult::None {
                return Err(perm(format!("{term}: {target} has no SPF record")));
            }
            return Ok((r, why));
        }
        Ok((
            SpfResult::Neutral,
            format!("nothing in the record of {domain} matches"),
        ))
    }

    fn matches(&mut self, domain: &str, m: &Mechanism, term: &str) -> Result<bool, Stop> {
        match m {
            Mechanism::All => Ok(true),
            Mechanism::Ip(net) => Ok(net.contains(&self.ip)),
            Mechanism::Ptr => {
                self.count(term)?;
                self.note(format!("{domain}: {term} not evaluated (RFC 7208 5.5)"));
                Ok(false)
            }
            Mechanism::Include(spec) => {
                self.count(term)?;
                let target = self.expand(spec, domain)?;
                match self.check_host(&target)? {
                    (SpfResult::Pass, _) => Ok(true),
                    (SpfResult::Fail | SpfResult::SoftFail | SpfResult::Neutral, _) => Ok(false),
                    (SpfResult::None, _) => {
                        Err(perm(format!("{term}: {target} has no SPF record")))
                    }
                    (r, why) => Err(Stop::Error(r, why)),
                }
            }
            Mechanism::Exists(spec) => {
                self.count(term)?;
                let target = self.expand(spec, domain)?;
                let a = self.ask_counted_void(SpfQuery::A(target))?;
                Ok(matches!(a, SpfAnswer::Ips(v) if !v.is_empty()))
            }
            Mechanism::A(spec, cidr) => {
                self.count(term)?;
                let target = match spec {
                    Some(s) => self.expand(s, domain)?,
                    None => domain.to_string(),
                };
                let ips = self.addresses(&target)?;
                Ok(self.any_in(&ips, *cidr))
            }
            Mechanism::Mx(spec, cidr) => {
                self.count(term)?;
                let target = match spec {
                    Some(s) => self.expand(s, domain)?,
                    None => domain.to_string(),
                };
                let names = match self.ask_counted_void(SpfQuery::Mx(target.clone()))? {
                    SpfAnswer::Names(n) => n,
                    _ => Vec::new(),
                };
                if names.len() > MAX_MX_NAMES {
                    return Err(perm(format!(
                        "{term}: {target} has {} MX hosts (at most {MAX_MX_NAMES})",
                        names.len()
                    )));
                }
                for n in names {
                    let ips = self.addresses(&norm(&n))?;
                    if self.any_in(&ips, *cidr) {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
        }
    }

    /// The addresses of `name` of the sender's family.
    fn addresses(&mut self, name: &str) -> Result<Vec<IpAddr>, Stop> {
        let q = if self.ip.is_ipv4() {
            SpfQuery::A(name.to_string())
        } else {
            SpfQuery::Aaaa(name.to_string())
        };
        Ok(match self.ask_counted_void(q)? {
            SpfAnswer::Ips(v) => v,
            _ => Vec::new(),
        })
    }

    fn any_in(&self, ips: &[IpAddr], cidr: Cidr) -> bool {
        let len = if self.ip.is_ipv4() { cidr.v4 } else { cidr.v6 };
        ips.iter().any(|ip| {
            ipnet::IpNet::new(*ip, len)
                .map(|n| n.trunc().contains(&self.ip))
                .unwrap_or(false)
        })
    }

    /// Macro expansion of a domain-spec (RFC 7208 7).
    fn expand(&self, spec: &str, domain: &str) -> Result<String, Stop> {
        let mut out = String::new();
        let mut chars = spec.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('%') => out.push('%'),
                Some('_') => out.push(' '),
                Some('-') => out.push_str("%20"),
                Some('{') => {
                    let mut body = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(ch) => body.push(ch),
                            None => return Err(perm(format!("unterminated macro in {spec}"))),
                        }
                    }
                    out.push_str(&self.macro_value(&body, domain, spec)?);
                }
                _ => return Err(perm(format!("bad macro in {spec}"))),
            }
        }
        let mut name = norm(&out);
        // RFC 7208 7.3: drop labels from the left until the name fits.
        while name.len() > 253 {
            match name.split_once('.') {
                Some((_, rest)) => name = rest.to_string(),
                None => return Err(perm(format!("{spec} expands to a name too long"))),
            }
        }
        if name.is_empty() || name.split('.').any(|l| l.is_empty() || l.len() > 63) {
            return Err(perm(format!("{spec} is not a domain name")));
        }
        Ok(name)
    }

    fn macro_value(&self, body: &str, domain: &str, spec: &str) -> Result<String, Stop> {
        let mut it = body.chars();
        let letter = it
            .next()
            .ok_or_else(|| perm(format!("empty macro in {spec}")))?;
        let value = match letter.to_ascii_lowercase() {
            's' => format!("postmaster@{}", self.sender_domain),
            'l' => "postmaster".to_string(),
            'o' => self.sender_domain.clone(),
            'd' => domain.to_string(),
            'i' => match self.ip {
                IpAddr::V4(v) => v.to_string(),
                IpAddr::V6(v) => nibbles(&v).join("."),
            },
            'p' => "unknown".to_string(),
            'v' => if self.ip.is_ipv4() { "in-addr" } else { "ip6" }.to_string(),
            'h' => self.helo.clone(),
            _ => return Err(perm(format!("unknown macro letter {letter} in {spec}"))),
        };
        let rest: String = it.collect();
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        let rest = &rest[digits.len()..];
        let (reverse, delims) = match rest.strip_prefix(['r', 'R']) {
            Some(d) => (true, d),
            None => (false, rest),
        };
        if delims.chars().any(|c| !".-+,/_=".contains(c)) {
            return Err(perm(format!("bad macro transformer in {spec}")));
        }
        let delims = if delims.is_empty() { "." } else { delims };
        let mut parts: Vec<&str> = value.split(|c| delims.contains(c)).collect();
        if reverse {
            parts.reverse();
        }
        if !digits.is_empty() {
            let n: usize = digits
                .parse()
                .map_err(|_| perm(format!("bad macro digits in {spec}")))?;
            if n == 0 {
                return Err(perm(format!("macro keeps zero labels in {spec}")));
            }
            let skip = parts.len().saturating_sub(n);
            parts = parts[skip..].to_vec();
        }
        Ok(parts.join("."))
    }
}

/// The 32 nibbles of an IPv6 address, most significant first (`2`, `0`, `0`, `1`, ...).
pub fn nibbles(v: &std::net::Ipv6Addr) -> Vec<String> {
    v.octets()
        .iter()
        .flat_map(|b| [b >> 4, b & 0xf])
        .map(|n| format!("{n:x}"))
        .collect()
}

fn is_spf1(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 6 && b[..6].eq_ignore_ascii_case(b"v=spf1") && (b.len() == 6 || b[6] == b' ')
}

fn shown(t: &str) -> String {
    let s = crate::sanitize::clean(t);
    if s.chars().count() > MAX_SHOWN {
        format!("{}…", s.chars().take(MAX_SHOWN).collect::<String>())
    } else {
        s
    }
}

fn parse_record(text: &str) -> Result<Record, String> {
    let mut rec = Record {
        directives: Vec::new(),
        redirect: None,
    };
    let mut exp = false;
    for term in text.split(' ').skip(1).filter(|t| !t.is_empty()) {
        let shown = shown(term);
        // A modifier is `name=value` where the name is letters, digits, `-_.`.
        if let Some((name, value)) = term.split_once('=')
            && !name.is_empty()
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            match name.to_ascii_lowercase().as_str() {
                "redirect" if rec.redirect.is_some() => {
                    return Err("two redirect= modifiers".into());
                }
                "redirect" => rec.redirect = Some(value.to_string()),
                "exp" => {
                    if exp {
                        return Err("two exp= modifiers".into());
                    }
                    exp = true;
                }
                // Unknown modifiers are ignored (RFC 7208 6).
                _ => {}
            }
            continue;
        }
        let (q, body) = match term.chars().next() {
            Some('+') => (Qualifier::Pass, &term[1..]),
            Some('-') => (Qualifier::Fail, &term[1..]),
            Some('~') => (Qualifier::SoftFail, &term[1..]),
            Some('?') => (Qualifier::Neutral, &term[1..]),
            _ => (Qualifier::Pass, term),
        };
        let end = body.find([':', '/']).unwrap_or(body.len());
        let (name, arg) = body.split_at(end);
        let m = match name.to_ascii_lowercase().as_str() {
            "all" if arg.is_empty() => Mechanism::All,
            "include" => Mechanism::Include(domain_arg(arg, &shown)?),
            "exists" => Mechanism::Exists(domain_arg(arg, &shown)?),
            "ptr" => Mechanism::Ptr,
            "a" => {
                let (d, c) = domain_cidr(arg, &shown)?;
                Mechanism::A(d, c)
            }
            "mx" => {
                let (d, c) = domain_cidr(arg, &shown)?;
                Mechanism::Mx(d, c)
            }
            "ip4" | "ip6" => {
                let v = arg
                    .strip_prefix(':')
                    .ok_or_else(|| format!("{shown}: no address"))?;
                let net = ip_net(v, name.eq_ignore_ascii_case("ip6"))
                    .ok_or_else(|| format!("{shown}: not an address or network"))?;
                Mechanism::Ip(net)
            }
            _ => return Err(format!("unknown term {shown}")),
        };
        rec.directives.push((q, m, shown));
    }
    Ok(rec)
}

fn domain_arg(arg: &str, term: &str) -> Result<String, String> {
    match arg.strip_prefix(':') {
        Some(d) if !d.is_empty() => Ok(d.to_string()),
        _ => Err(format!("{term}: no domain")),
    }
}

/// `[:domain][/v4][//v6]` of `a` and `mx`.
fn domain_cidr(arg: &str, term: &str) -> Result<(Option<String>, Cidr), String> {
    let (d, cidr) = match arg.find('/') {
        Some(i) => (&arg[..i], &arg[i..]),
        None => (arg, ""),
    };
    let domain = match d.strip_prefix(':') {
        Some("") => return Err(format!("{term}: empty domain")),
        Some(x) => Some(x.to_string()),
        None if d.is_empty() => None,
        None => return Err(format!("bad term {term}")),
    };
    let bad = || format!("{term}: bad prefix length");
    let mut c = Cidr { v4: 32, v6: 128 };
    if !cidr.is_empty() {
        let (v4, v6) = match cidr.strip_prefix("//") {
            Some(v6) => (None, Some(v6)),
            None => {
                let rest = &cidr[1..];
                match rest.split_once("//") {
                    Some((a, b)) => (Some(a), Some(b)),
                    None => (Some(rest), None),
                }
            }
        };
        if let Some(v) = v4 {
            c.v4 = v.parse().ok().filter(|n| *n <= 32).ok_or_else(bad)?;
        }
        if let Some(v) = v6 {
            c.v6 = v.parse().ok().filter(|n| *n <= 128).ok_or_else(bad)?;
        }
    }
    Ok((domain, c))
}

fn ip_net(v: &str, six: bool) -> Option<ipnet::IpNet> {
    let (addr, len) = match v.split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u8>().ok()?)),
        None => (v, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    if ip.is_ipv6() != six {
        return None;
    }
    let len = len.unwrap_or(if six { 128 } else { 32 });
    ipnet::IpNet::new(ip, len).ok().map(|n| n.trunc())
}

#[cfg(test)]
mod tests;
