//! Reading back the secret and config files of containers that lack
//! berth's content-digests label, such as those Docker Compose created, so
//! that a plan can tell whether their content is current instead of only
//! warning that it cannot.

use std::collections::BTreeMap;
use std::io::Read;

use berth_planner::content::{CONTENT_DIGESTS_LABEL, digest};
use berth_planner::labels;
use berth_planner::snapshot::ObservedContainer;
use bollard::Docker;
use bollard::query_parameters::DownloadFromContainerOptions;
use futures_util::StreamExt;

use crate::error::{engine_message, status_of};

/// Largest archive read back for one file. Secrets and configs are small,
/// so anything larger is left unverified rather than held in memory.
const MAX_ARCHIVE_BYTES: usize = 16 * 1024 * 1024;

/// Fills `content_digests` of each running container that lacks the label
/// and whose service has files in `files`, keyed by service and then by
/// `secrets.NAME` / `configs.NAME`, with the path in the container.
///
/// A missing file is left out, so the plan finds a change. When a file
/// cannot be read, the container keeps no digests at all, so the plan warns
/// instead of replacing it on a doubt.
pub(crate) async fn read_content_digests(
    docker: &Docker,
    containers: &mut [ObservedContainer],
    files: &BTreeMap<String, BTreeMap<String, String>>,
) {
    for container in containers.iter_mut() {
        if container.state != "running" || container.labels.contains_key(CONTENT_DIGESTS_LABEL) {
            continue;
        }
        let Some(targets) = files.get(container.label(labels::SERVICE)) else {
            continue;
        };
        let mut digests = BTreeMap::new();
        for (key, path) in targets {
            match read_file(docker, &container.id, path).await {
                Ok(Some(bytes)) => {
                    digests.insert(key.clone(), digest(&bytes));
                }
                Ok(None) => {
                    tracing::info!(container = container.name, path, "copied file is missing");
                }
                Err(reason) => {
                    tracing::warn!(
                        container = container.name,
                        path,
                        "cannot read back a copied file, so its content stays unverified: {reason}"
                    );
                    digests.clear();
                    break;
                }
            }
        }
        container.content_digests = digests;
    }
}

/// Returns the bytes of the regular file at `path` in the container, or
/// `None` when there is no such file.
async fn read_file(docker: &Docker, id: &str, path: &str) -> Result<Option<Vec<u8>>, String> {
    let options = DownloadFromContainerOptions {
        path: path.to_owned(),
    };
    let mut stream = docker.download_from_container(id, Some(options));
    let mut archive = Vec::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => archive.extend_from_slice(&bytes),
            Err(error) if status_of(&error) == Some(404) => return Ok(None),
            Err(error) => return Err(engine_message(&error).1),
        }
        if archive.len() > MAX_ARCHIVE_BYTES {
            return Err(format!("the archive exceeds {MAX_ARCHIVE_BYTES} bytes"));
        }
    }
    first_regular_file(&archive)
}

/// Returns the content of the first regular file of a tar archive.
fn first_regular_file(archive: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut reader = tar::Archive::new(archive);
    let entries = reader.entries().map_err(|error| error.to_string())?;
    for entry in entries {
        let mut entry = entry.map_err(|error| error.to_string())?;
        if entry.header().entry_type().is_file() {
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(|error| error.to_string())?;
            return Ok(Some(bytes));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::first_regular_file;

    fn archive(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o444);
            header.set_cksum();
            builder.append_data(&mut header, path, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn reads_the_file_of_an_archive() {
        let bytes = archive(&[("routes.conf", tar::EntryType::Regular, b"route beta\n")]);
        let file = first_regular_file(&bytes).unwrap();
        assert_eq!(file.as_deref(), Some(&b"route beta\n"[..]));
    }

    #[test]
    fn directory_archive_has_no_file() {
        let bytes = archive(&[("etc/", tar::EntryType::Directory, b"")]);
        assert_eq!(first_regular_file(&bytes).unwrap(), None);
    }
}
