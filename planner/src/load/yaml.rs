//! YAML parsing into a small tree that keeps a fact Docker Compose's loader
//! uses but serde's data model hides: whether a scalar was quoted.
//!
//! Compose's YAML library reads an unquoted `0755` as the octal number 493
//! while a quoted `"0755"` stays a string, and that difference reaches the
//! config hash through `environment`. The YAML crate resolves both to the
//! same string, so the tree is built with a seed that looks at where the
//! scalar sits in the source text.

use std::cell::Cell;
use std::fmt;

use indexmap::IndexMap;
use serde::de::{
    DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

/// A parsed YAML value with string keys, in source order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(IndexMap<String, Node>),
    /// A value carrying a local tag such as `!reset` or `!override`.
    Tagged(String, Box<Node>),
}

impl Node {
    /// Describes the value in a few words for error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Node::Null => "null".to_owned(),
            Node::Bool(b) => format!("boolean {b}"),
            Node::Int(i) => format!("number {i}"),
            Node::Float(f) => format!("number {}", go_float(*f)),
            Node::Str(s) => format!("string {s:?}"),
            Node::Seq(_) => "a list".to_owned(),
            Node::Map(_) => "a mapping".to_owned(),
            Node::Tagged(tag, _) => format!("a value tagged !{tag}"),
        }
    }

    /// Converts a scalar to text the way Compose turns a YAML scalar into a
    /// string: numbers in Go's shortest form, `true`/`false`, null as `None`.
    pub(crate) fn scalar_text(&self) -> Option<String> {
        match self {
            Node::Bool(b) => Some(b.to_string()),
            Node::Int(i) => Some(i.to_string()),
            Node::Float(f) => Some(go_float(*f)),
            Node::Str(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl Node {
    /// Converts the value to JSON the way Compose prints extensions:
    /// mapping keys sorted, numbers in Go's form, tags dropped.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::from(*i),
            Node::Float(f) => serde_json::from_str(&go_float(*f)).unwrap_or(Value::Null),
            Node::Str(s) => Value::String(s.clone()),
            Node::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Node::Map(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .filter_map(|k| map.get(k).map(|v| (k.clone(), v.to_json())))
                        .collect(),
                )
            }
            Node::Tagged(_, inner) => inner.to_json(),
        }
    }
}

/// Formats a float like Go's `%v`: shortest representation, exponent form
/// below 1e-4 and from 1e21 on.
pub(crate) fn go_float(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let abs = value.abs();
    if abs != 0.0 && !(1e-4..1e21).contains(&abs) {
        let text = format!("{value:e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let (sign, digits) = match exponent.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exponent),
        };
        return format!("{mantissa}e{sign}{digits:0>2}");
    }
    format!("{value}")
}

/// Nodes plus scalar bytes that any document may expand to, whatever its
/// size. A node with its map entry takes 64 to about 100 bytes, so a small
/// document's tree stays near 100 MB at most (an estimate).
const EXPANSION_ALLOWANCE: usize = 1_000_000;
/// Nodes plus scalar bytes allowed per byte of source on top of
/// [`EXPANSION_ALLOWANCE`]. Without aliases a document spends at most about
/// two per byte: an empty value as in `a:` is a node for one character, and
/// an escape grows at most from two bytes (`\P`) to three.
const EXPANSION_PER_SOURCE_BYTE: usize = 4;

/// Parses one YAML document. Returns the parser's message on failure.
///
/// The YAML crate limits alias jumps to 100 per event of the source, which
/// stops exponential "billion laughs" documents but not one large anchor
/// aliased many times (quadratic growth). The expansion budget rejects
/// those too, before the tree is built.
pub(crate) fn parse(source: &str) -> Result<Node, String> {
    let deserializer = serde_yaml::Deserializer::from_str(source);
    let budget = Cell::new(
        source
            .len()
            .saturating_mul(EXPANSION_PER_SOURCE_BYTE)
            .saturating_add(EXPANSION_ALLOWANCE),
    );
    let node = NodeSeed {
        source,
        budget: &budget,
    }
    .deserialize(deserializer)
    .map_err(|e| e.to_string())?;
    apply_merge_keys(node)
}

/// Replaces `<<` merge keys by the entries they bring in; keys written in
/// the mapping itself win, then earlier merged mappings win over later ones.
fn apply_merge_keys(node: Node) -> Result<Node, String> {
    match node {
        Node::Seq(items) => Ok(Node::Seq(
            items
                .into_iter()
                .map(apply_merge_keys)
                .collect::<Result<_, _>>()?,
        )),
        Node::Tagged(tag, inner) => Ok(Node::Tagged(tag, Box::new(apply_merge_keys(*inner)?))),
        Node::Map(map) => {
            let mut merged: IndexMap<String, Node> = IndexMap::new();
            let mut sources = Vec::new();
            for (key, value) in map {
                let value = apply_merge_keys(value)?;
                if key == "<<" {
                    match value {
                        Node::Map(m) => sources.push(m),
                        Node::Seq(items) => {
                            for item in items {
                                match item {
                                    Node::Map(m) => sources.push(m),
                                    other => {
                                        return Err(format!(
                                            "merge key `<<` expects mappings, got {}",
                                            other.describe()
                                        ));
                                    }
                                }
                            }
                        }
                        other => {
                            return Err(format!(
                                "merge key `<<` expects a mapping or a list of mappings, got {}",
                                other.describe()
                            ));
                        }
                    }
                } else {
                    merged.insert(key, value);
                }
            }
            for source in sources {
                for (key, value) in source {
                    merged.entry(key).or_insert(value);
                }
            }
            Ok(Node::Map(merged))
        }
        other => Ok(other),
    }
}

struct NodeSeed<'s> {
    source: &'s str,
    /// Nodes plus scalar bytes the document may still produce.
    budget: &'s Cell<usize>,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = Node;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        spend(self.budget, 1)?;
        deserializer.deserialize_any(NodeVisitor {
            source: self.source,
            budget: self.budget,
        })
    }
}

/// Takes `cost` from `budget`, or fails once aliases have expanded the
/// document far beyond its source.
fn spend<E: serde::de::Error>(budget: &Cell<usize>, cost: usize) -> Result<(), E> {
    match budget.get().checked_sub(cost) {
        Some(left) => {
            budget.set(left);
            Ok(())
        }
        None => Err(E::custom(
            "document contains excessive aliasing: its aliases expand it far beyond its own \
             size; repeat fewer or smaller anchored values",
        )),
    }
}

struct NodeVisitor<'s> {
    source: &'s str,
    budget: &'s Cell<usize>,
}

impl NodeVisitor<'_> {
    fn seed(&self) -> NodeSeed<'_> {
        NodeSeed {
            source: self.source,
            budget: self.budget,
        }
    }

    /// True when `text` is a slice of the source not enclosed in quotes,
    /// which is how an unquoted scalar reaches the visitor.
    fn is_plain(&self, text: &str) -> bool {
        let start = (text.as_ptr() as usize).wrapping_sub(self.source.as_ptr() as usize);
        if start > self.source.len() {
            return false;
        }
        let before = start
            .checked_sub(1)
            .and_then(|i| self.source.as_bytes().get(i));
        !matches!(before, Some(b'"') | Some(b'\''))
    }
}

/// Resolves an unquoted scalar that Compose's YAML reader takes for an
/// integer although the YAML crate kept it as a string: `0755` (octal) and
/// `1_000` (digit separators).
fn plain_integer(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return None;
    }
    if digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let cleaned: String = digits.chars().filter(|c| *c != '_').collect();
    let value = if cleaned.len() > 1 && cleaned.starts_with('0') {
        i64::from_str_radix(&cleaned[1..], 8).ok()?
    } else {
        cleaned.parse::<i64>().ok()?
    };
    Some(if negative { -value } else { value })
}

impl<'de> Visitor<'de> for NodeVisitor<'_> {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => Node::Int(i),
            Err(_) => Node::Str(v.to_string()),
        })
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Node, E> {
        spend(self.budget, v.len())?;
        if self.is_plain(v) {
            if let Some(i) = plain_integer(v) {
                return Ok(Node::Int(i));
            }
        }
        Ok(Node::Str(v.to_owned()))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Node, E> {
        spend(self.budget, v.len())?;
        Ok(Node::Str(v.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Node, E> {
        spend(self.budget, v.len())?;
        Ok(Node::Str(v))
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        self.seed().deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.seed())? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = IndexMap::new();
        while let Some(key) = map.next_key_seed(self.seed())? {
            let key = match &key {
                Node::Null => String::new(),
                other => other.scalar_text().ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "mapping keys must be scalars, got {}",
                        other.describe()
                    ))
                })?,
            };
            let value = map.next_value_seed(self.seed())?;
            if entries.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "mapping key {key:?} already defined"
                )));
            }
            entries.insert(key, value);
        }
        Ok(Node::Map(entries))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Node, A::Error> {
        let (tag, variant): (String, _) = data.variant()?;
        let inner = variant.newtype_variant_seed(self.seed())?;
        Ok(Node::Tagged(
            tag.trim_start_matches('!').to_owned(),
            Box::new(inner),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(yaml: &str) -> Node {
        match parse(&format!("k: {yaml}\n")) {
            Ok(Node::Map(mut m)) => m.shift_remove("k").unwrap_or(Node::Null),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn scalars_resolve_like_compose() {
        assert_eq!(scalar("0755"), Node::Int(493));
        assert_eq!(scalar("\"0755\""), Node::Str("0755".into()));
        assert_eq!(scalar("'01234'"), Node::Str("01234".into()));
        assert_eq!(scalar("0x1F"), Node::Int(31));
        assert_eq!(scalar("0o17"), Node::Int(15));
        assert_eq!(scalar("1_000"), Node::Int(1000));
        assert_eq!(scalar("yes"), Node::Str("yes".into()));
        assert_eq!(scalar("~"), Node::Null);
        assert_eq!(scalar("1e3").scalar_text().as_deref(), Some("1000"));
        assert_eq!(scalar("1.0").scalar_text().as_deref(), Some("1"));
        assert_eq!(scalar("1.10").scalar_text().as_deref(), Some("1.1"));
        assert_eq!(scalar("3.50").scalar_text().as_deref(), Some("3.5"));
        assert_eq!(scalar("true").scalar_text().as_deref(), Some("true"));
    }

    #[test]
    fn go_float_uses_exponents_like_go() {
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(0.5), "0.5");
    }

    #[test]
    fn merge_keys_prefer_local_then_earlier() {
        let node = parse("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  x: 0\n")
            .unwrap_or(Node::Null);
        let Node::Map(top) = node else {
            panic!("not a map")
        };
        let Some(Node::Map(c)) = top.get("c") else {
            panic!("no c")
        };
        assert_eq!(c.get("x"), Some(&Node::Int(0)));
        assert_eq!(c.get("y"), Some(&Node::Int(1)));
        assert_eq!(c.get("z"), Some(&Node::Int(2)));
    }

    #[test]
    fn duplicate_keys_fail() {
        let error = parse("services:\n  a: {}\n  a: {}\n")
            .err()
            .unwrap_or_default();
        assert!(
            error.contains("mapping key \"a\" already defined"),
            "{error}"
        );
    }

    #[test]
    fn tags_are_kept() {
        let node = parse("k: !reset []\n").unwrap_or(Node::Null);
        let Node::Map(top) = node else {
            panic!("not a map")
        };
        assert_eq!(
            top.get("k"),
            Some(&Node::Tagged("reset".into(), Box::new(Node::Seq(vec![]))))
        );
    }
}
