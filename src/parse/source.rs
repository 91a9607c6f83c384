//! Where configuration texts come from, and the bounds every include-following parser
//! keeps: configuration files are untrusted input, so no parse may read without end,
//! follow an include cycle, or block on a FIFO.

use super::{glob_match, normalize_lexically};
use crate::sanitize::clean;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Bounds on what one parse may read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Larger files are skipped (reported as a problem) rather than parsed truncated,
    /// since half a file would give a wrong picture.
    pub max_file_bytes: usize,
    /// Distinct files read: a hosting server's Apache has a file per site, thousands.
    pub max_files: usize,
    /// Nested includes below the main file.
    pub max_include_depth: usize,
    /// Nested blocks, so hostile input cannot grow a context stack without end.
    pub max_block_depth: usize,
    /// Text parsed in all, counting a file again each time it is included: a file
    /// included many times from files included many times would otherwise multiply.
    pub max_total_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 4 << 20,
            max_files: 4096,
            max_include_depth: 16,
            max_block_depth: 64,
            max_total_bytes: 64 << 20,
        }
    }
}

/// Problems kept per parse; a garbage file could otherwise produce one per line.
pub const MAX_PROBLEMS: usize = 200;
/// Entries read from one directory when expanding a glob or a directory include.
const MAX_DIR_ENTRIES: usize = 4096;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReadError {
    NotFound,
    /// A directory, socket, FIFO or device: never opened, since reading one could block.
    NotAFile,
    TooLarge {
        limit: usize,
    },
    Io(String),
}

impl ReadError {
    pub fn describe(&self) -> String {
        match self {
            ReadError::NotFound => "no such file".into(),
            ReadError::NotAFile => "not a regular file".into(),
            ReadError::TooLarge { limit } => format!("larger than {limit} bytes, skipped"),
            ReadError::Io(e) => clean(e),
        }
    }
}

/// Where configuration texts come from: the real filesystem, or a map in tests.
pub trait ConfigSource {
    fn read(&self, path: &Path) -> Result<String, ReadError>;
    /// Full paths of the entries of `dir`, in any order; empty if it cannot be listed.
    fn list_dir(&self, dir: &Path) -> Vec<PathBuf>;
    /// Whether `path` is a directory (Apache includes a directory's files, HAProxy
    /// reads a directory's `*.cfg`).
    fn is_dir(&self, path: &Path) -> bool;
    /// Where a symbolic link points, if `path` is one (a systemd unit linked to
    /// `/dev/null` is masked).
    fn read_link(&self, path: &Path) -> Option<PathBuf>;
}

/// Reads the real filesystem, each file capped at `max_file_bytes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FsSource {
    pub max_file_bytes: usize,
}

impl FsSource {
    pub fn new(limits: &Limits) -> Self {
        FsSource {
            max_file_bytes: limits.max_file_bytes,
        }
    }
}

impl Default for FsSource {
    fn default() -> Self {
        FsSource::new(&Limits::default())
    }
}

impl ConfigSource for FsSource {
    fn read(&self, path: &Path) -> Result<String, ReadError> {
        let io = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::NotFound => ReadError::NotFound,
            _ => ReadError::Io(format!("{}: {e}", path.display())),
        };
        // Check before opening: opening a FIFO for reading blocks until a writer appears.
        let meta = std::fs::metadata(path).map_err(io)?;
        if !meta.is_file() {
            return Err(ReadError::NotAFile);
        }
        let limit = self.max_file_bytes;
        if meta.len() > limit as u64 {
            return Err(ReadError::TooLarge { limit });
        }
        let file = std::fs::File::open(path).map_err(io)?;
        let mut bytes = Vec::new();
        // The file may have grown since the metadata call; read one byte past the cap
        // to notice.
        file.take(limit as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() > limit {
            return Err(ReadError::TooLarge { limit });
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn list_dir(&self, dir: &Path) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        entries
            .take(MAX_DIR_ENTRIES)
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect()
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }

    fn read_link(&self, path: &Path) -> Option<PathBuf> {
        std::fs::read_link(path).ok()
    }
}

/// In-memory files, for tests.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MapSource {
    pub files: BTreeMap<PathBuf, String>,
    pub links: BTreeMap<PathBuf, PathBuf>,
}

#[cfg(test)]
impl MapSource {
    pub fn new() -> Self {
        MapSource::default()
    }

    pub fn with(mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        self.files.insert(path.into(), text.into());
        self
    }

    /// [`with`](Self::with) each of `files`, `(path, text)`.
    pub fn with_files<P: Into<PathBuf>, T: Into<String>>(
        self,
        files: impl IntoIterator<Item = (P, T)>,
    ) -> Self {
        files
            .into_iter()
            .fold(self, |src, (path, text)| src.with(path, text))
    }

    /// A symbolic link at `path` to `target` (read as its target, like the filesystem).
    pub fn link(mut self, path: impl Into<PathBuf>, target: impl Into<PathBuf>) -> Self {
        self.links.insert(path.into(), target.into());
        self
    }
}

#[cfg(test)]
impl ConfigSource for MapSource {
    fn read(&self, path: &Path) -> Result<String, ReadError> {
        if let Some(target) = self.links.get(path) {
            return match self.files.get(target) {
                Some(t) => Ok(t.clone()),
                None if target.starts_with("/dev") => Err(ReadError::NotAFile),
                None => Err(ReadError::NotFound),
            };
        }
        self.files.get(path).cloned().ok_or(ReadError::NotFound)
    }

    fn list_dir(&self, dir: &Path) -> Vec<PathBuf> {
        let mut out: BTreeSet<PathBuf> = BTreeSet::new();
        for p in self.files.keys().chain(self.links.keys()) {
            // Subdirectories are entries too, as the filesystem lists them.
            if let Ok(rest) = p.strip_prefix(dir)
                && let Some(first) = rest.components().next()
            {
                out.insert(dir.join(first));
            }
        }
        out.into_iter().collect()
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.files
            .keys()
            .chain(self.links.keys())
            .any(|p| p != path && p.starts_with(path))
    }

    fn read_link(&self, path: &Path) -> Option<PathBuf> {
        self.links.get(path).cloned()
    }
}

fn shown(path: &Path) -> String {
    clean(&path.display().to_string())
}

/// `file:line`, cleaned, for problem messages.
pub fn at(file: &Path, line: usize) -> String {
    clean(&format!("{}:{line}", file.display()))
}

/// What a server's configuration is read with: its files, the server's environment (for
/// the variables the configuration names) and the bounds.
pub struct Input<'a> {
    pub src: &'a dyn ConfigSource,
    pub env: &'a BTreeMap<String, String>,
    pub limits: &'a Limits,
}

impl<'a> Input<'a> {
    pub fn new(
        src: &'a dyn ConfigSource,
        env: &'a BTreeMap<String, String>,
        limits: &'a Limits,
    ) -> Self {
        Input { src, env, limits }
    }

    /// A reader for one parse of it.
    pub fn reader(&self) -> Reader<'a> {
        Reader::new(self.src, self.limits)
    }
}

/// The bookkeeping of one parse that follows includes: the files read, the include
/// chain (for cycles and depth), the file and byte budgets, and the problems found.
pub struct Reader<'a> {
    pub src: &'a dyn ConfigSource,
    pub limits: &'a Limits,
    /// The include chain from the main file down.
    chain: Vec<PathBuf>,
    distinct: BTreeSet<PathBuf>,
    /// Every file read, in the order first read.
    pub files: Vec<PathBuf>,
    total_bytes: usize,
    budget_reported: bool,
    pub problems: Vec<String>,
}

impl<'a> Reader<'a> {
    pub fn new(src: &'a dyn ConfigSource, limits: &'a Limits) -> Self {
        Reader {
            src,
            limits,
            chain: Vec::new(),
            distinct: BTreeSet::new(),
            files: Vec::new(),
            total_bytes: 0,
            budget_reported: false,
            problems: Vec::new(),
        }
    }

    pub fn problem(&mut self, msg: String) {
        let n = self.problems.len();
        if n < MAX_PROBLEMS {
            self.problems.push(clean(&msg));
        } else if n == MAX_PROBLEMS {
            self.problems.push("further problems not listed".to_owned());
        }
    }

    /// Reported once, and past the cap: an incomplete read must never go unmentioned.
    fn budget_problem(&mut self, msg: String) {
        if !self.budget_reported {
            self.budget_reported = true;
            self.problems.push(clean(&msg));
        }
    }

    /// The text of `path`, entered on the include chain, or `None` (with the reason
    /// among the problems) when it cannot or may not be read. `origin` is where the
    /// include naming it stands, for messages. Every `Some` needs a [`leave`](Self::leave).
    pub fn enter(&mut self, path: &Path, origin: Option<&str>) -> Option<String> {
        let whence = origin.map(|o| format!("{o}: ")).unwrap_or_default();
        let shown = shown(path);
        if self.chain.len() > self.limits.max_include_depth {
            let limit = self.limits.max_include_depth;
            self.problem(format!(
                "{whence}includes nested deeper than {limit}, {shown} not read"
            ));
            return None;
        }
        if self.chain.iter().any(|p| p == path) {
            self.problem(format!("{whence}include cycle: {shown} includes itself"));
            return None;
        }
        if !self.distinct.contains(path) && self.distinct.len() >= self.limits.max_files {
            let limit = self.limits.max_files;
            self.budget_problem(format!(
                "{whence}more than {limit} configuration files, the rest not read"
            ));
            return None;
        }
        let text = match self.src.read(path) {
            Ok(text) => text,
            Err(e) => {
                self.problem(format!("{whence}{shown}: {}", e.describe()));
                return None;
            }
        };
        if text.len() > self.limits.max_file_bytes {
            let e = ReadError::TooLarge {
                limit: self.limits.max_file_bytes,
            };
            self.problem(format!("{whence}{shown}: {}", e.describe()));
            return None;
        }
        if self.total_bytes.saturating_add(text.len()) > self.limits.max_total_bytes {
            let limit = self.limits.max_total_bytes;
            self.budget_problem(format!(
                "{whence}more than {limit} bytes of configuration in all, the rest not read"
            ));
            return None;
        }
        self.total_bytes += text.len();
        if self.distinct.insert(path.to_path_buf()) {
            self.files.push(path.to_path_buf());
        }
        self.chain.push(path.to_path_buf());
        Some(text)
    }

    /// Leave the file last [`enter`](Self::enter)ed.
    pub fn leave(&mut self) {
        self.chain.pop();
    }

    /// The files read and the problems found, for the parse's output.
    pub fn finish(self) -> (Vec<PathBuf>, Vec<String>) {
        (self.files, self.problems)
    }

    /// The entries of `dir` whose names match the glob `pattern`, sorted bytewise (the
    /// C locale's order, which glob(3), nginx and Apache use). A leading dot must be
    /// matched literally, as glob(3) without GLOB_PERIOD and fnmatch with FNM_PERIOD do.
    pub fn glob(&self, dir: &Path, pattern: &[u8]) -> Vec<PathBuf> {
        let hidden_ok = pattern.first() == Some(&b'.');
        let mut matches: Vec<PathBuf> = self
            .src
            .list_dir(dir)
            .into_iter()
            .filter(|p| {
                p.file_name().is_some_and(|n| {
                    let n = n.as_encoded_bytes();
                    (hidden_ok || n.first() != Some(&b'.')) && glob_match(pattern, n)
                })
            })
            .map(|p| normalize_lexically(&p))
            .collect();
        matches.sort();
        matches.dedup();
        matches
    }
}

/// A parser that follows includes: what it makes of one file's text is its own, the
/// reading (bounds, include chain, problems) goes through its [`Reader`].
pub trait Walk<'a> {
    /// What one file yields: nothing for the parsers that fill their output as they go;
    /// the Caddyfile's tokens, which its imports splice in where they stand.
    type Out: Default;

    fn reader(&mut self) -> &mut Reader<'a>;

    fn walk_text(&mut self, file: &Path, text: &str) -> Self::Out;

    fn problem(&mut self, msg: String) {
        self.reader().problem(msg);
    }

    /// `origin` is where the include naming this file stands, for messages.
    fn walk_file(&mut self, path: &Path, origin: Option<&str>) -> Self::Out {
        let Some(text) = self.reader().enter(path, origin) else {
            return Self::Out::default();
        };
        let out = self.walk_text(path, &text);
        self.reader().leave();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::test_support::hostile_dir;
    use crate::testutil::paths;

    #[test]
    fn fifos_devices_and_huge_files_are_refused_unread() {
        let dir = hostile_dir("");
        let (fifo, big) = (dir.path().join("fifo"), dir.path().join("big"));
        let src = FsSource::default();
        let start = std::time::Instant::now();
        assert_eq!(src.read(&fifo), Err(ReadError::NotAFile));
        // A sparse 100 MB file: skipped, not read up to the limit.
        assert_eq!(src.read(&big), Err(ReadError::TooLarge { limit: 4 << 20 }));
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
        assert_eq!(src.read(Path::new("/dev/zero")), Err(ReadError::NotAFile));
        assert_eq!(src.read(dir.path()), Err(ReadError::NotAFile));
        assert!(src.is_dir(dir.path()) && !src.is_dir(&fifo));
    }

    #[test]
    fn map_source_lists_subdirectories_and_links() {
        let src = MapSource::new()
            .with("/a/b/c.conf", "x")
            .with("/a/d.conf", "y")
            .link("/a/e.conf", "/a/d.conf")
            .link("/a/masked", "/dev/null");
        assert_eq!(
            src.list_dir(Path::new("/a")),
            paths(&["/a/b", "/a/d.conf", "/a/e.conf", "/a/masked"])
        );
        assert!(src.is_dir(Path::new("/a/b")) && !src.is_dir(Path::new("/a/d.conf")));
        assert_eq!(src.read(Path::new("/a/e.conf")), Ok("y".into()));
        assert_eq!(src.read(Path::new("/a/masked")), Err(ReadError::NotAFile));
        assert_eq!(
            src.read_link(Path::new("/a/masked")),
            Some(PathBuf::from("/dev/null"))
        );
    }

    #[test]
    fn glob_is_sorted_and_skips_hidden_files() {
        // Only the names matter.
        let names = ["/g/b.conf", "/g/a.conf", "/g/.h.conf", "/g/B.conf"];
        let src = MapSource::new().with_files(names.map(|p| (p, "")));
        let limits = Limits::default();
        let r = Reader::new(&src, &limits);
        assert_eq!(
            r.glob(Path::new("/g"), b"*.conf"),
            paths(&["/g/B.conf", "/g/a.conf", "/g/b.conf"])
        );
        assert_eq!(r.glob(Path::new("/g"), b".*"), paths(&["/g/.h.conf"]));
    }
}
