//! Reader for `deploy`. Only `replicas`, `resources` and `restart_policy`
//! change containers on a single engine; the swarm settings are read so
//! that the model and its hash match Compose's.

use super::fields::{
    At, integer, join, known_keys, mapping, non_empty_string, options, string_list, unsigned,
};
use super::limits::{deploy_resources, float, restart_policy, string_values};
use super::service_fields::duration;
use super::yaml::Node;
use crate::load::error::LoadError;
use crate::model::{Deploy, DeployPlacement, PlacementPreference, UpdateConfig};

pub(crate) fn deploy(value: &Node, at: At<'_>) -> Result<Deploy, LoadError> {
    let mut deploy = Deploy::default();
    let Node::Map(map) = value else {
        return Err(at.must_be("a mapping", value));
    };
    known_keys(
        map,
        &[
            "mode",
            "replicas",
            "labels",
            "update_config",
            "rollback_config",
            "resources",
            "restart_policy",
            "placement",
            "endpoint_mode",
        ],
        at,
    )?;
    for (name, value) in options(map) {
        let key = join(at.key, name);
        let f = At::new(at.file, &key);
        match name.as_str() {
            "mode" => deploy.mode = non_empty_string(value, f)?,
            "replicas" => deploy.replicas = Some(unsigned(value, f)?),
            "labels" => deploy.labels = string_values(value, f)?,
            "update_config" => deploy.update_config = Some(update_config(value, f)?),
            "rollback_config" => deploy.rollback_config = Some(update_config(value, f)?),
            "resources" => deploy.resources = deploy_resources(value, f)?,
            "restart_policy" => deploy.restart_policy = Some(restart_policy(value, f)?),
            "placement" => deploy.placement = placement(value, f)?,
            _ => deploy.endpoint_mode = non_empty_string(value, f)?,
        }
    }
    Ok(deploy)
}

fn update_config(value: &Node, at: At<'_>) -> Result<UpdateConfig, LoadError> {
    let map = mapping(value, at)?;
    known_keys(
        map,
        &[
            "parallelism",
            "delay",
            "failure_action",
            "monitor",
            "max_failure_ratio",
            "order",
        ],
        at,
    )?;
    let mut config = UpdateConfig::default();
    for (name, value) in options(map) {
        let key = join(at.key, name);
        let f = At::new(at.file, &key);
        match name.as_str() {
            "parallelism" => config.parallelism = Some(unsigned(value, f)?),
            "delay" => config.delay = Some(duration(value, f)?).filter(|d| d.0 != 0),
            "failure_action" => config.failure_action = non_empty_string(value, f)?,
            "monitor" => config.monitor = Some(duration(value, f)?).filter(|d| d.0 != 0),
            "max_failure_ratio" => config.max_failure_ratio = float(value, f)?,
            _ => config.order = non_empty_string(value, f)?,
        }
    }
    Ok(config)
}

fn placement(value: &Node, at: At<'_>) -> Result<DeployPlacement, LoadError> {
    let map = mapping(value, at)?;
    known_keys(
        map,
        &["constraints", "preferences", "max_replicas_per_node"],
        at,
    )?;
    let mut placement = DeployPlacement::default();
    for (name, value) in options(map) {
        let key = join(at.key, name);
        let f = At::new(at.file, &key);
        match name.as_str() {
            "constraints" => placement.constraints = string_list(value, f)?,
            "max_replicas_per_node" => placement.max_replicas_per_node = integer(value, f)?,
            _ => {
                let Node::Seq(items) = value else {
                    return Err(f.must_be("a list", value));
                };
                for item in items {
                    let entry = mapping(item, f)?;
                    known_keys(entry, &["spread"], f)?;
                    let spread = match entry.get("spread") {
                        Some(spread) => non_empty_string(spread, f)?,
                        None => None,
                    };
                    placement.preferences.push(PlacementPreference { spread });
                }
            }
        }
    }
    Ok(placement)
}
