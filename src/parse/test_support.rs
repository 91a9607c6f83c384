//! What the server parsers' tests share: the recorded fixtures, the hostile files every
//! reader must refuse, and the socket names `ss` printed when the real servers ran.

use crate::facts::servers::{BindAddr, Endpoint, Families};
use crate::testutil::assert_mentions;
use std::path::{Path, PathBuf};

/// An IP address as a server binds it.
pub fn ip(s: &str) -> BindAddr {
    BindAddr::from(s.parse::<std::net::IpAddr>().unwrap())
}

/// `tests/fixtures/servers`: configurations as shipped, and what the real servers made
/// of them.
pub fn fixtures() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/servers"
    ))
}

/// The text of a fixture.
pub fn fixture(path: &str) -> String {
    let path = fixtures().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A property test's input from the `section` of the fuzz data, with these recorded
/// configurations (`fixtures`, paths under [`fixtures`]) among the bases it mutates:
/// see [`inputs::input_with`](crate::testutil::inputs::input_with).
pub fn input_with_fixtures(
    section: &str,
    n: usize,
    fixtures: &[&str],
) -> impl proptest::strategy::Strategy<Value = Vec<u8>> + Clone {
    // The strategy holds its bases as `&'static str`: the texts live as long as the tests.
    let texts = fixtures.iter().map(|f| &*fixture(f).leak()).collect();
    crate::testutil::inputs::input_with(section, n, texts)
}

/// Each endpoint as written, with the families it takes: what the tests of a
/// configuration's listening addresses compare.
pub fn written_families<'a>(
    endpoints: impl IntoIterator<Item = &'a Endpoint>,
) -> Vec<(&'a str, Families)> {
    endpoints
        .into_iter()
        .map(|e| (e.raw.as_str(), e.families))
        .collect()
}

/// A directory with a FIFO `fifo{ext}` and a sparse 100 MiB file `big{ext}`: what a
/// hostile configuration names to block a reader or make it read without end.
pub fn hostile_dir(ext: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join(format!("fifo{ext}"));
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    std::fs::File::create(dir.path().join(format!("big{ext}")))
        .unwrap()
        .set_len(100 << 20)
        .unwrap();
    dir
}

/// `parse` answers at once, and refuses [`hostile_dir`]'s files unread.
#[track_caller]
pub fn refuses_hostile<T>(
    ext: &str,
    problems: fn(&T) -> &[String],
    parse: impl FnOnce() -> T,
) -> T {
    let start = std::time::Instant::now();
    let out = parse();
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
    assert_mentions(problems(&out), &format!("fifo{ext}: not a regular file"));
    assert_mentions(problems(&out), &format!("big{ext}: larger than"));
    out
}

/// The lines of a file of sockets `ss -ltn` listed (`ADDRESS:PORT`), sorted.
pub fn opened_sockets(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut opened: Vec<String> = text.lines().map(str::to_owned).collect();
    opened.sort();
    opened
}

/// How `ss -ltn` names the socket `e` opens on `port`, with `net.ipv6.bindv6only` at
/// `bindv6only` and Apache built with IPv4-mapped addresses (Debian's): `*` for a
/// socket that takes both families.
pub fn ss_name(e: &Endpoint, port: u16, bindv6only: bool) -> String {
    let dual = match e.families {
        Families::Both | Families::BothIfV4Mapped => true,
        Families::BothUnlessBindv6only => !bindv6only,
        _ => false,
    };
    let host = match &e.addr {
        _ if dual => "*".to_owned(),
        BindAddr::V4(ip) => ip.to_string(),
        BindAddr::V6(ip) => format!("[{ip}]"),
        other => format!("{other:?}"),
    };
    format!("{host}:{port}")
}
