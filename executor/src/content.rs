//! Copying secrets and configs into a container: reading their content
//! again from the source the plan names, checking it against the plan's
//! digest, and sending it as a tar archive extracted at `/`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use berth_planner::content::{ContentFile, ContentSource, digest};
use berth_planner::load::{FileSource, environment_value};
use berth_planner::plan::{Step, StepAction};

use crate::error::ApplyError;

/// Size of a tar header and of the blocks data is padded to.
const BLOCK: usize = 512;

/// Reads compose, env and secret files from the file system for the
/// planner's loader and for [`environment_value`].
pub struct DiskFiles;

impl FileSource for DiskFiles {
    fn read(&self, path: &Path) -> std::io::Result<Option<String>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(text)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }
}

/// Reads the content of one file from its source and checks it against
/// the digest the plan recorded.
pub(crate) fn read_content(container: &str, file: &ContentFile) -> Result<Vec<u8>, ApplyError> {
    let stale = |detail: String| ApplyError::StaleContent {
        container: container.to_owned(),
        key: file.key.clone(),
        detail,
    };
    let content = match &file.source {
        ContentSource::Inline { content } => content.clone(),
        ContentSource::Environment {
            variable,
            env_files,
        } => {
            let process: BTreeMap<String, String> = std::env::vars_os()
                .filter_map(|(key, value)| {
                    Some((key.into_string().ok()?, value.into_string().ok()?))
                })
                .collect();
            environment_value(variable, &process, env_files, &DiskFiles)
                .map_err(|error| stale(format!("cannot read {variable}: {error}")))?
                .ok_or_else(|| stale(format!("environment variable {variable} is no longer set")))?
        }
    };
    if digest(content.as_bytes()) != file.digest {
        return Err(stale("its content changed".to_owned()));
    }
    Ok(content.into_bytes())
}

/// Checks every copied file of the plan before any step runs, so that a
/// changed secret rejects the plan as stale instead of failing halfway.
pub(crate) fn check_contents(steps: &[Step]) -> Result<(), ApplyError> {
    for step in steps {
        if let StepAction::CopyContent { container, files } = &step.action {
            for file in files {
                read_content(&container.name, file)?;
            }
        }
    }
    Ok(())
}

/// Builds a ustar archive with one regular file per entry, named by its
/// target path without the leading `/`, with the owner and mode the plan
/// gives. Missing parent directories are created by the engine.
pub(crate) fn tar_archive(entries: &[(&ContentFile, Vec<u8>)]) -> Result<Vec<u8>, String> {
    let mtime = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let mut archive = Vec::new();
    for (file, content) in entries {
        let mut header = [0u8; BLOCK];
        let path = file.target.trim_start_matches('/');
        let (prefix, name) = split_path(path)
            .ok_or_else(|| format!("target path `{}` is too long for a tar header", file.target))?;
        header[..name.len()].copy_from_slice(name.as_bytes());
        put_octal(&mut header[100..108], u64::from(file.mode & 0o7777));
        put_octal(&mut header[108..116], u64::from(file.uid));
        put_octal(&mut header[116..124], u64::from(file.gid));
        put_octal(&mut header[124..136], content.len() as u64);
        put_octal(&mut header[136..148], mtime);
        header[156] = b'0';
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        header[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
        // The checksum is computed with its own field read as spaces.
        header[148..156].fill(b' ');
        let checksum: u64 = header.iter().map(|byte| u64::from(*byte)).sum();
        let text = format!("{checksum:06o}\0 ");
        header[148..156].copy_from_slice(text.as_bytes());

        archive.extend_from_slice(&header);
        archive.extend_from_slice(content);
        let padding = (BLOCK - content.len() % BLOCK) % BLOCK;
        archive.resize(archive.len() + padding, 0);
    }
    // Two zero blocks end the archive.
    archive.resize(archive.len() + 2 * BLOCK, 0);
    Ok(archive)
}

/// Splits a path into the ustar `prefix` (at most 155 bytes) and `name`
/// (at most 100 bytes) fields, at a `/`.
fn split_path(path: &str) -> Option<(&str, &str)> {
    if path.len() <= 100 {
        return Some(("", path));
    }
    path.match_indices('/')
        .map(|(index, _)| (&path[..index], &path[index + 1..]))
        .find(|(prefix, name)| prefix.len() <= 155 && name.len() <= 100 && !name.is_empty())
}

/// Writes `value` as zero-padded octal followed by a NUL, filling `field`.
fn put_octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let text = format!("{value:0width$o}");
    let bytes = text.as_bytes();
    let start = bytes.len().saturating_sub(width);
    field[..width].copy_from_slice(&bytes[start..]);
    field[width] = 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(target: &str) -> ContentFile {
        ContentFile {
            key: "configs.routes".into(),
            target: target.into(),
            uid: 1000,
            gid: 1001,
            mode: 0o440,
            source: ContentSource::Inline {
                content: "route alpha\n".into(),
            },
            digest: digest(b"route alpha\n"),
        }
    }

    #[test]
    fn tar_header_fields() {
        let entry = file("/etc/routes.conf");
        let archive = tar_archive(&[(&entry, b"route alpha\n".to_vec())]).unwrap();
        assert_eq!(archive.len(), 4 * BLOCK);
        assert_eq!(&archive[..15], b"etc/routes.conf");
        assert_eq!(&archive[100..108], b"0000440\0");
        assert_eq!(&archive[108..116], b"0001750\0");
        assert_eq!(&archive[116..124], b"0001751\0");
        assert_eq!(&archive[124..136], b"00000000014\0");
        assert_eq!(&archive[BLOCK..BLOCK + 12], b"route alpha\n");
        let stored = std::str::from_utf8(&archive[148..154]).unwrap();
        let mut copy = archive[..BLOCK].to_vec();
        copy[148..156].fill(b' ');
        let sum: u64 = copy.iter().map(|b| u64::from(*b)).sum();
        assert_eq!(u64::from_str_radix(stored, 8).unwrap(), sum);
    }

    #[test]
    fn long_target_uses_prefix() {
        let long = format!("/{}/{}", "d".repeat(120), "f".repeat(50));
        let entry = file(&long);
        let archive = tar_archive(&[(&entry, Vec::new())]).unwrap();
        assert_eq!(&archive[..50], "f".repeat(50).as_bytes());
        assert_eq!(&archive[345..465], "d".repeat(120).as_bytes());
    }

    #[test]
    fn inline_content_with_other_digest_is_stale() {
        let mut entry = file("/etc/routes.conf");
        entry.digest = digest(b"route beta\n");
        let error = read_content("p-proxy-1", &entry).unwrap_err();
        assert!(matches!(error, ApplyError::StaleContent { .. }), "{error}");
    }
}
