//! Merging of several compose files (`-f a -f b`, or a file and its
//! override), with Docker Compose's rules. Mappings merge key by key, and
//! scalars and `command`/`entrypoint`/`healthcheck.test` are replaced. A
//! `logging` with another driver replaces the earlier one. `ports` are a
//! union, `volumes` and `devices` merge by target, and other lists append
//! without duplicates. `!reset` removes a key and `!override` replaces a
//! value without merging.
//!
//! Each file has already been canonicalized (lists of `KEY=value` turned
//! into mappings and so on), so merging only deals with one shape per key.

use indexmap::IndexMap;

use super::ports::dedup_key as port_key;
use super::volumes::target_of as volume_target;
use super::yaml::Node;

/// Merges `overlay` (a later file) into `base`. `path` is the key path of
/// the mapping being merged, with service names replaced by `*`.
pub(crate) fn merge_map(
    base: &mut IndexMap<String, Node>,
    overlay: IndexMap<String, Node>,
    path: &[&str],
) {
    for (key, value) in overlay {
        let child: Vec<&str> = child_path(path, &key);
        match value {
            Node::Tagged(tag, _) if tag == "reset" => {
                base.shift_remove(&key);
            }
            Node::Tagged(tag, inner) if tag == "override" => {
                base.insert(key, strip_tags(*inner));
            }
            value => match base.get_mut(&key) {
                Some(existing) => merge_value(existing, value, &child),
                None => {
                    base.insert(key, strip_tags(value));
                }
            },
        }
    }
}

fn child_path<'a>(path: &[&'a str], key: &'a str) -> Vec<&'a str> {
    let mut child = path.to_vec();
    // Names chosen by the user (services, networks, volumes) are wildcards.
    let wildcard = matches!(path, ["services"] | ["networks"] | ["volumes"]);
    child.push(if wildcard { "*" } else { key });
    child
}

fn merge_value(base: &mut Node, overlay: Node, path: &[&str]) {
    let replace = matches!(
        path,
        ["services", "*", "command"]
            | ["services", "*", "entrypoint"]
            | ["services", "*", "healthcheck", "test"]
    );
    if replace || other_log_driver(base, &overlay, path) {
        *base = strip_tags(overlay);
        return;
    }
    match (base, overlay) {
        (Node::Map(base_map), Node::Map(overlay_map)) => merge_map(base_map, overlay_map, path),
        (Node::Seq(base_items), Node::Seq(overlay_items)) => {
            let overlay_items = overlay_items.into_iter().map(strip_tags).collect();
            match path {
                ["services", "*", "volumes"] => merge_by(base_items, overlay_items, volume_target),
                ["services", "*", "ports"] => merge_by(base_items, overlay_items, port_key),
                ["services", "*", "devices"] => merge_by(base_items, overlay_items, device_target),
                _ => merge_by(base_items, overlay_items, |n| Some(format!("{n:?}"))),
            }
        }
        (base, overlay) => *base = strip_tags(overlay),
    }
}

/// Reports whether a later `logging` names another driver than the earlier
/// one: its options then replace the earlier ones instead of merging.
fn other_log_driver(base: &Node, overlay: &Node, path: &[&str]) -> bool {
    if path != ["services", "*", "logging"] {
        return false;
    }
    let driver = |node: &Node| match node {
        Node::Map(map) => map.get("driver").and_then(Node::scalar_text),
        _ => None,
    };
    matches!((driver(base), driver(overlay)), (Some(a), Some(b)) if a != b)
}

/// Returns the container path of a `devices` entry, by which Compose
/// merges them.
fn device_target(node: &Node) -> Option<String> {
    match node {
        Node::Str(text) => {
            let mut parts = text.split(':');
            let source = parts.next()?;
            Some(parts.next().unwrap_or(source).to_owned())
        }
        Node::Map(map) => match map.get("target") {
            Some(Node::Str(target)) => Some(target.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Appends `overlay` to `base`; an entry whose key is already present
/// replaces the earlier one in place, so the later file wins.
fn merge_by(base: &mut Vec<Node>, overlay: Vec<Node>, key: impl Fn(&Node) -> Option<String>) {
    for item in overlay {
        let item_key = key(&item);
        let position = item_key
            .as_ref()
            .and_then(|k| base.iter().position(|b| key(b).as_ref() == Some(k)));
        match position.and_then(|p| base.get_mut(p)) {
            Some(slot) => *slot = item,
            None => base.push(item),
        }
    }
}

/// Removes tags from a value that is not merged into anything: `!reset`
/// inside it drops the key, `!override` is just the value.
pub(crate) fn strip_tags(node: Node) -> Node {
    match node {
        Node::Tagged(_, inner) => strip_tags(*inner),
        Node::Map(map) => Node::Map(
            map.into_iter()
                .filter(|(_, v)| !matches!(v, Node::Tagged(tag, _) if tag == "reset"))
                .map(|(k, v)| (k, strip_tags(v)))
                .collect(),
        ),
        Node::Seq(items) => Node::Seq(items.into_iter().map(strip_tags).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::yaml::parse;

    fn merged(a: &str, b: &str) -> Node {
        let (Ok(Node::Map(mut base)), Ok(Node::Map(overlay))) = (parse(a), parse(b)) else {
            panic!("bad yaml")
        };
        merge_map(&mut base, overlay, &[]);
        Node::Map(base)
    }

    #[test]
    fn merge_rules() {
        let result = merged(
            "services:\n  web:\n    image: a\n    command: [x, y]\n    environment: {A: '1', B: '2'}\n    \
             ports: ['8080:80']\n    volumes: ['./base:/data', './logs:/logs']\n    dns: [1.1.1.1]\n    \
             networks: {front: null}\n",
            "services:\n  web:\n    image: b\n    command: [z]\n    environment: {B: x, C: '3'}\n    \
             ports: ['9090:90', '8080:80']\n    volumes: ['./override:/data']\n    dns: [8.8.8.8]\n    \
             networks: {back: {aliases: [w]}}\n",
        );
        let expected = parse(
            "services:\n  web:\n    image: b\n    command: [z]\n    environment: {A: '1', B: x, C: '3'}\n    \
             ports: ['8080:80', '9090:90']\n    volumes: ['./override:/data', './logs:/logs']\n    \
             dns: [1.1.1.1, 8.8.8.8]\n    networks: {front: null, back: {aliases: [w]}}\n",
        );
        assert_eq!(Ok(result), expected);
    }

    #[test]
    fn reset_and_override_tags() {
        let result = merged(
            "services:\n  web:\n    ports: ['80:80']\n    dns: [a]\n",
            "services:\n  web:\n    ports: !reset []\n    dns: !override [b]\n",
        );
        assert_eq!(Ok(result), parse("services:\n  web:\n    dns: [b]\n"));
    }
}
