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

/// Compares the container's content digests with the model's.
pub(crate) fn content_state(
    container: &ObservedContainer,
    project: &Project,
    service: &Service,
) -> ContentState {
    let expected = service_digests(project, &service.secrets, &service.configs);
    match container.labels.get(CONTENT_DIGESTS_LABEL) {
        None if expected.is_empty() => ContentState::Current,
        None => ContentState::Unknown,
        Some(label) if parse_digests_label(label) == expected => ContentState::Current,
        Some(_) => ContentState::Changed,
    }
}

/// Lists one diff per secret or config whose digest changed, with short
/// digests. Secrets are marked sensitive, so renderers mask them.
pub(crate) fn content_diffs(old: &ObservedContainer, body: &ContainerBody) -> Vec<FieldDiff> {
    let parse = |labels: &BTreeMap<String, String>| {
        labels
            .get(CONTENT_DIGESTS_LABEL)
            .map(|label| parse_digests_label(label))
            .unwrap_or_default()
    };
    let before = parse(&old.labels);
    let after = parse(&body.labels);
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
