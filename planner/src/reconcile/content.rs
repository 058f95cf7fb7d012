//! Change detection for the content of secrets and configs, which the
//! config hash of Docker Compose 2.40.3 leaves out: the container's
//! [`CONTENT_DIGESTS_LABEL`] is compared with the digests of what the
//! compose files name now.

use std::collections::BTreeMap;

use serde_json::json;

use crate::content::{CONTENT_DIGESTS_LABEL, parse_digests_label, service_digests};
use crate::engine_body::ContainerBody;
use crate::model::{Project, Service};
use crate::plan::FieldDiff;
use crate::snapshot::ObservedContainer;

/// The state of a container's copied content compared with the model's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ContentState {
    /// Same digests, or no secret or config with content on either side.
    Current,
    /// At least one digest differs, or a secret or config was added or
    /// dropped.
    Changed,
    /// The container lacks the label: Docker Compose, or a berth older
    /// than the label, created it.
    Unknown,
}

/// Compares the container's content digests with the model's. Without
/// berth's label, the digests of the files read from the container stand
/// in for it.
pub(crate) fn content_state(
    container: &ObservedContainer,
    project: &Project,
    service: &Service,
) -> ContentState {
    let expected = service_digests(project, &service.secrets, &service.configs);
    let observed = recorded_digests(container);
    match observed {
        None if expected.is_empty() => ContentState::Current,
        None => ContentState::Unknown,
        Some(digests) if digests == expected => ContentState::Current,
        Some(_) => ContentState::Changed,
    }
}

/// Returns the content digests the container is known to hold: its label,
/// or else the digests read from its files, or `None` when neither exists.
fn recorded_digests(container: &ObservedContainer) -> Option<BTreeMap<String, String>> {
    match container.labels.get(CONTENT_DIGESTS_LABEL) {
        Some(label) => Some(parse_digests_label(label)),
        None if container.content_digests.is_empty() => None,
        None => Some(container.content_digests.clone()),
    }
}

/// Lists one diff per secret or config whose digest changed, with short
/// digests. Secrets are marked sensitive, so renderers mask them.
pub(crate) fn content_diffs(old: &ObservedContainer, body: &ContainerBody) -> Vec<FieldDiff> {
    let before = recorded_digests(old).unwrap_or_default();
    let after = body
        .labels
        .get(CONTENT_DIGESTS_LABEL)
        .map(|label| parse_digests_label(label))
        .unwrap_or_default();
    let short = |digest: Option<&String>| {
        digest.map(|digest| json!(format!("sha256:{}", &digest[..digest.len().min(12)])))
    };
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|key| before.get(*key) != after.get(*key))
        .map(|key| FieldDiff {
            path: key.clone(),
            before: short(before.get(key)),
            after: short(after.get(key)),
            sensitive: key.starts_with("secrets."),
        })
        .collect()
}
