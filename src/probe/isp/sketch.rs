//! A small fingerprint of a page's content that survives nonces and timestamps, so that
//! `isp.http_parity` can compare two answers as a visitor would ("the same page") rather
//! than byte for byte (a hash makes every dynamic page a false alarm).
//!
//! The text is cut into words (runs of letters and digits); a word holding a digit
//! (dates, times, counters, ids) or 16 characters or more (tokens, nonces, hashes) is
//! replaced by one placeholder, since those change on every request. Every run of
//! `SHINGLE` words is hashed (64-bit FNV-1a, fixed across builds), and the `KEEP`
//! smallest distinct hashes are kept: a bottom-k sketch, from which the Jaccard
//! similarity of two pages' shingle sets is estimated (Broder, "On the resemblance and
//! containment of documents", 1997). Internet.nl treats pages within 10 % of each other
//! as the same website; the check does the same with this estimate.

/// Words per shingle.
const SHINGLE: usize = 4;
/// Hashes kept per page.
const KEEP: usize = crate::facts::isp::SKETCH_KEEP;
/// A word this long is taken for a token or nonce.
const LONG_WORD: usize = 16;

fn fnv1a(bytes: impl IntoIterator<Item = u8>, mut h: u64) -> u64 {
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// The page's words, the volatile ones replaced by `#`.
fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            if w.chars().any(|c| c.is_ascii_digit()) || w.chars().count() >= LONG_WORD {
                "#"
            } else {
                w
            }
        })
        .collect()
}

/// The bottom-`KEEP` sketch of `body`, sorted; empty for a body without words.
pub fn sketch(body: &[u8]) -> Vec<u64> {
    let text = String::from_utf8_lossy(body);
    let words = words(&text);
    let mut hashes: Vec<u64> = if words.len() < SHINGLE {
        if words.is_empty() {
            return Vec::new();
        }
        vec![shingle_hash(&words)]
    } else {
        words.windows(SHINGLE).map(shingle_hash).collect()
    };
    hashes.sort_unstable();
    hashes.dedup();
    hashes.truncate(KEEP);
    hashes
}

fn shingle_hash(ws: &[&str]) -> u64 {
    ws.iter().fold(FNV_OFFSET, |h, w| {
        // A separator no word holds, so ("ab", "c") and ("a", "bc") differ.
        fnv1a(w.to_lowercase().bytes().chain([0u8]), h)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::isp::sketch_similarity;

    fn page(nonce: &str, time: &str, extra: &str) -> String {
        format!(
            "<html><head><title>The shop</title><meta name=csrf content=\"{nonce}\"></head>\
             <body><h1>Welcome to the shop</h1><p>Fresh bread, cheese and wine every day, \
             delivered to your door.</p><p>Rendered at {time}.</p>{extra}\
             <ul><li>Bread</li><li>Cheese</li><li>Wine</li><li>Olives</li></ul></body></html>"
        )
    }

    #[test]
    fn nonces_and_timestamps_do_not_count() {
        let a = sketch(page("Zx8fQ2LmA9bT7kPw3nRt", "2026-11-30 02:15:07", "").as_bytes());
        let b = sketch(page("qW4eR6tY8uI0oP2aS5dF", "2026-11-30 02:15:09", "").as_bytes());
        assert_eq!(sketch_similarity(&a, &b), Some(1.0));
    }

    #[test]
    fn another_page_is_far_apart() {
        let a = sketch(page("x", "now", "").as_bytes());
        let other = "<html><body><h1>Maintenance</h1><p>This site is being moved to a new \
                     server and will be back soon.</p></body></html>";
        let b = sketch(other.as_bytes());
        let s = sketch_similarity(&a, &b).expect("both have words");
        assert!(s < 0.2, "{s}");
        // A paragraph more is a smaller change, but more than a nonce.
        let c = sketch(
            page(
                "x",
                "now",
                "<p>Only over IPv6: a banner saying the shop is closed today.</p>",
            )
            .as_bytes(),
        );
        let s = sketch_similarity(&a, &c).expect("both have words");
        assert!(s < 0.9 && s > 0.3, "{s}");
    }

    #[test]
    fn empty_and_tiny_bodies() {
        assert!(sketch(b"").is_empty());
        assert_eq!(sketch(b"ok").len(), 1);
        assert_eq!(sketch_similarity(&[], &[]), None);
    }

    proptest::proptest! {
        #![proptest_config(crate::testutil::inputs::config())]

        #[test]
        fn fuzz_sketch(body in crate::testutil::inputs::input("http", 20)) {
            let s = sketch(&body);
            assert!(s.len() <= KEEP && s.windows(2).all(|w| w[0] < w[1]));
            if !s.is_empty() {
                assert_eq!(sketch_similarity(&s, &s), Some(1.0));
            }
        }
    }
}
