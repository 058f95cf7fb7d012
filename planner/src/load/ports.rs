//! `ports`: the short syntax (`[ip:][published:]target[/protocol]` with
//! ranges and bracketed IPv6 addresses) and the long syntax, both turned
//! into the long form Compose prints, one entry per port of a range.

use std::path::Path;

use super::error::LoadError;
use super::fields::{At, index, join, known_keys, string_or_number};
use super::yaml::Node;
use crate::model::PortConfig;

const LONG_KEYS: &[&str] = &[
    "name",
    "mode",
    "host_ip",
    "target",
    "published",
    "protocol",
    "app_protocol",
];

/// Parses a `ports` list.
pub(crate) fn parse_ports(node: &Node, at: At<'_>) -> Result<Vec<PortConfig>, LoadError> {
    let Node::Seq(items) = node else {
        return Err(at.must_be("a list", node));
    };
    let mut ports = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let key = index(at.key, i);
        ports.extend(parse_entry(item, At::new(at.file, &key))?);
    }
    Ok(ports)
}

/// Returns the identity of one `ports` entry for merging files, because
/// two entries that publish the same ports are the same entry.
pub(crate) fn dedup_key(node: &Node) -> Option<String> {
    let ports = parse_entry(node, At::new(Path::new(""), "")).ok()?;
    Some(format!("{ports:?}"))
}

fn parse_entry(node: &Node, at: At<'_>) -> Result<Vec<PortConfig>, LoadError> {
    match node {
        Node::Map(map) => Ok(vec![parse_long(map, at)?]),
        Node::Str(_) | Node::Int(_) => parse_short(&string_or_number(node, at)?, at),
        other => Err(at.must_be("a string, a number or a mapping", other)),
    }
}

fn parse_long(map: &indexmap::IndexMap<String, Node>, at: At<'_>) -> Result<PortConfig, LoadError> {
    known_keys(map, LONG_KEYS, at)?;
    let text = |name: &str| -> Result<Option<String>, LoadError> {
        match map.get(name) {
            None | Some(Node::Null) => Ok(None),
            Some(value) => {
                let key = join(at.key, name);
                string_or_number(value, At::new(at.file, &key)).map(Some)
            }
        }
    };
    let target_key = join(at.key, "target");
    let target_text = text("target")?
        .ok_or_else(|| At::new(at.file, &target_key).invalid("", "a container port is required"))?;
    let target = port_number(&target_text, At::new(at.file, &target_key))?;
    let published = text("published")?.filter(|p| !p.is_empty());
    Ok(PortConfig {
        name: text("name")?,
        mode: text("mode")?.unwrap_or_else(|| "ingress".to_owned()),
        host_ip: text("host_ip")?.filter(|ip| !ip.is_empty()),
        target,
        published,
        protocol: text("protocol")?.unwrap_or_else(|| "tcp".to_owned()),
        app_protocol: text("app_protocol")?,
    })
}

/// Parses the short syntax, expanding ranges to one entry per port.
pub(crate) fn parse_short(text: &str, at: At<'_>) -> Result<Vec<PortConfig>, LoadError> {
    let (spec, protocol) = match text.rsplit_once('/') {
        Some((spec, protocol)) if !protocol.is_empty() => (spec, protocol.to_owned()),
        Some(_) => return Err(at.invalid(text, "a protocol after `/`, such as `tcp` or `udp`")),
        None => (text, "tcp".to_owned()),
    };
    let (host_ip, published, target) = split_spec(spec, text, at)?;
    let (target_start, target_end) = port_range(target, at, text)?;
    let published_range = match published {
        Some(p) if !p.is_empty() => Some((p, port_range(p, at, text)?)),
        _ => None,
    };
    let entry = |target: u32, published: Option<String>| PortConfig {
        name: None,
        mode: "ingress".to_owned(),
        host_ip: host_ip.map(str::to_owned),
        target,
        published,
        protocol: protocol.clone(),
        app_protocol: None,
    };
    let count = target_end - target_start;
    match published_range {
        None => Ok((target_start..=target_end)
            .map(|t| entry(t, None))
            .collect()),
        Some((text_range, _)) if count == 0 => {
            Ok(vec![entry(target_start, Some(text_range.to_owned()))])
        }
        Some((_, (start, end))) if end.checked_sub(start) == Some(count) => Ok((0..=count)
            .map(|offset| entry(target_start + offset, Some((start + offset).to_string())))
            .collect()),
        Some((text_range, _)) => Err(at.invalid(
            text,
            format!(
                "invalid ranges specified for container and host Ports: {target} and {text_range} \
                 (both ranges must have the same length)"
            ),
        )),
    }
}

/// Splits `[ip:][published:]target` into its parts.
fn split_spec<'t>(
    spec: &'t str,
    whole: &str,
    at: At<'_>,
) -> Result<(Option<&'t str>, Option<&'t str>, &'t str), LoadError> {
    if let Some(bracketed) = spec.strip_prefix('[') {
        let (ip, rest) = bracketed
            .split_once("]:")
            .ok_or_else(|| at.invalid(whole, "`[ipv6]:published:target`"))?;
        let (published, target) = rest
            .split_once(':')
            .ok_or_else(|| at.invalid(whole, "`[ipv6]:published:target`"))?;
        return Ok((Some(ip), Some(published), target));
    }
    let parts: Vec<&str> = spec.split(':').collect();
    match parts.as_slice() {
        [target] => Ok((None, None, *target)),
        [published, target] => Ok((None, Some(*published), *target)),
        [ip, published, target] => Ok((
            Some(*ip).filter(|ip| !ip.is_empty()),
            Some(*published),
            *target,
        )),
        _ => {
            // An unbracketed IPv6 address: the last two parts are the ports.
            let (rest, target) = spec.rsplit_once(':').unwrap_or((spec, ""));
            let (ip, published) = rest.rsplit_once(':').unwrap_or(("", rest));
            Ok((
                Some(ip).filter(|ip| !ip.is_empty()),
                Some(published),
                target,
            ))
        }
    }
}

fn port_range(text: &str, at: At<'_>, whole: &str) -> Result<(u32, u32), LoadError> {
    match text.split_once('-') {
        Some((start, end)) => {
            let start = port_number(start, at)
                .map_err(|_| at.invalid(whole, "a port range such as `9000-9002`"))?;
            let end = port_number(end, at)
                .map_err(|_| at.invalid(whole, "a port range such as `9000-9002`"))?;
            if end < start {
                return Err(at.invalid(whole, "a port range whose end is not below its start"));
            }
            Ok((start, end))
        }
        None => {
            let port = port_number(text, at).map_err(|_| {
                at.invalid(
                    whole,
                    "`[ip:][published:]target[/protocol]` with ports from 0 to 65535",
                )
            })?;
            Ok((port, port))
        }
    }
}

fn port_number(text: &str, at: At<'_>) -> Result<u32, LoadError> {
    match text.trim().parse::<u32>() {
        Ok(port) if port <= 65535 => Ok(port),
        _ => Err(at.invalid(text, "a port number from 0 to 65535")),
    }
}

/// Reads `expose`: ports or ranges, kept as written.
pub(crate) fn parse_expose(node: &Node, at: At<'_>) -> Result<Vec<String>, LoadError> {
    let Node::Seq(items) = node else {
        return Err(at.must_be("a list", node));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let key = index(at.key, i);
            string_or_number(item, At::new(at.file, &key))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short(text: &str) -> Result<Vec<PortConfig>, String> {
        parse_short(
            text,
            At::new(Path::new("/p/compose.yaml"), "services.web.ports[0]"),
        )
        .map_err(|e| e.to_string())
    }

    fn render(ports: &[PortConfig]) -> Vec<String> {
        ports
            .iter()
            .map(|p| {
                format!(
                    "{}|{}|{}|{}",
                    p.host_ip.clone().unwrap_or_default(),
                    p.published.clone().unwrap_or_default(),
                    p.target,
                    p.protocol
                )
            })
            .collect()
    }

    #[test]
    fn short_syntax_table() {
        let table: &[(&str, &[&str])] = &[
            ("80", &["||80|tcp"]),
            ("8080:80", &["|8080|80|tcp"]),
            ("127.0.0.1:8081:81", &["127.0.0.1|8081|81|tcp"]),
            ("127.0.0.1::82", &["127.0.0.1||82|tcp"]),
            ("9000-9001:9000-9001", &["|9000|9000|tcp", "|9001|9001|tcp"]),
            ("53:53/udp", &["|53|53|udp"]),
            ("[::1]:8082:83", &["::1|8082|83|tcp"]),
            ("7000-7001", &["||7000|tcp", "||7001|tcp"]),
            ("9000-9005:80", &["|9000-9005|80|tcp"]),
        ];
        for (text, expected) in table {
            assert_eq!(
                short(text).map(|p| render(&p)),
                Ok(expected.iter().map(|s| s.to_string()).collect()),
                "{text}"
            );
        }
    }

    #[test]
    fn mismatched_ranges_fail() {
        let error = short("9000-9002:9000-9001").err().unwrap_or_default();
        assert!(
            error.contains(
                "invalid ranges specified for container and host Ports: 9000-9001 and 9000-9002"
            ),
            "{error}"
        );
        assert!(error.contains("services.web.ports[0]"), "{error}");
        assert!(short("http").is_err());
        assert!(short("70000").is_err());
    }
}
