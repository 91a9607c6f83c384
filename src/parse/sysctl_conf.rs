//! sysctl configuration files: what `systemd-sysctl` will set at the next boot, so a
//! `disable_ipv6 = 1` waiting in a file is found before it bites.
//!
//! The pure core ([`application_order`], [`effective_settings`], [`last_assignment`])
//! mirrors systemd-sysctl; [`load_system`] is the only part that reads files.

use super::{glob_match, has_glob_chars, normalize_lexically};
use crate::sanitize::clean;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

/// systemd-sysctl's search path, highest priority first. `/lib/sysctl.d` is searched by
/// procps and by systemd built with split /usr; on merged-/usr systems it is the same
/// directory as `/usr/lib/sysctl.d`, which the name rule makes harmless.
pub const SYSCTL_DIRS: [&str; 5] = [
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
];
pub const SYSCTL_CONF: &str = "/etc/sysctl.conf";
/// Debian's procps ships this as a symlink to `../sysctl.conf` so that systemd-sysctl,
/// which does not read sysctl.conf itself, applies it in this file's place.
pub const DEBIAN_LINK: &str = "/etc/sysctl.d/99-sysctl.conf";

const MAX_FILE_BYTES: u64 = 1 << 20;
const MAX_FILES: usize = 1000;
const MAX_PROBLEMS: usize = 200;
/// Symlinks followed for one file before giving up on a loop.
const MAX_SYMLINKS: usize = 32;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SysctlFile {
    /// The path as seen on the system (without the loader's root).
    pub path: PathBuf,
    pub text: String,
}

/// The configuration files in the order they are applied.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SysctlFiles {
    pub files: Vec<SysctlFile>,
    /// Files that could not be read, or limits reached.
    pub problems: Vec<String>,
}

#[cfg(test)]
impl SysctlFiles {
    pub fn settings(&self) -> Vec<SysctlSetting> {
        effective_settings(&self.files)
    }
}

use super::source::at;
use crate::facts::Place;
pub use crate::facts::SysctlSetting;

/// Which files are applied and in what order, from directory listings given highest
/// priority first: `(directory, [(file name, masked)])`, where masked means a symlink to
/// /dev/null (or another device). Like systemd's conf_files_list: only `*.conf` names
/// that are not hidden count, the first directory holding a name wins (a masked one then
/// applies nothing), and the winners are applied sorted by file name.
///
/// `/etc/sysctl.conf` comes last, as `sysctl --system` applies it, except when
/// `debian_symlink` says `/etc/sysctl.d/99-sysctl.conf` links to it: then it is applied
/// once, in that link's place, and listed under its real path `/etc/sysctl.conf`, the
/// file an administrator edits.
pub fn application_order(
    listing: &[(PathBuf, Vec<(String, bool)>)],
    sysctl_conf_exists: bool,
    debian_symlink: bool,
) -> Vec<PathBuf> {
    let mut winners: BTreeMap<&str, (&Path, bool)> = BTreeMap::new();
    for (dir, entries) in listing {
        for (name, masked) in entries {
            if is_config_name(name) {
                winners.entry(name).or_insert((dir, *masked));
            }
        }
    }
    let mut order = Vec::new();
    let mut conf_applied = false;
    for (name, (dir, masked)) in winners {
        if masked {
            continue;
        }
        let path = dir.join(name);
        if debian_symlink && path == Path::new(DEBIAN_LINK) {
            if sysctl_conf_exists {
                order.push(PathBuf::from(SYSCTL_CONF));
            }
            conf_applied = true;
            continue;
        }
        order.push(path);
    }
    if sysctl_conf_exists && !conf_applied {
        order.push(PathBuf::from(SYSCTL_CONF));
    }
    order
}

fn is_config_name(name: &str) -> bool {
    name.ends_with(".conf") && !name.starts_with('.') && !name.contains('/')
}

/// Every assignment (and exclusion) in `files`, which are in application order.
pub fn effective_settings(files: &[SysctlFile]) -> Vec<SysctlSetting> {
    parse_files(files).0
}

/// Lines systemd-sysctl would warn about and skip, with file:line (the parser's tests
/// read them; the check reports only the settings).
#[cfg(test)]
pub fn syntax_problems(files: &[SysctlFile]) -> Vec<String> {
    parse_files(files).1
}

fn parse_files(files: &[SysctlFile]) -> (Vec<SysctlSetting>, Vec<String>) {
    let mut settings = Vec::new();
    let mut problems = Vec::new();
    for f in files {
        for (n, line) in f.text.lines().enumerate() {
            match parse_line(line) {
                Line::Skip => {}
                Line::Bad(why) => {
                    if problems.len() < MAX_PROBLEMS {
                        problems.push(format!("{}: {why}", at(&f.path, n + 1)));
                    }
                }
                Line::Setting {
                    key,
                    value,
                    ignore_failure,
                } => settings.push(SysctlSetting {
                    key,
                    exclude: value.is_none(),
                    value: value.unwrap_or_default(),
                    at: Place::new(&f.path, n + 1),
                    ignore_failure,
                }),
            }
        }
    }
    (settings, problems)
}

enum Line {
    Skip,
    Bad(&'static str),
    Setting {
        key: String,
        /// `None` for an exclusion.
        value: Option<String>,
        ignore_failure: bool,
    },
}

/// systemd's `strstrip` whitespace.
fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

/// One line, following systemd-sysctl's parse_file: comments only as the first
/// non-blank character (a `#` after a value is part of the value, and the kernel will
/// then refuse it), a leading `-` either marks an assignment whose failure is ignored or,
/// without `=`, an exclusion from globs.
fn parse_line(line: &str) -> Line {
    let l = trim(line);
    if l.is_empty() || l.starts_with(['#', ';']) {
        return Line::Skip;
    }
    let dash = l.strip_prefix('-');
    let (key, value) = match l.split_once('=') {
        Some((k, v)) => (k, Some(trim(v).to_owned())),
        None if dash.is_some() => (l, None),
        None => return Line::Bad("not an assignment, ignored"),
    };
    let (key, ignore_failure) = match key.strip_prefix('-') {
        Some(k) => (k, value.is_some()),
        None => (key, false),
    };
    let key = normalize_key(trim(key));
    if key.is_empty() {
        return Line::Bad("no key, ignored");
    }
    Line::Setting {
        key,
        value,
        ignore_failure,
    }
}

/// Dot form of a key. systemd: "if the first separator is a slash, remaining slashes and
/// dots are left intact; if the first separator is a dot, dots and slashes are
/// interchanged" (into its internal slash form). The dot form is that slash form with
/// `/` and `.` swapped, so a key whose first separator is a slash is swapped here, and
/// empty components (`//`, a leading `/`) are dropped as path_simplify would.
pub fn normalize_key(key: &str) -> String {
    let slash_form = key
        .find(['/', '.'])
        .is_some_and(|i| key[i..].starts_with('/'));
    let dotted: String = if slash_form {
        key.chars()
            .map(|c| match c {
                '/' => '.',
                '.' => '/',
                c => c,
            })
            .collect()
    } else {
        key.to_owned()
    };
    dotted
        .split('.')
        .filter(|c| !c.is_empty())
        .collect::<Vec<_>>()
        .join(".")
}

/// Whether glob `pattern` matches `key`, both in dot form. glob(3) runs over
/// /proc/sys paths, so a wildcard never spans a separator; a `/` (a dot inside a name)
/// is an ordinary character.
fn key_matches(pattern: &str, key: &str) -> bool {
    let (mut p, mut k) = (pattern.split('.'), key.split('.'));
    loop {
        match (p.next(), k.next()) {
            (None, None) => return true,
            (Some(pc), Some(kc)) if glob_match(pc.as_bytes(), kc.as_bytes()) => {}
            _ => return false,
        }
    }
}

/// The assignment that decides `key` (a concrete key, in either separator form) once
/// every file is applied, or `None` if no file sets it.
///
/// systemd-sysctl keeps an ordered map from key string to value: a later assignment
/// to the same string replaces the earlier one and moves to the end, unless the value
/// is the same, when the earlier one stays where it was. When applying, a glob entry
/// skips every key that has an entry of its own in the map (an explicit assignment or
/// a `-key` exclusion), wherever that entry came from, so an explicit setting beats a
/// glob even from an earlier file; among globs the last in map order writes last.
pub fn last_assignment<'a>(settings: &'a [SysctlSetting], key: &str) -> Option<&'a SysctlSetting> {
    let key = normalize_key(key);
    // key string → (place in map order, index of the setting kept)
    let mut map: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, s) in settings.iter().enumerate() {
        if let Some(&(_, kept)) = map.get(s.key.as_str()) {
            let k = &settings[kept];
            if k.exclude == s.exclude && k.value == s.value {
                continue;
            }
        }
        map.insert(&s.key, (i, i));
    }
    if let Some(&(_, i)) = map.get(key.as_str()) {
        let s = &settings[i];
        return (!s.exclude).then_some(s);
    }
    if has_glob_chars(&key) {
        return None;
    }
    map.iter()
        .filter(|(k, (_, i))| has_glob_chars(k) && !settings[*i].exclude && key_matches(k, &key))
        .max_by_key(|(_, (place, _))| *place)
        .map(|(_, (_, i))| &settings[*i])
}

// ---------------------------------------------------------------------------------
// Loading from a (possibly relocated) root

enum Resolved {
    File(PathBuf),
    /// /dev/null or another device: applies nothing, and is never opened.
    Device,
    Dir,
    Missing,
    Other,
}

/// `logical` (an absolute path on the system) under `root`.
fn physical(root: &Path, logical: &Path) -> PathBuf {
    root.join(logical.strip_prefix("/").unwrap_or(logical))
}

/// Follow the last component's symlinks with absolute targets taken inside `root`,
/// so a test tree (or a mounted image) resolves like the real system would.
fn resolve(root: &Path, logical: &Path) -> Resolved {
    use std::os::unix::fs::FileTypeExt;
    let mut cur = normalize_lexically(logical);
    for _ in 0..MAX_SYMLINKS {
        if cur == Path::new("/dev/null") {
            return Resolved::Device;
        }
        let phys = physical(root, &cur);
        let Ok(meta) = std::fs::symlink_metadata(&phys) else {
            return Resolved::Missing;
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            let Ok(target) = std::fs::read_link(&phys) else {
                return Resolved::Missing;
            };
            let parent = cur.parent().unwrap_or(Path::new("/")).to_path_buf();
            cur = normalize_lexically(&parent.join(target));
            continue;
        }
        return if ft.is_file() {
            Resolved::File(phys)
        } else if ft.is_dir() {
            Resolved::Dir
        } else if ft.is_char_device() || ft.is_block_device() {
            Resolved::Device
        } else {
            Resolved::Other
        };
    }
    Resolved::Missing
}

fn is_debian_link(root: &Path) -> bool {
    let link = physical(root, Path::new(DEBIAN_LINK));
    let Ok(target) = std::fs::read_link(link) else {
        return false;
    };
    normalize_lexically(&Path::new("/etc/sysctl.d").join(target)) == Path::new(SYSCTL_CONF)
}

fn read_capped(phys: &Path) -> Result<String, String> {
    let file = std::fs::File::open(phys).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("larger than {MAX_FILE_BYTES} bytes, skipped"));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn problem(out: &mut SysctlFiles, msg: String) {
    if out.problems.len() < MAX_PROBLEMS {
        out.problems.push(clean(&msg));
    }
}

/// Read the sysctl configuration under `root` ("/" normally) in application order.
/// Paths in the result are as seen on the system, without `root`.
pub fn load_system(root: &Path) -> SysctlFiles {
    let mut out = SysctlFiles::default();
    let mut budget = MAX_FILES;
    let mut listing = Vec::new();
    for dir in SYSCTL_DIRS {
        let Ok(entries) = std::fs::read_dir(physical(root, Path::new(dir))) else {
            continue;
        };
        let mut names = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                problem(
                    &mut out,
                    format!("{dir}: a file name is not UTF-8, skipped"),
                );
                continue;
            };
            if !is_config_name(name) {
                continue;
            }
            if budget == 0 {
                problem(
                    &mut out,
                    format!("more than {MAX_FILES} files, the rest not read"),
                );
                break;
            }
            budget -= 1;
            match resolve(root, &Path::new(dir).join(name)) {
                Resolved::Device => names.push((name.to_owned(), true)),
                // systemd lists only files and symlinks; a dangling symlink still takes
                // the name, and then fails to open.
                Resolved::Dir => {}
                _ => names.push((name.to_owned(), false)),
            }
        }
        listing.push((PathBuf::from(dir), names));
    }
    let conf_exists = matches!(resolve(root, Path::new(SYSCTL_CONF)), Resolved::File(_));
    for path in application_order(&listing, conf_exists, is_debian_link(root)) {
        let read = match resolve(root, &path) {
            Resolved::File(phys) => read_capped(&phys),
            Resolved::Device => Ok(String::new()),
            Resolved::Missing => Err("no such file (dangling symlink?)".into()),
            Resolved::Dir | Resolved::Other => Err("not a regular file".into()),
        };
        match read {
            Ok(text) => out.files.push(SysctlFile { path, text }),
            Err(e) => problem(&mut out, format!("{}: {e}", path.display())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    struct Tree(tempfile::TempDir);

    impl Tree {
        fn new() -> Self {
            Tree(tempfile::tempdir().unwrap())
        }
        fn root(&self) -> &Path {
            self.0.path()
        }
        fn file(&self, logical: &str, text: &str) -> &Self {
            let p = physical(self.root(), Path::new(logical));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
            self
        }
        fn link(&self, logical: &str, target: &str) -> &Self {
            let p = physical(self.root(), Path::new(logical));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            symlink(target, p).unwrap();
            self
        }
        fn load(&self) -> SysctlFiles {
            load_system(self.root())
        }
    }

    fn paths(f: &SysctlFiles) -> Vec<&str> {
        f.files.iter().map(|f| f.path.to_str().unwrap()).collect()
    }

    fn file(path: &str, text: &str) -> SysctlFile {
        SysctlFile {
            path: path.into(),
            text: text.into(),
        }
    }

    fn value<'a>(s: &'a [SysctlSetting], key: &str) -> Option<&'a str> {
        last_assignment(s, key).map(|s| s.value.as_str())
    }

    #[test]
    fn order_across_directories_is_by_file_name() {
        let t = Tree::new();
        t.file("/usr/lib/sysctl.d/10-b.conf", "a = 1\n")
            .file("/etc/sysctl.d/20-a.conf", "a = 2\n")
            .file("/run/sysctl.d/15-c.conf", "a = 3\n")
            .file("/usr/local/lib/sysctl.d/30-d.conf", "a = 4\n")
            .file("/lib/sysctl.d/05-e.conf", "a = 5\n")
            .file("/etc/sysctl.d/README", "not a config\n")
            .file("/etc/sysctl.d/.hidden.conf", "a = 6\n")
            .file("/etc/sysctl.d/old.conf.dpkg-old", "a = 7\n");
        std::fs::create_dir_all(physical(t.root(), Path::new("/etc/sysctl.d/dir.conf"))).unwrap();
        let f = t.load();
        assert!(f.problems.is_empty(), "{:?}", f.problems);
        assert_eq!(
            paths(&f),
            vec![
                "/lib/sysctl.d/05-e.conf",
                "/usr/lib/sysctl.d/10-b.conf",
                "/run/sysctl.d/15-c.conf",
                "/etc/sysctl.d/20-a.conf",
                "/usr/local/lib/sysctl.d/30-d.conf",
            ]
        );
        assert_eq!(value(&f.settings(), "a"), Some("4"));
    }

    #[test]
    fn earlier_directory_masks_same_name() {
        let t = Tree::new();
        t.file(
            "/usr/lib/sysctl.d/50-ipv6.conf",
            "net.ipv6.conf.all.disable_ipv6 = 1\n",
        )
        .link("/etc/sysctl.d/50-ipv6.conf", "/dev/null")
        .file("/usr/lib/sysctl.d/60-x.conf", "x = vendor\n")
        .file("/run/sysctl.d/60-x.conf", "x = runtime\n");
        let f = t.load();
        assert_eq!(paths(&f), vec!["/run/sysctl.d/60-x.conf"]);
        let s = f.settings();
        assert_eq!(value(&s, "net.ipv6.conf.all.disable_ipv6"), None);
        assert_eq!(value(&s, "x"), Some("runtime"));
    }

    #[test]
    fn sysctl_conf_comes_last_without_the_debian_link() {
        let t = Tree::new();
        t.file("/etc/sysctl.conf", "net.ipv6.conf.all.disable_ipv6 = 1\n")
            .file(
                "/etc/sysctl.d/99-zzz.conf",
                "net.ipv6.conf.all.disable_ipv6 = 0\n",
            );
        let f = t.load();
        assert_eq!(
            paths(&f),
            vec!["/etc/sysctl.d/99-zzz.conf", "/etc/sysctl.conf"]
        );
        let s = f.settings();
        let last = last_assignment(&s, "net.ipv6.conf.all.disable_ipv6").unwrap();
        assert_eq!(
            (last.value.as_str(), last.at.file.to_str(), last.at.line),
            ("1", Some("/etc/sysctl.conf"), 1)
        );
    }

    #[test]
    fn debian_link_applies_sysctl_conf_once_in_its_place() {
        let t = Tree::new();
        t.file("/etc/sysctl.conf", "net.ipv6.conf.all.disable_ipv6 = 1\n")
            .link("/etc/sysctl.d/99-sysctl.conf", "../sysctl.conf")
            .file(
                "/etc/sysctl.d/99-zzz.conf",
                "net.ipv6.conf.all.disable_ipv6 = 0\n",
            )
            .file("/usr/lib/sysctl.d/50-default.conf", "kernel.sysrq = 16\n");
        let f = t.load();
        assert_eq!(
            paths(&f),
            vec![
                "/usr/lib/sysctl.d/50-default.conf",
                "/etc/sysctl.conf",
                "/etc/sysctl.d/99-zzz.conf"
            ]
        );
        assert_eq!(
            value(&f.settings(), "net.ipv6.conf.all.disable_ipv6"),
            Some("0")
        );

        // An absolute link target works the same; a dangling one applies nothing.
        let t = Tree::new();
        t.link("/etc/sysctl.d/99-sysctl.conf", "/etc/sysctl.conf");
        let f = t.load();
        assert!(f.files.is_empty(), "{:?}", f.files);
    }

    #[test]
    fn order_function_alone() {
        let listing = vec![
            (
                PathBuf::from("/etc/sysctl.d"),
                vec![
                    ("99-sysctl.conf".into(), false),
                    ("10-off.conf".into(), true),
                ],
            ),
            (
                PathBuf::from("/usr/lib/sysctl.d"),
                vec![
                    ("10-off.conf".into(), false),
                    ("50-a.conf".into(), false),
                    ("x.txt".into(), false),
                ],
            ),
        ];
        assert_eq!(
            application_order(&listing, true, true),
            vec![
                PathBuf::from("/usr/lib/sysctl.d/50-a.conf"),
                PathBuf::from("/etc/sysctl.conf")
            ]
        );
        // A plain file named 99-sysctl.conf is just another file, and sysctl.conf follows.
        assert_eq!(
            application_order(&listing, true, false),
            vec![
                PathBuf::from("/usr/lib/sysctl.d/50-a.conf"),
                PathBuf::from("/etc/sysctl.d/99-sysctl.conf"),
                PathBuf::from("/etc/sysctl.conf")
            ]
        );
        assert_eq!(application_order(&[], false, false), Vec::<PathBuf>::new());
    }

    #[test]
    fn slash_keys_and_dotted_interface_names() {
        let s = effective_settings(&[file(
            "/etc/sysctl.d/a.conf",
            "net/ipv6/conf/eth0.100/disable_ipv6 = 1\n/net/ipv4//ip_forward=1\nnet.ipv6.conf.eth1/200.accept_ra = 2\n",
        )]);
        assert_eq!(s[0].key, "net.ipv6.conf.eth0/100.disable_ipv6");
        assert_eq!(s[1].key, "net.ipv4.ip_forward");
        assert_eq!(value(&s, "net.ipv6.conf.eth0/100.disable_ipv6"), Some("1"));
        assert_eq!(value(&s, "net/ipv6/conf/eth0.100/disable_ipv6"), Some("1"));
        assert_eq!(value(&s, "net/ipv6/conf/eth1.200/accept_ra"), Some("2"));
        assert_eq!(value(&s, "net.ipv6.conf.eth0.disable_ipv6"), None);
    }

    #[test]
    fn explicit_keys_beat_globs_in_any_order() {
        let files = [
            file(
                "/etc/sysctl.d/10-a.conf",
                "net.ipv6.conf.eth0.disable_ipv6 = 0\n",
            ),
            file(
                "/etc/sysctl.d/20-b.conf",
                "net.ipv6.conf.*.disable_ipv6 = 1\n-net.ipv6.conf.lo.disable_ipv6\n",
            ),
        ];
        let s = effective_settings(&files);
        assert_eq!(s.len(), 3);
        assert!(s[2].exclude && !s[2].ignore_failure);
        assert_eq!(value(&s, "net.ipv6.conf.eth0.disable_ipv6"), Some("0"));
        let eth1 = last_assignment(&s, "net.ipv6.conf.eth1.disable_ipv6").unwrap();
        assert_eq!(
            (eth1.at.file.to_str(), eth1.at.line),
            (Some("/etc/sysctl.d/20-b.conf"), 1)
        );
        // Excluded from the glob, and nothing else sets it.
        assert_eq!(value(&s, "net.ipv6.conf.lo.disable_ipv6"), None);
        // A glob does not cross a separator, but does match a dot inside a name.
        assert_eq!(value(&s, "net.ipv6.conf.eth0/100.disable_ipv6"), Some("1"));
        assert_eq!(value(&s, "net.ipv6.conf.a.b.disable_ipv6"), None);
        // Looking up the glob itself finds the glob line.
        assert_eq!(value(&s, "net.ipv6.conf.*.disable_ipv6"), Some("1"));
    }

    #[test]
    fn later_globs_win_and_same_value_keeps_its_place() {
        let s = effective_settings(&[file(
            "/x.conf",
            "net.ipv6.conf.*.disable_ipv6 = 1\nnet.ipv6.conf.e*.disable_ipv6 = 0\n",
        )]);
        assert_eq!(value(&s, "net.ipv6.conf.eth0.disable_ipv6"), Some("0"));
        assert_eq!(value(&s, "net.ipv6.conf.wlan0.disable_ipv6"), Some("1"));

        // Re-assigning the first glob the same value does not move it after the second.
        let s = effective_settings(&[file(
            "/x.conf",
            "net.ipv6.conf.*.disable_ipv6 = 1\nnet.ipv6.conf.e*.disable_ipv6 = 0\nnet.ipv6.conf.*.disable_ipv6 = 1\n",
        )]);
        assert_eq!(value(&s, "net.ipv6.conf.eth0.disable_ipv6"), Some("0"));
        // A different value does move it.
        let s = effective_settings(&[file(
            "/x.conf",
            "net.ipv6.conf.*.disable_ipv6 = 1\nnet.ipv6.conf.e*.disable_ipv6 = 0\nnet.ipv6.conf.*.disable_ipv6 = 2\n",
        )]);
        assert_eq!(value(&s, "net.ipv6.conf.eth0.disable_ipv6"), Some("2"));
        // An explicit key set back after an exclusion is set again.
        let s = effective_settings(&[file("/x.conf", "-a.b\na.b = 3\n")]);
        assert_eq!(value(&s, "a.b"), Some("3"));
        let s = effective_settings(&[file("/x.conf", "a.b = 3\n-a.b\n")]);
        assert_eq!(value(&s, "a.b"), None);
    }

    #[test]
    fn line_syntax() {
        let files = [file(
            "/etc/sysctl.d/a.conf",
            "# comment\n; comment\n  \n\tkey.a=1\n-key.b = 2 \r\nkey.c = 3 # not a comment\nkey.d =\n\
             garbage line\n= 5\n-\n\u{0}\u{1b}[31m\nipv6.disable=1\n",
        )];
        let s = effective_settings(&files);
        let got: Vec<(&str, &str, usize, bool)> = s
            .iter()
            .map(|s| {
                (
                    s.key.as_str(),
                    s.value.as_str(),
                    s.at.line,
                    s.ignore_failure,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("key.a", "1", 4, false),
                ("key.b", "2", 5, true),
                ("key.c", "3 # not a comment", 6, false),
                ("key.d", "", 7, false),
                // A sysctl key of that name does not exist: ipv6.disable=1 belongs on the
                // kernel command line, and here it does not disable anything.
                ("ipv6.disable", "1", 12, false),
            ]
        );
        assert_eq!(value(&s, "net.ipv6.conf.all.disable_ipv6"), None);
        let problems = syntax_problems(&files);
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].starts_with("/etc/sysctl.d/a.conf:8: not an assignment"));
        assert!(problems.iter().all(|p| !p.contains('\u{1b}')));
    }

    #[test]
    fn oversized_and_unreadable_files_are_problems() {
        let t = Tree::new();
        t.file("/etc/sysctl.d/big.conf", &"# x\n".repeat(300_000))
            .link("/etc/sysctl.d/dangling.conf", "/nowhere/x.conf")
            .link("/etc/sysctl.d/loop.conf", "loop.conf")
            .file("/usr/lib/sysctl.d/dangling.conf", "x = 1\n")
            .file("/etc/sysctl.d/ok.conf", "y = 2\n");
        let f = t.load();
        assert_eq!(paths(&f), vec!["/etc/sysctl.d/ok.conf"]);
        assert_eq!(f.problems.len(), 3, "{:?}", f.problems);
        crate::testutil::assert_mentions(&f.problems, "big.conf: larger than");
        crate::testutil::assert_mentions(&f.problems, "dangling.conf: no such file");
    }

    #[test]
    fn missing_tree_is_empty() {
        let f = load_system(Path::new("/nonexistent-dsdoctor-root"));
        assert_eq!(f, SysctlFiles::default());
    }

    /// Up to 40 tokens of sysctl.d syntax, with globs and hostile bytes.
    fn sysctl_text() -> impl proptest::strategy::Strategy<Value = String> {
        const PIECES: &[&str] = &[
            "net",
            ".",
            "/",
            "=",
            "-",
            "*",
            "?",
            "[",
            "]",
            "!",
            "#",
            ";",
            " ",
            "\n",
            "\r",
            "eth0",
            "disable_ipv6",
            "1",
            "\u{0}",
            "é",
            "\t",
            "[!a-",
        ];
        crate::testutil::inputs::soup(PIECES.to_vec(), 40)
    }

    proptest::proptest! {
        #![proptest_config(crate::testutil::inputs::config())]

        #[test]
        fn fuzz_never_panics_on_random_input(text in sysctl_text()) {
            let s = effective_settings(&[file("/r.conf", &text)]);
            let _ = syntax_problems(&[file("/r.conf", &text)]);
            let _ = last_assignment(&s, &text);
            let _ = last_assignment(&s, "net.ipv6.conf.eth0.disable_ipv6");
        }
    }
}
