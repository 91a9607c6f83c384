//! Fields of JSON that comes from outside (an API's answer): a field that is missing or
//! of another type than expected is absent, never an error, never a panic.

use serde_json::{Map, Value};
use std::str::FromStr;

/// The elements of the array `v`; none when it is absent or no array.
pub(crate) fn elements(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// The members of the object `v`; none when it is absent or no object.
pub(crate) fn members(v: Option<&Value>) -> impl Iterator<Item = (&String, &Value)> {
    v.and_then(Value::as_object).into_iter().flat_map(Map::iter)
}

/// The string `v` parsed (an address); `None` when it is absent, no string, or does not
/// parse.
pub(crate) fn parsed<T: FromStr>(v: Option<&Value>) -> Option<T> {
    v.and_then(Value::as_str).and_then(|s| s.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::net::IpAddr;

    #[test]
    fn a_field_of_another_type_is_absent() {
        let v = json!({"a": [1, 2], "o": {"k": 1}, "ip": "192.0.2.1", "bad": "x"});
        assert_eq!(elements(v.get("a")).len(), 2);
        for other in ["o", "ip", "missing"] {
            assert!(elements(v.get(other)).is_empty(), "{other}");
        }
        assert_eq!(
            members(v.get("o"))
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>(),
            ["k"]
        );
        assert_eq!(members(v.get("a")).count(), 0);
        assert_eq!(parsed(v.get("ip")), Some(IpAddr::from([192, 0, 2, 1])));
        assert_eq!(parsed::<IpAddr>(v.get("bad")), None);
        assert_eq!(parsed::<IpAddr>(v.get("a")), None);
    }
}
