//! YAML reading with positions, under hard limits.
//!
//! A manifest is parsed once into a located tree, which gives two things: a
//! plain `serde_json::Value` (what the typed loader and the JSON Schema both
//! see, so they agree on what a scalar is) and a [`SourceMap`] from JSON
//! pointers to line and column, so every later finding can point at the key
//! or value it is about. serde-saphyr rejects duplicate keys and enforces the
//! nesting, node and alias budgets that keep hostile files cheap.

use crate::finding::Position;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::{Location, Spanned};
use std::fmt;

/// The deepest nesting a manifest may have. Real manifests need about 6.
pub const MAX_DEPTH: usize = 32;
/// The most YAML nodes a manifest may have. A large real one has about 2,000.
pub const MAX_NODES: usize = 50_000;
/// The most aliases (`*name`) a manifest may use.
pub const MAX_ALIASES: usize = 200;

/// Where keys and values are in the source, looked up by JSON pointer
/// (`/tools/0/access`). A tree of positions shaped like the document, built
/// once while converting; lookups walk it, so nothing is spent on documents
/// that produce no findings.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    root: Option<std::sync::Arc<Loc>>,
}

#[derive(Debug)]
struct Loc {
    pos: Position,
    children: Children,
}

#[derive(Debug)]
enum Children {
    Leaf,
    Seq(Vec<Loc>),
    Map(Vec<(String, Option<Position>, Loc)>),
}

impl SourceMap {
    /// The node at `pointer` and its key position.
    fn find(&self, pointer: &str) -> Option<(Option<Position>, &Loc)> {
        let mut node = self.root.as_deref()?;
        let mut key = None;
        if pointer.is_empty() {
            return Some((None, node));
        }
        for raw in pointer.strip_prefix('/')?.split('/') {
            let token = raw.replace("~1", "/").replace("~0", "~");
            match &node.children {
                Children::Seq(items) => {
                    node = items.get(token.parse::<usize>().ok()?)?;
                    key = None;
                }
                Children::Map(entries) => {
                    let (_, k, child) = entries.iter().find(|(name, _, _)| *name == token)?;
                    node = child;
                    key = *k;
                }
                Children::Leaf => return None,
            }
        }
        Some((key, node))
    }

    /// Where the value at `pointer` starts.
    pub fn value(&self, pointer: &str) -> Option<Position> {
        self.find(pointer).map(|(_, n)| n.pos)
    }

    /// Where the key of the entry at `pointer` is, falling back to the value
    /// (for sequence items, which have no key).
    pub fn key(&self, pointer: &str) -> Option<Position> {
        self.find(pointer).map(|(k, n)| k.unwrap_or(n.pos))
    }

    /// The position of `pointer`'s key, or of the nearest ancestor that exists.
    /// Used for findings about something missing: they point at the parent.
    pub fn nearest(&self, pointer: &str) -> Option<Position> {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.key(p) {
                return Some(pos);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }
}

/// Escape one JSON pointer token.
pub fn pointer_token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// A YAML parse failure with its position.
#[derive(Debug, Clone)]
pub struct YamlError {
    /// Which kind: `syntax`, `duplicate-key` or `limit`.
    pub kind: YamlErrorKind,
    /// The parser's message, without position prefix.
    pub message: String,
    /// Where it happened.
    pub position: Option<Position>,
}

/// Kinds of YAML failure, each its own rule id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlErrorKind {
    /// Not valid YAML (includes tab indentation).
    Syntax,
    /// The same key twice in one mapping.
    DuplicateKey,
    /// Over a nesting, node or alias limit.
    Limit,
    /// A mapping key that is not a plain scalar.
    ComplexKey,
}

/// Parse YAML text into a JSON value and a source map.
pub fn parse(text: &str) -> Result<(Value, SourceMap), YamlError> {
    let mut budget = serde_saphyr::budget::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_nodes = MAX_NODES;
    budget.max_aliases = MAX_ALIASES;
    budget.max_anchors = MAX_ALIASES;
    budget.max_documents = 1;
    budget.flow_nesting_limit = MAX_DEPTH;
    let mut options = serde_saphyr::options::Options::default();
    options.budget = Some(budget);
    options.with_snippet = false;
    let root: Spanned<Node> =
        serde_saphyr::from_str_with_options(text, options).map_err(|e| classify(&e))?;
    let (value, loc) = convert(root)?;
    let map = SourceMap {
        root: Some(std::sync::Arc::new(loc)),
    };
    Ok((value, map))
}

fn classify(e: &serde_saphyr::Error) -> YamlError {
    let position = e.location().and_then(position);
    let raw = e.without_snippet().to_string();
    let message = strip_position_prefix(&raw).to_string();
    let lower = message.to_ascii_lowercase();
    let kind = if lower.contains("duplicate mapping key") {
        YamlErrorKind::DuplicateKey
    } else if lower.contains("budget")
        || lower.contains("recursion limit")
        || lower.contains("limit exceeded")
    {
        YamlErrorKind::Limit
    } else {
        YamlErrorKind::Syntax
    };
    let (kind, message) = match kind {
        YamlErrorKind::DuplicateKey => (
            kind,
            message
                .split(", set DuplicateKeyPolicy")
                .next()
                .unwrap_or(&message)
                .to_string(),
        ),
        YamlErrorKind::Limit => limit_message(&message),
        YamlErrorKind::Syntax | YamlErrorKind::ComplexKey => (kind, message),
    };
    // The parser repeats the position in the text; findings carry it already.
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .trim()
        .to_string();
    YamlError {
        kind,
        message,
        position,
    }
}

/// Turn a budget breach into words; a second document is a syntax matter.
fn limit_message(raw: &str) -> (YamlErrorKind, String) {
    let lower = raw.to_ascii_lowercase();
    if lower.contains("documents") {
        return (
            YamlErrorKind::Syntax,
            "agent.yaml must hold exactly one YAML document".into(),
        );
    }
    let message = if lower.contains("nodes") {
        format!("the manifest expands to more than {MAX_NODES} YAML nodes (an alias bomb?)")
    } else if lower.contains("alias") || lower.contains("anchor") {
        format!("the manifest uses more than {MAX_ALIASES} aliases or anchors")
    } else if lower.contains("depth") || lower.contains("recursion") || lower.contains("nesting") {
        format!("the manifest is nested deeper than {MAX_DEPTH} levels")
    } else {
        format!("the manifest exceeds a parser limit ({raw})")
    };
    (YamlErrorKind::Limit, message)
}

fn strip_position_prefix(s: &str) -> &str {
    let s = s.trim();
    let s = s.strip_prefix("error: ").unwrap_or(s);
    if let Some(rest) = s.strip_prefix("line ")
        && let Some(i) = rest.find(": ")
    {
        return rest[i + 2..].trim();
    }
    s
}

fn position(l: Location) -> Option<Position> {
    if l.line() == 0 {
        return None;
    }
    Some(Position {
        line: u32::try_from(l.line()).unwrap_or(u32::MAX),
        column: u32::try_from(l.column().max(1)).unwrap_or(u32::MAX),
    })
}

fn convert(node: Spanned<Node>) -> Result<(Value, Loc), YamlError> {
    let pos = position(node.referenced).unwrap_or_default();
    Ok(match node.value {
        Node::Null => (Value::Null, leaf(pos)),
        Node::Bool(b) => (Value::Bool(b), leaf(pos)),
        Node::Int(i) => (Value::Number(i.into()), leaf(pos)),
        Node::UInt(u) => (Value::Number(u.into()), leaf(pos)),
        Node::Float(f) => (
            Number::from_f64(f)
                .map(Value::Number)
                .ok_or_else(|| YamlError {
                    kind: YamlErrorKind::Syntax,
                    message: format!("{f} is not a finite number"),
                    position: Some(pos),
                })?,
            leaf(pos),
        ),
        Node::Str(s) => (Value::String(s), leaf(pos)),
        Node::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut locs = Vec::with_capacity(items.len());
            for item in items {
                let (v, l) = convert(item)?;
                out.push(v);
                locs.push(l);
            }
            (
                Value::Array(out),
                Loc {
                    pos,
                    children: Children::Seq(locs),
                },
            )
        }
        Node::Map(entries) => {
            let mut out = Map::new();
            let mut locs = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let key_pos = position(k.referenced);
                let name = match k.value {
                    Node::Str(s) => s,
                    Node::Bool(b) => b.to_string(),
                    Node::Int(i) => i.to_string(),
                    Node::UInt(u) => u.to_string(),
                    Node::Float(f) => f.to_string(),
                    Node::Null => "null".to_string(),
                    Node::Seq(_) | Node::Map(_) => {
                        return Err(YamlError {
                            kind: YamlErrorKind::ComplexKey,
                            message:
                                "mapping keys must be plain scalars, not sequences or mappings"
                                    .into(),
                            position: key_pos,
                        });
                    }
                };
                if out.contains_key(&name) {
                    return Err(YamlError {
                        kind: YamlErrorKind::DuplicateKey,
                        message: format!("duplicate mapping key: {name}"),
                        position: key_pos,
                    });
                }
                let (value, loc) = convert(v)?;
                locs.push((name.clone(), key_pos, loc));
                out.insert(name, value);
            }
            (
                Value::Object(out),
                Loc {
                    pos,
                    children: Children::Map(locs),
                },
            )
        }
    })
}

fn leaf(pos: Position) -> Loc {
    Loc {
        pos,
        children: Children::Leaf,
    }
}

/// A YAML node with located children.
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<Node>, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::UInt(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Float(v as f64))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        Ok(Node::Float(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Node, E> {
        Err(E::custom("binary values are not allowed in a manifest"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(k) = access.next_key()? {
            let v = access.next_value()?;
            entries.push((k, v));
        }
        Ok(Node::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_pointers_to_positions() {
        let (value, map) = parse("a: 1\nb:\n  - x\n  - c: true\n").expect("valid yaml");
        assert_eq!(value["b"][1]["c"], Value::Bool(true));
        assert_eq!(map.key("/b/1/c"), Some(Position { line: 4, column: 5 }));
        assert_eq!(map.value("/b/1/c"), Some(Position { line: 4, column: 8 }));
        assert_eq!(map.key("/b/0"), Some(Position { line: 3, column: 5 }));
        assert_eq!(
            map.nearest("/b/1/missing/deeper"),
            Some(Position { line: 4, column: 5 })
        );
    }

    #[test]
    fn duplicate_keys_are_refused_with_position() {
        let e = parse("a: 1\nb:\n  x: 1\n  x: 2\n").expect_err("duplicate");
        assert_eq!(e.kind, YamlErrorKind::DuplicateKey);
        assert_eq!(e.position.map(|p| p.line), Some(4));
    }

    #[test]
    fn deep_nesting_is_a_limit() {
        let text = "[".repeat(10_000);
        let e = parse(&text).expect_err("too deep");
        assert_eq!(e.kind, YamlErrorKind::Limit, "{e:?}");
    }
}
