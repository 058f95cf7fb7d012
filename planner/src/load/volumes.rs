//! Service `volumes`: the short syntax (`source:target:mode`, `target`)
//! and the long syntax, turned into the long form Compose prints, with
//! relative bind sources made absolute against the project directory.

use std::path::{Component, Path, PathBuf};

use indexmap::IndexMap;

use super::error::LoadError;
use super::fields::{
    At, boolean, index, join, known_keys, mapping, non_empty_string, string, string_or_number,
};
use super::limits::string_values;
use super::yaml::Node;
use crate::model::{BindOptions, ImageVolumeOptions, ServiceVolume, TmpfsOptions, VolumeOptions};

const PROPAGATIONS: &[&str] = &[
    "shared", "rshared", "slave", "rslave", "private", "rprivate",
];

/// The directories that relative and `~` paths resolve against.
pub(crate) struct PathBase<'a> {
    pub(crate) project_dir: &'a Path,
    pub(crate) home: Option<&'a str>,
}

/// Parses a service's `volumes` list.
pub(crate) fn parse_volumes(
    node: &Node,
    at: At<'_>,
    base: &PathBase<'_>,
) -> Result<Vec<ServiceVolume>, LoadError> {
    let Node::Seq(items) = node else {
        return Err(at.must_be("a list", node));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let key = index(at.key, i);
            let at = At::new(at.file, &key);
            match item {
                Node::Str(text) => parse_short(text, at, base),
                Node::Map(map) => parse_long(map, at, base),
                other => Err(at.must_be("a string or a mapping", other)),
            }
        })
        .collect()
}

/// Returns the container path of a `volumes` entry, which identifies it
/// when files are merged.
pub(crate) fn target_of(node: &Node) -> Option<String> {
    match node {
        Node::Str(text) => split_short(text)
            .ok()
            .map(|parts| clean_target(&parts.target)),
        Node::Map(map) => match map.get("target") {
            Some(Node::Str(target)) => Some(clean_target(target)),
            _ => None,
        },
        _ => None,
    }
}

/// True for a short-syntax source that is a host path, not a volume name.
pub(crate) fn is_path(source: &str) -> bool {
    source.starts_with('.') || source.starts_with('/') || source.starts_with('~')
}

/// True for `C:\dir` or `C:/dir`, which Compose keeps as written.
fn is_windows_path(source: &str) -> bool {
    let bytes = source.as_bytes();
    bytes.len() >= 3
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && (bytes[2] == b'\\' || bytes[2] == b'/')
}

/// The fields of a short-syntax entry, split the way compose-go splits
/// them: a colon right after a single letter belongs to a Windows drive
/// (`C:\\data`, also `x:/x`), so `x:/x` alone is an anonymous volume at
/// that odd target, as Compose 2.40.3 reads it.
struct ShortParts {
    source: Option<String>,
    target: String,
    options: Option<String>,
}

/// Splits a short-syntax entry into source, target and options.
fn split_short(text: &str) -> Result<ShortParts, &'static str> {
    let mut fields: Vec<String> = Vec::new();
    let mut buffer = String::new();
    for c in text.chars() {
        let drive =
            c == ':' && buffer.chars().count() == 1 && buffer.chars().all(char::is_alphabetic);
        if c == ':' && !drive {
            if buffer.is_empty() {
                return Err("an empty section between colons");
            }
            if fields.len() == 2 {
                return Err("too many colons");
            }
            fields.push(std::mem::take(&mut buffer));
        } else {
            buffer.push(c);
        }
    }
    if buffer.is_empty() {
        return Err("an empty section between colons");
    }
    fields.push(buffer);
    let mut fields = fields.into_iter();
    Ok(match (fields.next(), fields.next(), fields.next()) {
        (Some(target), None, _) => ShortParts {
            source: None,
            target,
            options: None,
        },
        (Some(source), Some(target), options) => ShortParts {
            source: Some(source),
            target,
            options,
        },
        (None, _, _) => return Err("an empty entry"),
    })
}

/// True for a short-syntax source that Compose treats as a host path:
/// relative, absolute, home-relative, a Windows drive or a named pipe.
fn is_short_path(source: &str) -> bool {
    let mut chars = source.chars();
    let drive =
        matches!((chars.next(), chars.next()), (Some(letter), Some(':')) if letter.is_alphabetic());
    is_path(source) || source.starts_with("\\\\") || drive
}

fn parse_short(text: &str, at: At<'_>, base: &PathBase<'_>) -> Result<ServiceVolume, LoadError> {
    // Compose reads a spec of one or two characters as an anonymous
    // volume target without volume options, so `- /d` has no `volume: {}`.
    if (1..=2).contains(&text.chars().count()) {
        return Ok(ServiceVolume {
            kind: "volume".to_owned(),
            source: None,
            target: text.to_owned(),
            read_only: false,
            bind: None,
            volume: None,
            tmpfs: None,
            consistency: None,
            image: None,
        });
    }
    let parts = split_short(text).map_err(|problem| {
        at.invalid(
            text,
            format!("{problem}; expected `target`, `source:target` or `source:target:mode`"),
        )
    })?;
    let mut read_only = false;
    let mut bind = None::<BindOptions>;
    let mut nocopy = false;
    // Compose ignores options it does not know (`cached`, `delegated`,
    // `consistent` come from Docker for Mac), so berth does too.
    for option in parts.options.as_deref().unwrap_or("").split(',') {
        match option {
            "ro" => read_only = true,
            "rw" => read_only = false,
            "nocopy" => nocopy = true,
            "z" | "Z" => {
                bind.get_or_insert_with(BindOptions::default).selinux = Some(option.to_owned())
            }
            p if PROPAGATIONS.contains(&p) => {
                bind.get_or_insert_with(BindOptions::default).propagation = Some(p.to_owned());
            }
            _ => {}
        }
    }
    let volume_options = |nocopy: bool| VolumeOptions {
        nocopy,
        ..VolumeOptions::default()
    };
    Ok(match parts.source {
        Some(source) if is_short_path(&source) => ServiceVolume {
            kind: "bind".to_owned(),
            source: Some(absolute(&source, base)),
            target: clean_target(&parts.target),
            read_only,
            bind: Some(BindOptions {
                create_host_path: true,
                ..bind.unwrap_or_default()
            }),
            volume: nocopy.then(|| volume_options(true)),
            tmpfs: None,
            consistency: None,
            image: None,
        },
        source => ServiceVolume {
            kind: "volume".to_owned(),
            source,
            target: clean_target(&parts.target),
            read_only,
            bind,
            volume: Some(volume_options(nocopy)),
            tmpfs: None,
            consistency: None,
            image: None,
        },
    })
}

fn parse_long(
    map: &IndexMap<String, Node>,
    at: At<'_>,
    base: &PathBase<'_>,
) -> Result<ServiceVolume, LoadError> {
    known_keys(
        map,
        &[
            "type",
            "source",
            "target",
            "read_only",
            "bind",
            "volume",
            "tmpfs",
            "image",
            "consistency",
        ],
        at,
    )?;
    let field = |name: &str| join(at.key, name);
    let get_string = |name: &str| -> Result<Option<String>, LoadError> {
        match map.get(name) {
            None | Some(Node::Null) => Ok(None),
            Some(value) => string(value, At::new(at.file, &field(name))).map(Some),
        }
    };
    let kind = get_string("type")?.ok_or_else(|| {
        At::new(at.file, &field("type")).invalid("", "one of bind, volume, tmpfs")
    })?;
    let target = get_string("target")?
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            At::new(at.file, &field("target")).invalid("", "the path in the container")
        })?;
    let source = get_string("source")?.filter(|s| !s.is_empty());
    let read_only = match map.get("read_only") {
        Some(value) => boolean(value, At::new(at.file, &field("read_only")))?,
        None => false,
    };
    let mut volume = ServiceVolume {
        kind: kind.clone(),
        source: None,
        target: clean_target(&target),
        read_only,
        consistency: get_string("consistency")?.filter(|c| !c.is_empty()),
        bind: None,
        volume: None,
        tmpfs: None,
        image: None,
    };
    let options = |name: &str| map.get(name).map(|node| (node, field(name)));
    match kind.as_str() {
        "bind" => {
            let source = source.ok_or_else(|| {
                At::new(at.file, &field("source")).invalid("", "the host path of the bind mount")
            })?;
            volume.source = Some(absolute(&source, base));
            // Unlike the short syntax, the long one creates no missing host
            // path unless `bind.create_host_path` is set.
            if let Some((node, key)) = options("bind") {
                volume.bind = Some(bind_options(node, At::new(at.file, &key))?);
            }
        }
        "volume" => {
            volume.source = source;
            if let Some((node, key)) = options("volume") {
                volume.volume = Some(volume_options(node, At::new(at.file, &key))?);
            }
        }
        "tmpfs" => {
            if let Some(source) = source {
                return Err(At::new(at.file, &field("source"))
                    .invalid(source, "no source for a tmpfs mount"));
            }
            if let Some((node, key)) = options("tmpfs") {
                volume.tmpfs = Some(tmpfs_options(node, At::new(at.file, &key))?);
            }
        }
        "image" => {
            // Compose accepts an empty source here, and the engine rejects it.
            volume.source = source;
            if let Some((node, key)) = options("image") {
                volume.image = Some(image_options(node, At::new(at.file, &key))?);
            }
        }
        "npipe" | "cluster" => return Err(At::new(at.file, &field("type")).unsupported()),
        other => {
            return Err(
                At::new(at.file, &field("type")).invalid(other, "one of bind, volume, tmpfs")
            );
        }
    }
    Ok(volume)
}

/// Reads `bind:` options.
fn bind_options(node: &Node, at: At<'_>) -> Result<BindOptions, LoadError> {
    let options = mapping(node, at)?;
    known_keys(
        options,
        &["propagation", "create_host_path", "selinux", "recursive"],
        at,
    )?;
    let mut bind = BindOptions::default();
    for (name, value) in options {
        let key = join(at.key, name);
        let at = At::new(at.file, &key);
        match name.as_str() {
            "propagation" => bind.propagation = Some(string(value, at)?),
            "create_host_path" => bind.create_host_path = boolean(value, at)?,
            "selinux" => bind.selinux = Some(string(value, at)?),
            _ => bind.recursive = Some(string(value, at)?),
        }
    }
    Ok(bind)
}

/// Reads `volume:` options.
fn volume_options(node: &Node, at: At<'_>) -> Result<VolumeOptions, LoadError> {
    let options = mapping(node, at)?;
    known_keys(options, &["nocopy", "subpath", "labels"], at)?;
    let mut parsed = VolumeOptions::default();
    for (name, value) in options {
        let key = join(at.key, name);
        let at = At::new(at.file, &key);
        match name.as_str() {
            "nocopy" => parsed.nocopy = boolean(value, at)?,
            "subpath" => parsed.subpath = Some(string(value, at)?),
            _ => parsed.labels = string_values(value, at)?,
        }
    }
    Ok(parsed)
}

/// Reads `image:` options.
fn image_options(node: &Node, at: At<'_>) -> Result<ImageVolumeOptions, LoadError> {
    let options = mapping(node, at)?;
    known_keys(options, &["subpath"], at)?;
    let subpath = match options.get("subpath") {
        Some(value) => non_empty_string(value, At::new(at.file, &join(at.key, "subpath")))?,
        None => None,
    };
    Ok(ImageVolumeOptions { subpath })
}

/// Reads `tmpfs:` options: the size in bytes and the mode as a number.
fn tmpfs_options(node: &Node, at: At<'_>) -> Result<TmpfsOptions, LoadError> {
    let options = mapping(node, at)?;
    known_keys(options, &["size", "mode"], at)?;
    let mut parsed = TmpfsOptions::default();
    for (name, value) in options {
        let key = join(at.key, name);
        let at = At::new(at.file, &key);
        if name == "size" {
            let bytes = byte_size(&string_or_number(value, at)?, at)?;
            parsed.size = Some(bytes.to_string());
            continue;
        }
        let Node::Int(mode) = value else {
            return Err(at.must_be("a number", value));
        };
        let mode = u32::try_from(*mode).map_err(|_| at.invalid(mode.to_string(), "a file mode"))?;
        parsed.mode = Some(mode);
    }
    Ok(parsed)
}

/// Parses a size such as `64m`, `1 GiB` or `2.5kb` into bytes (powers of
/// 1024). The unit is `b`, or a prefix `k`, `m`, `g`, `t`, `p` alone or
/// followed by `b` or `ib`. Like Compose, it rejects `2gi`.
pub(crate) fn byte_size(text: &str, at: At<'_>) -> Result<u64, LoadError> {
    let lower = text.trim().to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(digits_end);
    let unit = unit.trim_start();
    let prefix = unit
        .strip_suffix("ib")
        .or_else(|| unit.strip_suffix('b'))
        .unwrap_or(unit);
    let factor: u64 = match prefix {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        "p" => 1 << 50,
        _ => return Err(at.invalid(text, "a size such as 64m or 1g")),
    };
    // `ib` needs a prefix: a bare `ib` is no unit.
    if prefix.is_empty() && unit == "ib" {
        return Err(at.invalid(text, "a size such as 64m or 1g"));
    }
    let value: f64 = number
        .parse()
        .map_err(|_| at.invalid(text, "a size such as 64m or 1g"))?;
    Ok((value * factor as f64) as u64)
}

/// Makes a host path absolute against the project directory. Like
/// Compose, an absolute path is kept as written and a relative one is
/// joined and cleaned of `.` and `..` components.
pub(crate) fn absolute(source: &str, base: &PathBase<'_>) -> String {
    let expanded = match (source.strip_prefix('~'), base.home) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{home}{rest}")
        }
        _ => source.to_owned(),
    };
    if expanded.starts_with('/') || is_windows_path(&expanded) {
        return expanded;
    }
    clean(&base.project_dir.join(&expanded))
        .to_string_lossy()
        .into_owned()
}

/// Cleans a container path the way Go's `path.Clean` does, which drops a
/// trailing `/`.
fn clean_target(target: &str) -> String {
    if !target.starts_with('/') {
        return target.to_owned();
    }
    clean(Path::new(target)).to_string_lossy().into_owned()
}

/// Lexically normalizes a path (no file system access).
pub(crate) fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push("/");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(text: &str) -> Result<ServiceVolume, String> {
        let base = PathBase {
            project_dir: Path::new("/proj"),
            home: Some("/home/me"),
        };
        parse_short(
            text,
            At::new(Path::new("/proj/compose.yaml"), "services.app.volumes[0]"),
            &base,
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn short_syntax() {
        let bind = volume("./data/../cfg:/etc/app:ro,z").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bind.kind, "bind");
        assert_eq!(bind.source.as_deref(), Some("/proj/cfg"));
        assert!(bind.read_only);
        assert_eq!(bind.bind.and_then(|b| b.selinux).as_deref(), Some("z"));
        let home = volume("~/x:/x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(home.source.as_deref(), Some("/home/me/x"));
        let named = volume("data:/d:nocopy").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (named.kind.as_str(), named.source.as_deref()),
            ("volume", Some("data"))
        );
        assert!(named.volume.is_some_and(|v| v.nocopy));
        let anonymous = volume("/cache").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(anonymous.source, None);
        let error = volume("ab:/b:ro:rw").err().unwrap_or_default();
        assert!(error.contains("services.app.volumes[0]"), "{error}");
        assert!(error.contains("too many colons"), "{error}");
        let error = volume("ab::/c").err().unwrap_or_default();
        assert!(error.contains("empty section"), "{error}");
    }

    #[test]
    fn short_syntax_quirks_match_compose() {
        let unknown_mode = volume("./y:/y:cached").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(unknown_mode.kind, "bind");
        assert!(!unknown_mode.read_only);
        let tiny = volume("/d").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tiny.target, "/d");
        assert!(
            tiny.volume.is_none(),
            "a two-character spec has no volume options"
        );
        let drive_target = volume("x:/x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(drive_target.source, None);
        assert_eq!(drive_target.target, "x:/x");
        let drive_source = volume("v:/v:delegated").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(drive_source.kind, "bind");
        assert_eq!(drive_source.source.as_deref(), Some("v:/v"));
        assert_eq!(drive_source.target, "delegated");
    }

    #[test]
    fn sizes() {
        let at = At::new(Path::new("/f"), "k");
        assert_eq!(byte_size("64m", at).ok(), Some(64 << 20));
        assert_eq!(byte_size("1g", at).ok(), Some(1 << 30));
        assert_eq!(byte_size("100", at).ok(), Some(100));
        assert!(byte_size("12x", at).is_err());
    }
}
