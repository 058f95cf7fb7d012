//! Host ports published twice. The engine rejects a container that
//! publishes a host port already bound on an overlapping address, but only
//! when it starts that container, after the plan has changed other things.
//! So the plan fails first, naming both holders and the port.
//!
//! Holders are the selected services, each counted once per replica, the
//! project's running containers that the plan leaves alone, and running
//! containers outside the project that the snapshot lists. A
//! published range with a single target (`8000-8010:80`) lets the engine
//! choose a free port in the range, so it conflicts only when the range has
//! fewer free ports than containers that need one.

use std::ops::RangeInclusive;

use crate::labels;
use crate::model::Project;
use crate::snapshot::Snapshot;

use super::PlanError;
use super::selection::Selection;

/// One host port, or a range to choose from, that a holder needs.
struct Claim {
    /// The holder, as error messages name it.
    holder: String,
    /// Service name, or empty for a container outside the project.
    service: String,
    /// Containers that need a port from this claim.
    count: u64,
    host_ip: String,
    ports: RangeInclusive<u32>,
    protocol: String,
    /// Whether the engine chooses the port from `ports`.
    chosen: bool,
}

impl Claim {
    /// Formats `ip:port/protocol`, with `*` for an empty address.
    fn binding(&self, ports: impl std::fmt::Display) -> String {
        let ip = if self.host_ip.is_empty() {
            "*"
        } else {
            &self.host_ip
        };
        format!("{ip}:{ports}/{}", self.protocol)
    }

    /// Returns whether both claims bind one address with one protocol.
    fn shares_address(&self, other: &Claim) -> bool {
        self.protocol == other.protocol && addresses_overlap(&self.host_ip, &other.host_ip)
    }
}

/// Fails when two holders publish the same host port on overlapping
/// addresses, or when replicas of a service share a fixed host port.
pub(crate) fn check_published_ports(
    project: &Project,
    selection: &Selection,
    snapshot: &Snapshot,
    remove_orphans: bool,
) -> Result<(), PlanError> {
    let mut claims = Vec::new();
    for (name, service) in &selection.services {
        let count = selection.scale.get(name).copied().unwrap_or(0);
        if count == 0 {
            continue;
        }
        for (index, port) in service.ports.iter().enumerate() {
            let Some(published) = &port.published else {
                continue;
            };
            let Some(ports) = parse_range(published) else {
                continue;
            };
            claims.push(Claim {
                holder: format!("service `{name}` (ports[{index}])"),
                service: name.clone(),
                count,
                host_ip: port.host_ip.clone().unwrap_or_default(),
                chosen: ports.start() != ports.end(),
                ports,
                protocol: port.protocol.clone(),
            });
        }
    }
    claims.extend(untouched_project_claims(
        selection,
        snapshot,
        remove_orphans,
    ));
    for holder in &snapshot.port_holders {
        let port = u32::from(holder.port);
        claims.push(Claim {
            holder: format!(
                "running container `{}` outside project `{}`",
                holder.container, project.name
            ),
            service: String::new(),
            count: 1,
            host_ip: holder.host_ip.clone(),
            ports: port..=port,
            protocol: holder.protocol.clone(),
            chosen: false,
        });
    }
    check_fixed(&claims)?;
    check_chosen(&claims)
}

/// Returns the ports of the project's running containers that the plan
/// leaves alone: those of services outside the selection, running one-off
/// containers, and orphans unless `--remove-orphans` removes them.
fn untouched_project_claims(
    selection: &Selection,
    snapshot: &Snapshot,
    remove_orphans: bool,
) -> Vec<Claim> {
    let mut claims = Vec::new();
    for container in &snapshot.containers {
        let running = matches!(
            container.state.as_str(),
            "running" | "restarting" | "paused"
        );
        let service = container.label(labels::SERVICE);
        let one_off = container.label(labels::ONEOFF) == "True";
        let selected = selection.services.contains_key(service);
        let orphan = !selection.known.contains(service);
        if !running || (selected && !one_off) || (orphan && !one_off && remove_orphans) {
            continue;
        }
        let name = &container.name;
        let holder = if one_off {
            format!("running one-off container `{name}`")
        } else if orphan {
            format!("orphan container `{name}`, which --remove-orphans removes")
        } else {
            format!("running container `{name}` of service `{service}`, outside this plan")
        };
        for binding in &container.config.ports {
            let Some((host_ip, ports, protocol)) = parse_binding(binding) else {
                continue;
            };
            claims.push(Claim {
                holder: holder.clone(),
                service: service.to_string(),
                count: 1,
                host_ip,
                chosen: false,
                ports,
                protocol,
            });
        }
    }
    claims
}

/// Parses an observed binding, `[ip:]host:container/protocol`, into its
/// address, host port and protocol. An IPv6 address is not bracketed, so
/// the string is split from the right. `None` for an ephemeral host port.
fn parse_binding(binding: &str) -> Option<(String, RangeInclusive<u32>, String)> {
    let (rest, target) = binding.rsplit_once(':')?;
    let protocol = target
        .split_once('/')
        .map_or("tcp", |(_, protocol)| protocol);
    let (host_ip, host_port) = rest.rsplit_once(':').unwrap_or(("", rest));
    let port: u32 = host_port.parse().ok().filter(|port| *port > 0)?;
    Some((host_ip.to_string(), port..=port, protocol.to_string()))
}

/// Checks claims on one fixed port: no two may share an address, and a
/// fixed port fits only one replica.
fn check_fixed(claims: &[Claim]) -> Result<(), PlanError> {
    let fixed: Vec<&Claim> = claims.iter().filter(|claim| !claim.chosen).collect();
    for (index, claim) in fixed.iter().enumerate() {
        let port = *claim.ports.start();
        if claim.count > 1 {
            return Err(PlanError::PortReplicas {
                binding: claim.binding(port),
                service: claim.service.clone(),
                count: claim.count,
            });
        }
        for other in &fixed[index + 1..] {
            if *other.ports.start() == port && claim.shares_address(other) {
                return Err(PlanError::PortConflict {
                    binding: claim.binding(port),
                    first: claim.holder.clone(),
                    second: other.holder.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Checks claims on ranges the engine chooses from: the ports of the range
/// that fixed claims leave free must cover every container that needs one.
fn check_chosen(claims: &[Claim]) -> Result<(), PlanError> {
    for claim in claims.iter().filter(|claim| claim.chosen) {
        let taken: Vec<&Claim> = claims
            .iter()
            .filter(|other| !other.chosen && claim.shares_address(other))
            .filter(|other| claim.ports.contains(other.ports.start()))
            .collect();
        let sharing: Vec<&Claim> = claims
            .iter()
            .filter(|other| other.chosen && other.ports == claim.ports)
            .filter(|other| claim.shares_address(other))
            .collect();
        let size = u64::from(claim.ports.end() - claim.ports.start() + 1);
        let free = size.saturating_sub(taken.len() as u64);
        let needed: u64 = sharing.iter().map(|other| other.count).sum();
        if needed <= free {
            continue;
        }
        let range = format!("{}-{}", claim.ports.start(), claim.ports.end());
        let others: Vec<&str> = taken
            .iter()
            .chain(sharing.iter().filter(|other| other.holder != claim.holder))
            .map(|other| other.holder.as_str())
            .collect();
        return Err(PlanError::PortRangeExhausted {
            binding: claim.binding(range),
            holder: claim.holder.clone(),
            needed,
            free,
            others: if others.is_empty() {
                String::new()
            } else {
                format!("; also published by {}", others.join(", "))
            },
        });
    }
    Ok(())
}

/// Parses `8080` or `8000-8010`; `None` for anything else, which the engine
/// judges.
fn parse_range(published: &str) -> Option<RangeInclusive<u32>> {
    let (start, end) = published.split_once('-').unwrap_or((published, published));
    let start: u32 = start.trim().parse().ok()?;
    let end: u32 = end.trim().parse().ok()?;
    // Port 0 lets the engine pick any free port.
    (start > 0 && start <= end && end <= 65535).then_some(start..=end)
}

/// Returns whether two host addresses overlap. An empty address binds
/// every address of both families, `0.0.0.0` every IPv4 address and `::`
/// every IPv6 address. Other addresses overlap only themselves.
fn addresses_overlap(a: &str, b: &str) -> bool {
    let a = a.trim_start_matches('[').trim_end_matches(']');
    let b = b.trim_start_matches('[').trim_end_matches(']');
    if a.is_empty() || b.is_empty() || a == b {
        return true;
    }
    let v6 = |ip: &str| ip.contains(':');
    match (a, b) {
        ("0.0.0.0", other) | (other, "0.0.0.0") => !v6(other),
        ("::", other) | (other, "::") => v6(other),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(holder: &str, host_ip: &str, ports: RangeInclusive<u32>, protocol: &str) -> Claim {
        Claim {
            holder: holder.to_string(),
            service: holder.to_string(),
            count: 1,
            host_ip: host_ip.to_string(),
            chosen: ports.start() != ports.end(),
            ports,
            protocol: protocol.to_string(),
        }
    }

    #[test]
    fn fixed_port_twice_in_one_service_fails() {
        let claims = [
            claim("web ports[0]", "", 8080..=8080, "tcp"),
            claim("web ports[1]", "0.0.0.0", 8080..=8080, "tcp"),
        ];
        let error = check_fixed(&claims).unwrap_err().to_string();
        assert!(error.contains("web ports[0]"), "{error}");
        assert!(error.contains("web ports[1]"), "{error}");
    }

    #[test]
    fn fixed_port_on_other_protocol_passes() {
        let claims = [
            claim("web", "", 8080..=8080, "tcp"),
            claim("api", "", 8080..=8080, "udp"),
        ];
        assert!(check_fixed(&claims).is_ok());
    }

    #[test]
    fn range_with_fixed_holder_inside_fails() {
        let claims = [
            claim("web", "", 8000..=8001, "tcp"),
            claim("api", "127.0.0.1", 8000..=8000, "tcp"),
            claim("admin", "127.0.0.1", 8001..=8001, "tcp"),
        ];
        let error = check_chosen(&claims).unwrap_err().to_string();
        assert!(error.contains("leave 0 free for 1 containers"), "{error}");
        assert!(error.contains("api, admin"), "{error}");
    }

    #[test]
    fn range_with_free_port_passes() {
        let claims = [
            claim("web", "", 8000..=8001, "tcp"),
            claim("api", "127.0.0.1", 8000..=8000, "tcp"),
        ];
        assert!(check_chosen(&claims).is_ok());
    }

    #[test]
    fn addresses_overlap_by_family() {
        assert!(addresses_overlap("", "127.0.0.1"));
        assert!(addresses_overlap("0.0.0.0", "127.0.0.1"));
        assert!(addresses_overlap("::", "[::1]"));
        assert!(addresses_overlap("127.0.0.1", "127.0.0.1"));
        assert!(!addresses_overlap("0.0.0.0", "::"));
        assert!(!addresses_overlap("127.0.0.1", "127.0.0.2"));
        assert!(!addresses_overlap("::", "127.0.0.1"));
    }

    #[test]
    fn parse_binding_reads_address_port_and_protocol() {
        assert_eq!(
            parse_binding("127.0.0.1:8080:80/tcp"),
            Some(("127.0.0.1".to_string(), 8080..=8080, "tcp".to_string()))
        );
        assert_eq!(
            parse_binding("::1:9000:90/udp"),
            Some(("::1".to_string(), 9000..=9000, "udp".to_string()))
        );
        assert_eq!(
            parse_binding("8080:80/tcp"),
            Some((String::new(), 8080..=8080, "tcp".to_string()))
        );
        assert_eq!(parse_binding(":80/tcp"), None);
    }

    #[test]
    fn parse_range_accepts_ports_and_ranges() {
        assert_eq!(parse_range("8080"), Some(8080..=8080));
        assert_eq!(parse_range("8000-8010"), Some(8000..=8010));
        assert_eq!(parse_range("0"), None);
        assert_eq!(parse_range("9-8"), None);
        assert_eq!(parse_range("70000"), None);
    }
}
