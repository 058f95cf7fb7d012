//! Fingerprints of an observed state. One digest covers everything that
//! planning decisions rest on, and `apply` compares it before acting. A
//! digest per resource lets `apply` name what changed when they differ.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::snapshot::Snapshot;

/// Hex digits kept of each resource's digest: enough to tell a change
/// apart, short enough to keep a plan readable.
const RESOURCE_DIGEST_LENGTH: usize = 16;

/// The fingerprint lines of one resource, keyed by its kind and name, such
/// as `container p-web-1`.
struct ResourceLines {
    key: String,
    lines: Vec<Vec<String>>,
}

impl Snapshot {
    /// Computes a digest of the parts of the observed state that planning decisions
    /// rest on: resource ids, names, labels, states, exit codes, image ids
    /// and the content digests read back from containers. Health and the engine version are left out, since a container
    /// turning healthy between `plan` and `apply` does not make the plan
    /// wrong.
    pub fn fingerprint(&self) -> String {
        let mut digest = Sha256::new();
        feed(&mut digest, &["project".to_owned(), self.project.clone()]);
        for resource in self.resource_lines() {
            for line in &resource.lines {
                feed(&mut digest, line);
            }
        }
        hex::encode(digest.finalize())
    }

    /// Computes a short digest of each resource's part of the
    /// [`fingerprint`](Self::fingerprint), keyed by kind and name
    /// (`container p-web-1`, `network p_default`, `image busybox:1`).
    pub fn resource_digests(&self) -> BTreeMap<String, String> {
        self.resource_lines()
            .into_iter()
            .map(|resource| {
                let mut digest = Sha256::new();
                for line in &resource.lines {
                    feed(&mut digest, line);
                }
                let mut hex = hex::encode(digest.finalize());
                hex.truncate(RESOURCE_DIGEST_LENGTH);
                (resource.key, hex)
            })
            .collect()
    }

    /// Lists the fingerprint lines per resource, in fingerprint order.
    fn resource_lines(&self) -> Vec<ResourceLines> {
        let line = |parts: &[&str]| parts.iter().map(|part| (*part).to_owned()).collect();
        let mut resources = Vec::new();
        for container in &self.containers {
            let exit_code = container.exit_code.to_string();
            let mut lines: Vec<Vec<String>> = vec![line(&[
                "container",
                &container.id,
                &container.name,
                &container.state,
                &exit_code,
                &container.image_id,
            ])];
            for (key, value) in &container.labels {
                lines.push(line(&["label", key, value]));
            }
            // They decide a replacement as berth's content label does.
            for (key, digest) in &container.content_digests {
                lines.push(line(&["content", key, digest]));
            }
            for (network, endpoint) in &container.networks {
                lines.push(line(&["endpoint", network, &endpoint.network_id]));
            }
            for mount in &container.mounts {
                lines.push(line(&[
                    "mount",
                    &mount.kind,
                    &mount.name,
                    &mount.destination,
                ]));
            }
            resources.push(ResourceLines {
                key: format!("container {}", container.name),
                lines,
            });
        }
        for (name, holder) in &self.name_holders {
            resources.push(ResourceLines {
                key: format!("container {name} (outside the project)"),
                lines: vec![line(&["holder", name, &holder.id])],
            });
        }
        for network in self.networks.values() {
            let mut lines = vec![line(&["network", &network.id, &network.name])];
            for (key, value) in &network.labels {
                lines.push(line(&["label", key, value]));
            }
            resources.push(ResourceLines {
                key: format!("network {}", network.name),
                lines,
            });
        }
        for volume in self.volumes.values() {
            let mut lines = vec![line(&["volume", &volume.name, &volume.driver])];
            for (key, value) in &volume.labels {
                lines.push(line(&["label", key, value]));
            }
            resources.push(ResourceLines {
                key: format!("volume {}", volume.name),
                lines,
            });
        }
        for (reference, image) in &self.images {
            resources.push(ResourceLines {
                key: format!("image {reference}"),
                lines: vec![line(&["image", reference, &image.id])],
            });
        }
        for (tag, image) in &self.project_images {
            resources.push(ResourceLines {
                key: format!("project image {tag}"),
                lines: vec![line(&["project_image", tag, &image.id, &image.service])],
            });
        }
        resources
    }
}

/// Adds one line to a digest, each part prefixed by its length so that
/// no two different lines encode alike.
fn feed(digest: &mut Sha256, parts: &[String]) {
    for part in parts {
        digest.update(part.len().to_string().as_bytes());
        digest.update(b":");
        digest.update(part.as_bytes());
    }
    digest.update(b"\n");
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::snapshot::{ObservedContainer, Snapshot};

    fn snapshot_with_digest(digest: &str) -> Snapshot {
        let container = ObservedContainer {
            id: "c1".to_owned(),
            name: "p-proxy-1".to_owned(),
            state: "running".to_owned(),
            content_digests: BTreeMap::from([("configs.routes".to_owned(), digest.to_owned())]),
            ..ObservedContainer::default()
        };
        Snapshot {
            project: "p".to_owned(),
            containers: vec![container],
            ..Snapshot::default()
        }
    }

    #[test]
    fn content_digest_changes_fingerprint() {
        let before = snapshot_with_digest("aaaa");
        let after = snapshot_with_digest("bbbb");
        assert_ne!(before.fingerprint(), after.fingerprint());
    }

    #[test]
    fn content_digest_names_container() {
        let before = snapshot_with_digest("aaaa").resource_digests();
        let after = snapshot_with_digest("bbbb").resource_digests();
        assert_ne!(
            before.get("container p-proxy-1"),
            after.get("container p-proxy-1")
        );
    }
}
