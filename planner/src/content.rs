//! Secrets and configs whose content is copied into a container rather
//! than bind-mounted: those given by `content:` or `environment:`.
//!
//! Docker Compose 2.40.3 writes such a file before each start of a
//! container that is not running, as a one-file tar archive extracted at
//! `/` with the owner taken from the archive. A plan is committed next to
//! pull requests, so it carries the content of a config given inline, but
//! for anything read from the environment it carries only where the value
//! comes from and its SHA-256 digest. `apply` reads the value again from
//! that source and rejects the plan when the digest no longer matches.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{FileObject, FileReference, Project};

/// berth's own container label: the digests of the content of every
/// secret and config the container got, as `configs.NAME=HEX` entries
/// joined by commas in key order. Docker Compose does not hash that
/// content, so `com.docker.compose.config-hash` stays equal to its own.
pub const CONTENT_DIGESTS_LABEL: &str = "berth.content-digests";

/// Default permissions of a copied file, as Docker Compose 2.40.3 sets them.
pub const DEFAULT_MODE: u32 = 0o444;

/// One file that a step copies into a container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContentFile {
    /// `secrets.NAME` or `configs.NAME`.
    pub key: String,
    /// Absolute path of the file in the container.
    pub target: String,
    pub uid: u32,
    pub gid: u32,
    /// Permission bits, such as `292` (octal 0444).
    pub mode: u32,
    /// The source `apply` reads the content from.
    pub source: ContentSource,
    /// SHA-256 of the content, hex, as read when the plan was made.
    pub digest: String,
}

/// The source of a copied file's content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ContentSource {
    /// A config's `content:`, after interpolation. `docker compose config`
    /// prints it too, so the plan carries it as it is.
    Inline { content: String },
    /// The value of an environment variable. `apply` reads the process
    /// environment first, then `env_files` in order, the last one that
    /// sets the variable winning, as the loader resolves `.env` values.
    Environment {
        variable: String,
        /// Absolute paths of the env files the value came from; empty
        /// when the process environment set it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        env_files: Vec<String>,
    },
}

/// Returns the SHA-256 of `bytes` as lowercase hex.
pub fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Builds the value of [`CONTENT_DIGESTS_LABEL`] from digests by key.
pub fn digests_label(digests: &BTreeMap<String, String>) -> String {
    digests
        .iter()
        .map(|(key, digest)| format!("{key}={digest}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses the value of [`CONTENT_DIGESTS_LABEL`]; entries without `=` are
/// skipped.
pub fn parse_digests_label(value: &str) -> BTreeMap<String, String> {
    value
        .split(',')
        .filter_map(|entry| entry.split_once('='))
        .map(|(key, digest)| (key.to_owned(), digest.to_owned()))
        .collect()
}

/// Returns the digests of the content of the service's secrets and
/// configs by `secrets.NAME` / `configs.NAME`, leaving out those without
/// one.
pub fn service_digests(
    project: &Project,
    secrets: &[FileReference],
    configs: &[FileReference],
) -> BTreeMap<String, String> {
    let mut digests = BTreeMap::new();
    let mut add = |kind: &str, declared: &BTreeMap<String, FileObject>, source: &str| {
        if let Some(digest) = declared.get(source).and_then(|o| o.digest.clone()) {
            digests.insert(format!("{kind}.{source}"), digest);
        }
    };
    for reference in secrets {
        add("secrets", &project.secrets, &reference.source);
    }
    for reference in configs {
        add("configs", &project.configs, &reference.source);
    }
    digests
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_round_trip() {
        let digests = BTreeMap::from([
            ("configs.routes".to_owned(), digest(b"route alpha\n")),
            ("secrets.key".to_owned(), digest(b"")),
        ]);
        let label = digests_label(&digests);
        assert!(label.starts_with("configs.routes="));
        assert_eq!(parse_digests_label(&label), digests);
    }

    #[test]
    fn digest_is_sha256_hex() {
        assert_eq!(
            digest(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
