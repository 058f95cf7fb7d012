//! Notes under a change: which containers a network replacement
//! disconnects and connects again, with the endpoint settings they keep,
//! that a replaced volume loses its data, and which hooks run in a
//! container. Both renderings show them.

use std::collections::BTreeSet;

use crate::engine_body::EndpointBody;
use crate::plan::{Action, Plan, ResourceChange, ResourceKind, StepAction};

/// Returns the notes of one change, in the order its steps run. Hook
/// environment values show only with `show_sensitive`.
pub(super) fn change_notes(
    plan: &Plan,
    change: &ResourceChange,
    show_sensitive: bool,
) -> Vec<String> {
    match (change.kind, change.action) {
        (ResourceKind::Network, Action::Replace) => network_notes(plan, &change.name),
        (ResourceKind::Volume, Action::Replace) => vec![
            "the data in this volume will be lost: it is removed and created empty".to_string(),
        ],
        _ => super::hooks::hook_notes(plan, change, show_sensitive),
    }
}

/// Builds one note per container that the replacement disconnects or
/// connects: connected again with its endpoint settings, connected although
/// it was not attached, or left off because the plan removes it.
/// Connections of containers that the plan creates get no note.
fn network_notes(plan: &Plan, network: &str) -> Vec<String> {
    let created: BTreeSet<&str> = plan
        .steps
        .iter()
        .filter_map(|step| match &step.action {
            StepAction::CreateContainer { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let mut disconnected: Vec<&str> = Vec::new();
    for step in &plan.steps {
        if let StepAction::DisconnectNetwork {
            container,
            network: from,
        } = &step.action
            && from == network
        {
            disconnected.push(container);
        }
    }
    let connect = |container: &str| {
        plan.steps.iter().find_map(|step| match &step.action {
            StepAction::ConnectNetwork {
                container: to_connect,
                network: to,
                endpoint,
            } if to_connect == container && to == network => Some(endpoint),
            _ => None,
        })
    };
    let mut notes = Vec::new();
    for container in &disconnected {
        notes.push(match connect(container) {
            Some(endpoint) => format!(
                "reconnects {container} without replacing it, with {}",
                describe_endpoint(endpoint)
            ),
            None => format!("disconnects {container}, which this plan removes"),
        });
    }
    for step in &plan.steps {
        let StepAction::ConnectNetwork {
            container,
            network: to,
            endpoint,
        } = &step.action
        else {
            continue;
        };
        if to != network
            || disconnected.contains(&container.as_str())
            || created.contains(container.as_str())
        {
            continue;
        }
        notes.push(format!(
            "connects {container}, which is not attached now, with {}",
            describe_endpoint(endpoint)
        ));
    }
    notes
}

/// Lists the settings of an endpoint, such as `aliases p-web-1, web;
/// ipv4 172.28.0.10`.
fn describe_endpoint(endpoint: &EndpointBody) -> String {
    let mut parts = Vec::new();
    if !endpoint.aliases.is_empty() {
        parts.push(format!("aliases {}", endpoint.aliases.join(", ")));
    }
    if let Some(ipam) = &endpoint.ipam_config {
        if let Some(ipv4) = &ipam.ipv4_address {
            parts.push(format!("ipv4 {ipv4}"));
        }
        if let Some(ipv6) = &ipam.ipv6_address {
            parts.push(format!("ipv6 {ipv6}"));
        }
        if !ipam.link_local_ips.is_empty() {
            parts.push(format!("link-local {}", ipam.link_local_ips.join(", ")));
        }
    }
    if let Some(mac) = &endpoint.mac_address {
        parts.push(format!("mac {mac}"));
    }
    if !endpoint.driver_opts.is_empty() {
        let options: Vec<String> = endpoint
            .driver_opts
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        parts.push(format!("driver options {}", options.join(", ")));
    }
    if endpoint.gw_priority != 0 {
        parts.push(format!("gateway priority {}", endpoint.gw_priority));
    }
    if !endpoint.links.is_empty() {
        parts.push(format!("links {}", endpoint.links.join(", ")));
    }
    if parts.is_empty() {
        "no endpoint settings".to_string()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::super::sample_plans::network_replacement;
    use super::super::{RenderOptions, render_markdown, render_text};
    use super::*;

    #[test]
    fn network_notes_name_each_container() {
        let plan = network_replacement();
        let notes = change_notes(&plan, &plan.changes[0], false);
        assert_eq!(
            notes,
            [
                "disconnects shop-old-1, which this plan removes",
                "reconnects shop-web-1 without replacing it, with aliases shop-web-1, web, www; ipv4 172.28.0.10",
            ]
        );
    }

    #[test]
    fn network_notes_in_both_renderings() {
        let plan = network_replacement();
        let options = RenderOptions::default();
        let text = render_text(&plan, &options);
        assert!(
            text.contains("\n      reconnects shop-web-1 without replacing it"),
            "{text}"
        );
        let markdown = render_markdown(&plan, &options);
        assert!(
            markdown.contains("### `network.back` (`shop_back`)"),
            "{markdown}"
        );
        assert!(
            markdown.contains("- reconnects shop-web-1 without replacing it"),
            "{markdown}"
        );
    }

    #[test]
    fn container_changes_have_no_notes() {
        let plan = network_replacement();
        assert!(change_notes(&plan, &plan.changes[1], false).is_empty());
    }
}
