//! Caddy's JSON configuration, as `GET /config/` on the admin endpoint returns it: what
//! runs. Read: `apps.http.servers.*.listen`, the `host` matchers of each server's routes
//! (subroutes included), `automatic_https`, the HTTP and HTTPS ports and the admin
//! settings. Everything else is left.

use super::listen_addr;
use crate::facts::servers::{CaddyJson, CaddyServer, CaddySettings};
use crate::parse::source::MAX_PROBLEMS;
use crate::sanitize::clean;
use serde_json::Value;

/// Subroutes followed inside each other: Caddy nests them a level or two.
const MAX_ROUTE_DEPTH: usize = 16;
/// Host names kept per server.
const MAX_HOSTS: usize = 4096;

/// Parse the JSON text of a Caddy configuration. `Err` when it is not JSON at all.
pub fn parse(text: &str) -> Result<CaddyJson, String> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| format!("not a JSON configuration: {e}"))?;
    let mut out = CaddyJson::default();
    // An empty configuration (`null`, as a fresh Caddy answers) runs no server.
    let admin = &v["admin"];
    let http = &v["apps"]["http"];
    out.settings = CaddySettings {
        admin_off: admin["disabled"].as_bool().unwrap_or(false),
        admin: admin["listen"].as_str().map(clean),
        http_port: port(&http["http_port"]),
        https_port: port(&http["https_port"]),
    };
    if let Some(servers) = http["servers"].as_object() {
        for (name, s) in servers {
            let mut server = CaddyServer {
                name: clean(name),
                listen: Vec::new(),
                hosts: Vec::new(),
                auto_https_disabled: s["automatic_https"]["disable"].as_bool().unwrap_or(false),
                redirects_disabled: s["automatic_https"]["disable_redirects"]
                    .as_bool()
                    .unwrap_or(false),
            };
            for l in s["listen"].as_array().into_iter().flatten() {
                match l.as_str().map(listen_addr) {
                    Some(Ok(a)) => server.listen.push(a),
                    Some(Err(e)) => problem(
                        &mut out.problems,
                        format!("server {}: listen: {e}", server.name),
                    ),
                    None => problem(
                        &mut out.problems,
                        format!("server {}: listen: not a string", server.name),
                    ),
                }
            }
            hosts(&s["routes"], 0, &mut server.hosts);
            out.servers.push(server);
        }
    }
    Ok(out)
}

fn problem(problems: &mut Vec<String>, msg: String) {
    if problems.len() < MAX_PROBLEMS {
        problems.push(clean(&msg));
    }
}

fn port(v: &Value) -> Option<u16> {
    v.as_u64().and_then(|p| u16::try_from(p).ok())
}

/// The `host` matchers of `routes` and of the subroutes their handlers hold.
fn hosts(routes: &Value, depth: usize, out: &mut Vec<String>) {
    if depth > MAX_ROUTE_DEPTH {
        return;
    }
    for r in routes.as_array().into_iter().flatten() {
        for m in r["match"].as_array().into_iter().flatten() {
            for h in m["host"].as_array().into_iter().flatten() {
                if let Some(h) = h.as_str()
                    && out.len() < MAX_HOSTS
                    && !out.iter().any(|x| x == h)
                {
                    out.push(clean(h));
                }
            }
        }
        for h in r["handle"].as_array().into_iter().flatten() {
            if h["handler"] == "subroute" {
                hosts(&h["routes"], depth + 1, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::servers::Families;

    /// `caddy adapt` of tests/fixtures/servers/caddy-oracle/binds.Caddyfile.
    fn adapted() -> String {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/servers/caddy-oracle/binds.json"
        ))
        .unwrap()
    }

    #[test]
    fn adapted_caddyfile() {
        let cfg = parse(&adapted()).unwrap();
        assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
        assert!(cfg.settings.admin_off);
        let srv3 = cfg.servers.iter().find(|s| s.name == "srv3").unwrap();
        assert_eq!(srv3.hosts, vec!["example.com", "www.example.com"]);
        assert_eq!(srv3.listen[0].families, Families::Both);
        assert!(srv3.auto_https_disabled);
    }

    #[test]
    fn shapes() {
        assert_eq!(parse("null").unwrap(), CaddyJson::default());
        assert!(parse("{").is_err());
        let cfg = parse(
            r#"{"admin":{"listen":"unix//run/caddy-admin.sock"},
                "apps":{"http":{"http_port":8080,"https_port":99999,"servers":{
                  "a":{"listen":[":443", 5, "bad/[::1"],
                       "automatic_https":{"disable_redirects":true},
                       "routes":[{"match":[{"host":["a.example"]},{"host":["b.example", 7]}],
                                  "handle":[{"handler":"subroute","routes":[
                                     {"match":[{"host":["c.example","a.example"]}]}]}]}]}}}}}"#,
        )
        .unwrap();
        assert_eq!(
            cfg.settings.admin.as_deref(),
            Some("unix//run/caddy-admin.sock")
        );
        assert_eq!(
            (cfg.settings.http_port, cfg.settings.https_port),
            (Some(8080), None)
        );
        let a = &cfg.servers[0];
        assert_eq!(a.hosts, vec!["a.example", "b.example", "c.example"]);
        assert!(a.redirects_disabled && !a.auto_https_disabled);
        assert_eq!(a.listen.len(), 1);
        assert_eq!(cfg.problems.len(), 2, "{:?}", cfg.problems);
    }

    #[test]
    fn deep_subroutes_are_bounded() {
        let mut v = String::from(r#"{"match":[{"host":["deep"]}]}"#);
        for _ in 0..25 {
            v = format!(r#"{{"handle":[{{"handler":"subroute","routes":[{v}]}}]}}"#);
        }
        let text = format!(r#"{{"apps":{{"http":{{"servers":{{"s":{{"routes":[{v}]}}}}}}}}}}"#);
        let cfg = parse(&text).unwrap();
        assert!(cfg.servers[0].hosts.is_empty());
    }

    proptest::proptest! {
        #![proptest_config(crate::testutil::inputs::config())]

        #[test]
        fn fuzz_caddy_json_never_panics(text in {
            use crate::testutil::inputs;
            // What the admin endpoint of the real Caddy answered, mutated half the time.
            let adapted: &'static str = adapted().leak();
            proptest::prop_oneof![
                inputs::mutated_text(vec![adapted]),
                inputs::input_text("caddy_json", 40),
            ]
        }) {
            if let Ok(cfg) = parse(&text) {
                for s in &cfg.servers {
                    assert!(s.hosts.iter().all(|h| crate::testutil::is_inert(h)));
                }
            }
        }
    }
}
