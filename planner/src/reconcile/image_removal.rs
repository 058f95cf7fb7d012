//! Image removal for `berth plan --destroy --rmi`, as `docker compose down
//! --rmi` picks the images.

use std::collections::BTreeMap;

use crate::labels;
use crate::model::Project;
use crate::plan::{ImageRemoval, PlanOptions, StepAction, Warning};
use crate::snapshot::{ObservedContainer, Snapshot};

use super::containers::service_image;
use super::steps::StepList;

/// Adds a removal step per image that `options.remove_images` picks, after
/// every container removal in `removals`, and returns the names of the
/// images removed.
///
/// The images are those `docker compose down --rmi` (2.40.3) picks.
/// `Local` takes the images that carry the project label, by their first
/// tag, when their service label names a service of the model (any of
/// them with `options.remove_orphans`). It also takes the
/// `<project>-<service>` images of services without `image:`. `All` adds every service's image. Only images the
/// engine has are taken, and names are compared in their familiar form
/// with a tag, so `p-app` and `p-app:latest` are one removal. An image
/// that a container of the project keeps using (a one-off or an orphan
/// left without `--remove-orphans`) is skipped with a warning. The plan
/// cannot see containers of other projects: their images are left to
/// `apply`, which never forces a removal.
pub(crate) fn plan_image_removal(
    project: &Project,
    snapshot: &Snapshot,
    options: &PlanOptions,
    kept: &[&ObservedContainer],
    removals: &[String],
    steps: &mut StepList,
    warnings: &mut Vec<Warning>,
) -> Vec<String> {
    let Some(removal) = options.remove_images else {
        return Vec::new();
    };
    // Image ids keyed by the name the removal uses.
    let mut images: BTreeMap<String, &str> = BTreeMap::new();
    for (name, service) in &project.services {
        if removal == ImageRemoval::Local && service.image.is_some() {
            continue;
        }
        let image = service_image(&project.name, name, service);
        if let Some(observed) = snapshot.images.get(&image) {
            images.insert(familiar_reference(&image), &observed.id);
        }
    }
    for (tag, image) in &snapshot.project_images {
        if options.remove_orphans || project.services.contains_key(&image.service) {
            images.insert(familiar_reference(tag), &image.id);
        }
    }
    let mut removed = Vec::new();
    for (image, id) in images {
        let users: Vec<&str> = kept
            .iter()
            .filter(|container| container.label(labels::IMAGE) == id)
            .map(|container| container.name.as_str())
            .collect();
        if !users.is_empty() {
            warnings.push(Warning {
                code: "image_in_use".into(),
                message: format!(
                    "image {image} is kept because it is still used by {} (add --remove-orphans to remove those containers too)",
                    users.join(", ")
                ),
            });
            continue;
        }
        steps.create_phase(
            format!("image.remove:{image}"),
            removals.to_vec(),
            StepAction::RemoveImage {
                name: image.clone(),
            },
        );
        removed.push(image);
    }
    removed
}

/// Returns `reference` in Docker's familiar form with a tag, the form
/// Docker Compose removes images by: `busybox` becomes `busybox:latest`,
/// `docker.io/library/busybox:1` becomes `busybox:1`. A reference with a
/// digest keeps it and gets no tag.
fn familiar_reference(reference: &str) -> String {
    let prefixes = [
        "docker.io/library/",
        "index.docker.io/library/",
        "docker.io/",
        "index.docker.io/",
    ];
    let name = prefixes
        .iter()
        .find_map(|prefix| reference.strip_prefix(prefix))
        .unwrap_or(reference);
    let last_component = name.rsplit('/').next().unwrap_or(name);
    if name.contains('@') || last_component.contains(':') {
        name.to_owned()
    } else {
        format!("{name}:latest")
    }
}

#[cfg(test)]
mod tests {
    use super::familiar_reference;

    #[test]
    fn familiar_reference_forms() {
        let cases = [
            ("p-app", "p-app:latest"),
            ("p-app:latest", "p-app:latest"),
            ("local/busybox:test", "local/busybox:test"),
            ("docker.io/library/busybox", "busybox:latest"),
            ("docker.io/library/busybox:1.36", "busybox:1.36"),
            ("docker.io/grafana/grafana", "grafana/grafana:latest"),
            ("127.0.0.1:5000/app", "127.0.0.1:5000/app:latest"),
            ("127.0.0.1:5000/app:v1", "127.0.0.1:5000/app:v1"),
            ("busybox@sha256:abcd", "busybox@sha256:abcd"),
        ];
        for (reference, expected) in cases {
            assert_eq!(familiar_reference(reference), expected, "{reference}");
        }
    }
}
