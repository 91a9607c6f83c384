//! What a fix command must never contain: a value dsdoctor made up. Run over every
//! report the tests produce (fixtures, training scenarios, the lab's real hosts): no
//! unfilled placeholder, and no interface that the host does not have.

use crate::model::Report;

/// Words in capitals that are real (environment variables, socket options, firewall
/// chains and verdicts, record types), not placeholders.
const REAL_NAMES: &[&str] = &[
    "JAVA_OPTS",
    "JAVA_TOOL_OPTIONS",
    "IPV6_V6ONLY",
    "NO_COLOR",
    "REQUEST_URI",
    "HTTP_HOST",
    "ACCEPT",
    "REJECT",
    "INPUT",
    "OUTPUT",
    "FORWARD",
    "PREROUTING",
    "POSTROUTING",
    "RELATED",
    "ESTABLISHED",
    "DOCKER",
];

/// Every problem of the report's fix commands, as "check: problem: line"; `interfaces`
/// are the names of the host's links.
pub fn fix_problems(report: &Report, interfaces: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for f in &report.checks {
        for fix in &f.fixes {
            for line in fix.commands.iter().flat_map(|c| c.lines()) {
                for p in line_problems(line, interfaces) {
                    out.push(format!("{}: {p}: {line}", f.label()));
                }
            }
        }
    }
    out
}

fn line_problems(line: &str, interfaces: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    // An instruction is prose: its capitals are names (SLAAC, DHCPv6), not values to fill.
    let typed = !crate::model::Fix::is_instruction(line);
    // Whole words between spaces and separators: a capital run inside a file name
    // (`/tmp/lab-VAXYOP/`) is part of a real value.
    for word in line.split(|c: char| c.is_whitespace() || "/:=,'\"()`[]{}<>;|&".contains(c)) {
        if is_caps_placeholder(word, typed) && !REAL_NAMES.contains(&word) {
            out.push(format!("placeholder {word}"));
        }
    }
    if let Some(p) = angle_placeholder(line) {
        out.push(format!("placeholder {p}"));
    }
    if let Some(p) = brace_placeholder(line) {
        out.push(format!("unfilled {p}"));
    }
    for name in named_interfaces(line) {
        if !interfaces.contains(&name) {
            out.push(format!("interface {name} is not on this host"));
        }
    }
    out
}

/// `YOUR_IPV6_ADDRESS`, `GATEWAY`: capitals in two or more parts, or in a typed command
/// one word of five letters or more (short ones are record types and flags: `AAAA`,
/// `MX`, `DROP`).
fn is_caps_placeholder(word: &str, typed: bool) -> bool {
    let parts: Vec<&str> = word.split('_').collect();
    (parts.len() >= 2 || (typed && word.len() >= 5))
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
        && word.chars().any(|c| c.is_ascii_uppercase())
}

/// `<gateway>`, `<your address>`: lower-case words in angle brackets (Apache's
/// `<VirtualHost *:80>` and shell redirections are not).
fn angle_placeholder(line: &str) -> Option<&str> {
    let mut rest = line;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        if let Some(end) = after.find('>') {
            let inner = &after[..end];
            if inner.starts_with(|c: char| c.is_ascii_lowercase())
                && inner
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || " _-".contains(c))
            {
                return Some(&rest[start..start + end + 2]);
            }
        }
        rest = after;
    }
    None
}

/// `{iface}` left in a line; curl's `%{http_version}` and the shell's `${var}` are
/// real syntax.
fn brace_placeholder(line: &str) -> Option<&str> {
    let mut from = 0;
    while let Some(i) = line[from..].find('{') {
        let start = from + i;
        let end = start + line[start..].find('}')?;
        let inner = &line[start + 1..end];
        let syntax = line[..start].ends_with(['%', '$']);
        if !syntax && !inner.is_empty() && inner.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            return Some(&line[start..=end]);
        }
        from = start + 1;
    }
    None
}

/// Interfaces a line names: after `dev`, and in `net.ipv6.conf.NAME.` sysctl keys.
fn named_interfaces(line: &str) -> Vec<String> {
    let trim = |w: &str| {
        w.trim_matches(|c: char| "`'\",;:().".contains(c))
            .to_string()
    };
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut out: Vec<String> = words
        .windows(2)
        .filter(|w| trim(w[0]) == "dev")
        .map(|w| trim(w[1]))
        .filter(|n| !n.is_empty())
        .collect();
    for fam in ["net.ipv6.conf.", "net.ipv4.conf."] {
        let mut rest = line;
        while let Some(i) = rest.find(fam) {
            rest = &rest[i + fam.len()..];
            let name: String = rest
                .chars()
                .take_while(|c| *c != '.' && !c.is_whitespace())
                .collect();
            if name != "all" && name != "default" && !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::line_problems;

    fn problems(line: &str) -> Vec<String> {
        line_problems(line, &["ens3".into(), "lo".into()])
    }

    #[test]
    fn made_up_values_are_found() {
        assert_eq!(
            problems("ip -6 route add default via GATEWAY dev ens3"),
            ["placeholder GATEWAY".to_string()]
        );
        assert_eq!(
            problems("ip -6 addr add YOUR_IPV6_ADDRESS/64 dev eth0"),
            [
                "placeholder YOUR_IPV6_ADDRESS".to_string(),
                "interface eth0 is not on this host".to_string()
            ]
        );
        assert_eq!(
            problems("ip route add default via <gateway> dev ens3"),
            ["placeholder <gateway>".to_string()]
        );
        assert_eq!(
            problems("sysctl -w net.ipv6.conf.eth1.accept_ra=2").len(),
            1
        );
        assert_eq!(problems("ping -c 3 {gw}"), ["unfilled {gw}".to_string()]);
        assert_eq!(
            problems("curl -w '%{http_code}' http://{host}/"),
            ["unfilled {host}".to_string()]
        );
        assert_eq!(
            problems("# Add it with `ip -6 route add default via` the gateway and `dev eth0`."),
            ["interface eth0 is not on this host".to_string()]
        );
        assert_eq!(
            problems("# via YOUR_GATEWAY, as SLAAC would"),
            ["placeholder YOUR_GATEWAY".to_string()]
        );
    }

    #[test]
    fn real_commands_pass() {
        for line in [
            "ip -6 route add default via fe80::1 dev ens3   # a router seen on ens3",
            "sed -i '3s/<VirtualHost [^>]*>/<VirtualHost *:80>/' /etc/apache2/sites-enabled/shop.conf",
            "nginx -T 2>/dev/null | grep -n 'listen .*80'",
            "sysctl -w net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.ens3.disable_ipv6=0",
            "java $JAVA_TOOL_OPTIONS -jar app.jar",
            "curl -sS -o /dev/null -w '%{http_version}\\n' https://[2001:db8::10]/",
            "printf '[Socket]\\nListenStream=[::]:80\\n' > /etc/systemd/system/x.socket.d/dualstack.conf",
        ] {
            assert!(problems(line).is_empty(), "{line}: {:?}", problems(line));
        }
    }
}
