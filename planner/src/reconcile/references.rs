//! Service references (`network_mode: service:X`, `ipc`, `pid`,
//! `volumes_from`) resolved to container ids before hashing, as Docker
//! Compose does at create time.
//!
//! A referenced container that this plan creates has no id yet: the
//! reference becomes the token `berth-id(NAME)`, which the executor
//! replaces by the real id, and the config hash is computed then.

use std::collections::{BTreeMap, BTreeSet};

use crate::hash::{service_config_hash, service_hash_input};
use crate::model::Service;

use super::containers::FinalContainer;

/// A service with its references resolved, and its config hash.
pub(crate) struct ResolvedService {
    pub service: Service,
    /// The config hash, or "" when it depends on a container created by
    /// this plan.
    pub hash: String,
    /// The hash input with id tokens, when the hash is deferred to apply.
    pub deferred_hash_input: Option<serde_json::Value>,
    /// Referenced services that get a new container in this plan, so every
    /// existing container of this service must be replaced too.
    pub replaced_parents: Vec<String>,
}

/// Rewrites the references of `service` against the containers the plan
/// leaves each referenced service with.
pub(crate) fn resolve_references(
    name: &str,
    service: &Service,
    converged: &BTreeMap<String, Vec<FinalContainer>>,
    replaced: &BTreeSet<String>,
) -> ResolvedService {
    let mut resolved = service.clone();
    let mut deferred = false;
    let mut replaced_parents: Vec<String> = Vec::new();
    let mut resolve = |reference: &str| -> Option<String> {
        let first = converged
            .get(reference)
            .and_then(|containers| containers.iter().min_by(|a, b| a.name.cmp(&b.name)))?;
        let new_container = replaced.contains(reference) || first.id.is_none();
        if new_container && !replaced_parents.iter().any(|p| p == reference) {
            replaced_parents.push(reference.to_string());
        }
        Some(match &first.id {
            Some(id) => id.clone(),
            None => {
                deferred = true;
                format!("berth-id({})", first.name)
            }
        })
    };
    for field in [
        &mut resolved.network_mode,
        &mut resolved.ipc,
        &mut resolved.pid,
    ] {
        if let Some(value) = field.as_deref()
            && let Some(target) = value.strip_prefix("service:")
            && let Some(id) = resolve(target)
        {
            *field = Some(format!("container:{id}"));
        }
    }
    for entry in &mut resolved.volumes_from {
        if let Some(container) = entry.strip_prefix("container:") {
            // The access mode is dropped, as Docker Compose 2.40.3 does.
            *entry = container.split(':').next().unwrap_or(container).to_string();
            continue;
        }
        let target = entry.split(':').next().unwrap_or(entry).to_string();
        if let Some(id) = resolve(&target) {
            *entry = id;
        }
    }
    tracing::trace!(service = name, deferred, "resolved service references");
    if deferred {
        ResolvedService {
            deferred_hash_input: Some(service_hash_input(&resolved)),
            service: resolved,
            hash: String::new(),
            replaced_parents,
        }
    } else {
        ResolvedService {
            hash: service_config_hash(&resolved),
            service: resolved,
            deferred_hash_input: None,
            replaced_parents,
        }
    }
}
