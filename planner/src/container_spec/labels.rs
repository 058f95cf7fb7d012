//! Labels of a service container, as Docker Compose 2.40.3 writes them.

use std::collections::BTreeMap;

use super::ContainerSpec;
use crate::content::{CONTENT_DIGESTS_LABEL, digests_label, service_digests};

/// Value of `com.docker.compose.version`: the Docker Compose version whose
/// create bodies this module reproduces.
pub(crate) const COMPOSE_VERSION: &str = "2.40.3";

/// Builds the labels, later entries overriding earlier ones in the order
/// Compose merges them: user labels, the project labels, `replace`,
/// `config-hash`, `container-number`, `depends_on`.
pub(super) fn labels(spec: &ContainerSpec) -> BTreeMap<String, String> {
    let project = spec.project;
    let mut labels = spec.service.labels.clone();
    let mut set = |key: &str, value: String| {
        labels.insert(format!("com.docker.compose.{key}"), value);
    };

    set("project", project.name.clone());
    set("service", spec.service_name.to_owned());
    set("version", COMPOSE_VERSION.to_owned());
    set("project.working_dir", project.working_dir.clone());
    set("project.config_files", project.config_files.join(","));
    if !project.environment_files.is_empty() {
        set(
            "project.environment_file",
            project.environment_files.join(","),
        );
    }
    set("oneoff", "False".to_owned());
    if let Some(image_id) = spec.image_id {
        set("image", image_id.to_owned());
    }
    if let Some(replace) = spec.replace {
        set("replace", replace.to_owned());
    }
    set("config-hash", spec.config_hash.to_owned());
    if spec.number > 0 {
        set("container-number", spec.number.to_string());
    }

    // `required` is not encoded. Compose's order follows Go map iteration,
    // so readers compare the entries as a set; here they are sorted.
    let depends_on: Vec<String> = spec
        .service
        .depends_on
        .iter()
        .map(|(name, dependency)| format!("{name}:{}:{}", dependency.condition, dependency.restart))
        .collect();
    set("depends_on", depends_on.join(","));

    let digests = service_digests(project, &spec.service.secrets, &spec.service.configs);
    if !digests.is_empty() {
        labels.insert(CONTENT_DIGESTS_LABEL.to_owned(), digests_label(&digests));
    }
    labels
}
