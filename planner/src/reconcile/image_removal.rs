//! Image removal for `berth plan --destroy --rmi`, as `docker compose down
//! --rmi` picks the images.

use std::collections::BTreeSet;

use crate::labels;
use crate::model::Project;
use crate::plan::{ImageRemoval, StepAction, Warning};
use crate::snapshot::{ObservedContainer, Snapshot};

use super::containers::service_image;
use super::steps::StepList;

/// Adds a removal step per image after every container removal in
/// `removals`, and returns the names of the images removed.
///
/// `Local` picks the `<project>-<service>` images of services without
/// `image:`, `All` every service's image; either only when the engine has
/// it. An image that a container of the project keeps using (a one-off or
/// an orphan left without `--remove-orphans`) is skipped with a warning.
/// The plan cannot see containers of other projects: their images are
/// left to `apply`, which never forces a removal.
pub(crate) fn plan_image_removal(
    project: &Project,
    snapshot: &Snapshot,
    removal: ImageRemoval,
    kept: &[&ObservedContainer],
    removals: &[String],
    steps: &mut StepList,
    warnings: &mut Vec<Warning>,
) -> Vec<String> {
    // NOTE: Docker Compose's `local` also removes images that carry the
    // project label under another name; the snapshot has no image labels.
    let mut images = BTreeSet::new();
    for (name, service) in &project.services {
        if removal == ImageRemoval::Local && service.image.is_some() {
            continue;
        }
        images.insert(service_image(&project.name, name, service));
    }
    let mut removed = Vec::new();
    for image in images {
        let Some(observed) = snapshot.images.get(&image) else {
            continue;
        };
        let users: Vec<&str> = kept
            .iter()
            .filter(|container| container.label(labels::IMAGE) == observed.id)
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
