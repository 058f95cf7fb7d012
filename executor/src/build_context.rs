//! Packing a build context folder into the tar that `POST /build` takes,
//! leaving out what the folder's `.dockerignore` excludes.
//!
//! `.dockerignore` rules, as the Docker CLI applies them: one pattern a
//! line, and `#` starts a comment. A leading `!` makes an exception and a
//! leading `/` is dropped. `*` and `?` match within one path component,
//! and `**` matches any number of components. The last matching line decides, and
//! a pattern that matches a folder excludes everything below it. The
//! Dockerfile and `.dockerignore` itself are always sent, as the CLI does.
//!
//! NOTE: character classes (`[a-z]`) and escapes (`\*`) are matched
//! literally.

use std::fs;
use std::path::{Path, PathBuf};

/// One `.dockerignore` line, split into path components.
#[derive(Debug)]
struct Rule {
    components: Vec<String>,
    exception: bool,
}

/// The rules of one `.dockerignore` file.
#[derive(Debug, Default)]
pub(crate) struct IgnoreRules {
    rules: Vec<Rule>,
}

impl IgnoreRules {
    /// Parses the text of a `.dockerignore` file.
    pub(crate) fn parse(text: &str) -> IgnoreRules {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exception, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let components: Vec<String> = pattern
                .split('/')
                .filter(|part| !part.is_empty() && *part != ".")
                .map(str::to_owned)
                .collect();
            if components.is_empty() {
                continue;
            }
            rules.push(Rule {
                components,
                exception,
            });
        }
        IgnoreRules { rules }
    }

    /// Checks whether a path relative to the context (components joined by
    /// `/`) is left out. A path is also left out when one of its parent
    /// folders matches.
    pub(crate) fn excludes(&self, relative: &str) -> bool {
        let parts: Vec<&str> = relative.split('/').collect();
        let mut excluded = false;
        for rule in &self.rules {
            let matched =
                (1..=parts.len()).any(|end| match_components(&rule.components, &parts[..end]));
            if matched {
                excluded = !rule.exception;
            }
        }
        excluded
    }

    /// Whether any exception could re-include something below `folder`,
    /// so that an excluded folder must still be walked.
    fn has_exceptions(&self) -> bool {
        self.rules.iter().any(|rule| rule.exception)
    }
}

fn match_components(pattern: &[String], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((first, rest)) if first == "**" => {
            (0..=path.len()).any(|skip| match_components(rest, &path[skip..]))
        }
        Some((first, rest)) => match path.split_first() {
            Some((part, path_rest)) => {
                match_glob(first.as_bytes(), part.as_bytes()) && match_components(rest, path_rest)
            }
            None => false,
        },
    }
}

/// Matches one path component against `*` and `?` wildcards.
fn match_glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| match_glob(rest, &text[skip..])),
        Some((b'?', rest)) => !text.is_empty() && match_glob(rest, &text[1..]),
        Some((byte, rest)) => text.first() == Some(byte) && match_glob(rest, &text[1..]),
    }
}

/// Packs `context` into a tar. The Dockerfile at path `dockerfile` inside
/// the context is always included. The `extra` files (name, contents) are
/// added at the root, for an inline Dockerfile or one from outside the
/// context.
pub(crate) fn pack_context(
    context: &Path,
    dockerfile: &str,
    extra: &[(String, Vec<u8>)],
) -> std::io::Result<Vec<u8>> {
    let rules = match fs::read_to_string(context.join(".dockerignore")) {
        Ok(text) => IgnoreRules::parse(&text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => IgnoreRules::default(),
        Err(error) => return Err(error),
    };
    let always = [dockerfile.trim_start_matches("./"), ".dockerignore"];
    let mut files = Vec::new();
    collect(context, context, &rules, &always, &mut files)?;
    files.sort();

    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    builder.mode(tar::HeaderMode::Deterministic);
    for (relative, path) in files {
        builder.append_path_with_name(&path, &relative)?;
    }
    for (name, contents) in extra {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, contents.as_slice())?;
    }
    builder.into_inner()
}

/// Walks `folder` and lists the files and folders to pack, as pairs of
/// the path relative to the context and the path on disk.
fn collect(
    context: &Path,
    folder: &Path,
    rules: &IgnoreRules,
    always: &[&str],
    files: &mut Vec<(String, PathBuf)>,
) -> std::io::Result<()> {
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(folder)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let relative = path
            .strip_prefix(context)
            .map_err(std::io::Error::other)?
            .to_string_lossy()
            .replace('\\', "/");
        let excluded = rules.excludes(&relative) && !always.contains(&relative.as_str());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if !excluded {
                files.push((relative.clone(), path.clone()));
            }
            // An excluded folder is still walked when an exception may
            // bring back something inside it.
            if !excluded || rules.has_exceptions() {
                collect(context, &path, rules, always, files)?;
            }
        } else if !excluded {
            files.push((relative, path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excludes_plain_names_and_folders() {
        let rules = IgnoreRules::parse("# comment\nsecret.txt\nnode_modules\n/build/\n");
        assert!(rules.excludes("secret.txt"));
        assert!(rules.excludes("node_modules/a/b.js"));
        assert!(rules.excludes("build/out.o"));
        assert!(!rules.excludes("sub/secret.txt"));
        assert!(!rules.excludes("Dockerfile"));
    }

    #[test]
    fn wildcards_match_one_component() {
        let rules = IgnoreRules::parse("*.log\ndocs/?.md\n");
        assert!(rules.excludes("a.log"));
        assert!(!rules.excludes("logs/a.log"));
        assert!(rules.excludes("docs/a.md"));
        assert!(!rules.excludes("docs/ab.md"));
    }

    #[test]
    fn double_star_matches_any_depth() {
        let rules = IgnoreRules::parse("**/*.tmp\n");
        assert!(rules.excludes("a.tmp"));
        assert!(rules.excludes("x/y/z.tmp"));
        assert!(!rules.excludes("x/y/z.txt"));
    }

    #[test]
    fn last_matching_line_decides() {
        let rules = IgnoreRules::parse("*.md\n!README.md\n");
        assert!(rules.excludes("CHANGES.md"));
        assert!(!rules.excludes("README.md"));
        let rules = IgnoreRules::parse("!README.md\n*.md\n");
        assert!(rules.excludes("README.md"));
    }

    #[test]
    fn pack_leaves_out_ignored_files() {
        let dir = std::env::temp_dir().join(format!("berth-context-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("cache")).unwrap();
        fs::write(dir.join("Dockerfile"), "FROM scratch\n").unwrap();
        fs::write(dir.join("kept.txt"), "kept").unwrap();
        fs::write(dir.join("secret.txt"), "secret").unwrap();
        fs::write(dir.join("cache/big.bin"), "big").unwrap();
        fs::write(dir.join(".dockerignore"), "secret.txt\ncache\nDockerfile\n").unwrap();

        let tar =
            pack_context(&dir, "Dockerfile", &[("inline".into(), b"FROM x".to_vec())]).unwrap();
        let mut archive = tar::Archive::new(tar.as_slice());
        let mut names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|entry| {
                entry
                    .unwrap()
                    .path()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(names, [".dockerignore", "Dockerfile", "inline", "kept.txt"]);
    }
}
