//! One compose file: parsing, the checks on its top level, variable
//! substitution, the files it includes, and canonicalization, giving a
//! mapping ready to be merged with the other files.
//!
//! Relative paths are made absolute here, per file, because an included
//! file resolves them against its own directory.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::dotenv;
use super::error::LoadError;
use super::extends;
use super::fields::{At, index, join, known_keys, string, string_or_list};
use super::files::{self, FileSource};
use super::interpolate;
use super::merge;
use super::service;
use super::volumes::{PathBase, absolute, clean};
use super::yaml::{self, Node};

/// The inputs shared by every file of a load, and the warnings collected.
pub(crate) struct DocumentContext<'a> {
    pub(crate) source: &'a dyn FileSource,
    pub(crate) home: Option<&'a str>,
    /// Variables used without a value, for the warnings.
    pub(crate) unset: &'a mut BTreeSet<String>,
    pub(crate) warnings: &'a mut Vec<String>,
    /// Files being included, to detect include cycles.
    pub(crate) include_stack: Vec<PathBuf>,
}

/// A loaded file: its canonical content and the file each service came
/// from, for error messages.
pub(crate) struct Document {
    pub(crate) content: IndexMap<String, Node>,
    pub(crate) service_files: BTreeMap<String, PathBuf>,
}

/// Loads one compose file. `base_dir` is the directory its relative paths
/// resolve against and `env` the variables for substitution.
pub(crate) fn load_document(
    file: &Path,
    base_dir: &Path,
    env: &BTreeMap<String, String>,
    context: &mut DocumentContext<'_>,
) -> Result<Document, LoadError> {
    load(file, base_dir, env, context, false)
}

/// Loads a file that another file's service extends, as Compose does:
/// without its `include`s, and with only the extended service resolved, by
/// the caller. So the file's other services may extend back into the file
/// being loaded without forming a cycle.
pub(crate) fn load_for_extends(
    file: &Path,
    base_dir: &Path,
    env: &BTreeMap<String, String>,
    context: &mut DocumentContext<'_>,
) -> Result<Document, LoadError> {
    load(file, base_dir, env, context, true)
}

fn load(
    file: &Path,
    base_dir: &Path,
    env: &BTreeMap<String, String>,
    context: &mut DocumentContext<'_>,
    for_extends: bool,
) -> Result<Document, LoadError> {
    let text = files::read_required(context.source, file)?;
    let mut map = parse_root(&text, file)?;

    let lookup = |name: &str| env.get(name).cloned();
    for (key, value) in map.iter_mut() {
        interpolate::interpolate_tree(value, file, key, &lookup, context.unset)?;
    }

    let include = map.shift_remove("include").filter(|_| !for_extends);
    let base = PathBase {
        project_dir: base_dir,
        home: context.home,
    };
    let mut content = canonicalize_file(map, file, &base, context.warnings)?;
    if !for_extends {
        extends::resolve_all(&mut content, file, env, context)?;
    }

    let mut service_files = BTreeMap::new();
    if let Some(Node::Map(services)) = content.get("services") {
        for name in services.keys() {
            service_files.insert(name.clone(), file.to_path_buf());
        }
    }

    if let Some(include) = include {
        let imported = load_includes(&include, file, env, context)?;
        add_imported(
            &mut content,
            imported.content,
            file,
            &imported.service_files,
        )?;
        for (name, origin) in imported.service_files {
            service_files.entry(name).or_insert(origin);
        }
    }
    Ok(Document {
        content,
        service_files,
    })
}

/// Parses a compose file whose top level must be a mapping.
fn parse_root(text: &str, file: &Path) -> Result<IndexMap<String, Node>, LoadError> {
    let document = yaml::parse(text).map_err(|message| LoadError::Yaml {
        path: file.to_path_buf(),
        message,
    })?;
    match document {
        Node::Map(map) => Ok(map),
        Node::Null => Err(LoadError::EmptyFile {
            path: file.to_path_buf(),
        }),
        other => Err(LoadError::Schema {
            path: file.to_path_buf(),
            key: "(root)".to_owned(),
            message: format!("must be a mapping (got {})", other.describe()),
        }),
    }
}

/// One `include` entry in long form.
struct Include {
    /// The entry's key path: `include[0].path`, or `include[0]` in short
    /// form.
    key: String,
    /// The entry itself: `include[0]`.
    entry: String,
    paths: Vec<PathBuf>,
    project_dir: PathBuf,
    env_files: Vec<PathBuf>,
}

fn parse_includes(node: &Node, file: &Path, home: Option<&str>) -> Result<Vec<Include>, LoadError> {
    let dir = file.parent().unwrap_or(Path::new("/"));
    let base = PathBase {
        project_dir: dir,
        home,
    };
    let resolve = |path: &str| PathBuf::from(absolute(path, &base));
    let Node::Seq(entries) = node else {
        return Err(At::new(file, "include").must_be("a list", node));
    };
    let mut includes = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let key = index("include", i);
        let at = At::new(file, &key);
        let mut path_key = key.clone();
        let (paths, project_dir, env_files) = match entry {
            Node::Str(path) => (vec![resolve(path)], None, Vec::new()),
            Node::Map(map) => {
                known_keys(map, &["path", "project_directory", "env_file"], at)?;
                path_key = join(&key, "path");
                let paths = match map.get("path") {
                    Some(node) => string_or_list(node, At::new(file, &path_key))?,
                    None => {
                        return Err(
                            At::new(file, &path_key).invalid("", "the path of the included file")
                        );
                    }
                };
                let project_dir = match map.get("project_directory") {
                    Some(node) => Some(resolve(&string(
                        node,
                        At::new(file, &join(&key, "project_directory")),
                    )?)),
                    None => None,
                };
                let env_files = match map.get("env_file") {
                    Some(node) => string_or_list(node, At::new(file, &join(&key, "env_file")))?,
                    None => Vec::new(),
                };
                (
                    paths.iter().map(|p| resolve(p)).collect(),
                    project_dir,
                    env_files.iter().map(|p| resolve(p)).collect(),
                )
            }
            other => return Err(at.must_be("a string or a mapping", other)),
        };
        let Some(first) = paths.first() else {
            return Err(at.invalid("", "at least one path"));
        };
        let project_dir = project_dir
            .unwrap_or_else(|| first.parent().map(Path::to_path_buf).unwrap_or_default());
        includes.push(Include {
            key: path_key,
            entry: key,
            paths,
            project_dir,
            env_files,
        });
    }
    Ok(includes)
}

/// Loads the files an `include` names, each entry as a project of its own
/// (own directory, own env files), merged together.
fn load_includes(
    node: &Node,
    file: &Path,
    env: &BTreeMap<String, String>,
    context: &mut DocumentContext<'_>,
) -> Result<Document, LoadError> {
    let mut imported = Document {
        content: IndexMap::new(),
        service_files: BTreeMap::new(),
    };
    context.include_stack.push(file.to_path_buf());
    for include in parse_includes(node, file, context.home)? {
        let include_env = include_environment(&include, file, env, context.source)?;
        let mut entry: IndexMap<String, Node> = IndexMap::new();
        for path in &include.paths {
            if context.include_stack.contains(path) {
                let chain: Vec<String> = context
                    .include_stack
                    .iter()
                    .chain(std::iter::once(path))
                    .map(|p| p.display().to_string())
                    .collect();
                return Err(LoadError::InvalidValue {
                    path: file.to_path_buf(),
                    key: "include".to_owned(),
                    value: path.display().to_string(),
                    expected: format!("no include cycle (cycle: {})", chain.join(" -> ")),
                });
            }
            let document = load_document(path, &include.project_dir, &include_env, context)
                .map_err(|error| match error {
                    LoadError::FileNotFound { path: missing } if missing == *path => {
                        LoadError::IncludedFileNotFound {
                            path: file.to_path_buf(),
                            key: include.key.clone(),
                            missing,
                        }
                    }
                    other => other,
                })?;
            imported.service_files.extend(document.service_files);
            merge::merge_map(&mut entry, document.content, &[]);
        }
        add_imported(&mut imported.content, entry, file, &imported.service_files)?;
    }
    context.include_stack.pop();
    Ok(imported)
}

/// Builds the variables of an included project: the including project's,
/// plus its `env_file`s, or else the `.env` of its directory.
// NOTE: which side wins when both set a variable is not pinned by a test
// against Compose; here the including project's values win.
fn include_environment(
    include: &Include,
    include_file: &Path,
    env: &BTreeMap<String, String>,
    source: &dyn FileSource,
) -> Result<BTreeMap<String, String>, LoadError> {
    let candidates: Vec<(PathBuf, bool)> = if include.env_files.is_empty() {
        vec![(clean(&include.project_dir.join(".env")), false)]
    } else {
        include
            .env_files
            .iter()
            .map(|p| (p.clone(), true))
            .collect()
    };
    let mut values = BTreeMap::new();
    for (path, required) in candidates {
        let text = match source.read(&path) {
            Ok(Some(text)) => text,
            Ok(None) if !required => continue,
            Ok(None) => {
                return Err(LoadError::EnvFileNotFound {
                    path: include_file.to_path_buf(),
                    key: join(&include.entry, "env_file"),
                    missing: path,
                });
            }
            Err(error) => {
                return Err(LoadError::Read {
                    path,
                    source: error,
                });
            }
        };
        let known = values.clone();
        let lookup = |name: &str| env.get(name).or_else(|| known.get(name)).cloned();
        for (key, value) in dotenv::parse(&text, &path, &lookup)? {
            if let Some(value) = value {
                values.insert(key, value);
            }
        }
    }
    values.extend(env.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(values)
}

/// Adds included resources to a file's own. A service defined both in the
/// file and in what it includes is a conflict, as in Compose. A network or
/// volume may appear in both when the definitions are equal. `origins`
/// maps each imported service to the file that defines it, for the message.
fn add_imported(
    content: &mut IndexMap<String, Node>,
    imported: IndexMap<String, Node>,
    file: &Path,
    origins: &BTreeMap<String, PathBuf>,
) -> Result<(), LoadError> {
    for (section, node) in imported {
        let Node::Map(entries) = node else { continue };
        let target = content
            .entry(section.clone())
            .or_insert_with(|| Node::Map(IndexMap::new()));
        if matches!(target, Node::Null) {
            *target = Node::Map(IndexMap::new());
        }
        let Node::Map(target) = target else { continue };
        for (name, value) in entries {
            match target.get(&name) {
                Some(existing) if section != "services" && *existing == value => {}
                Some(_) => {
                    let origin = match origins.get(&name) {
                        Some(origin) if section == "services" => origin.display().to_string(),
                        _ => "an included file".to_owned(),
                    };
                    return Err(LoadError::Schema {
                        path: file.to_path_buf(),
                        key: join(&section, &name),
                        message: format!(
                            "conflicts with imported resource (it is defined both here and in \
                             {origin}; rename or remove one of them)"
                        ),
                    });
                }
                None => {
                    target.insert(name, value);
                }
            }
        }
    }
    Ok(())
}

/// Top-level keys Compose accepts.
const TOP_LEVEL: &[&str] = &[
    "version", "name", "services", "networks", "volumes", "secrets", "configs", "include", "models",
];

/// Checks a file's top level and its services, and canonicalizes them.
fn canonicalize_file(
    document: IndexMap<String, Node>,
    file: &Path,
    base: &PathBase<'_>,
    warnings: &mut Vec<String>,
) -> Result<IndexMap<String, Node>, LoadError> {
    let map = document;
    known_keys(&map, TOP_LEVEL, At::new(file, "(root)"))?;
    let mut out = IndexMap::new();
    for (key, value) in map {
        let at_key = key.clone();
        let at = At::new(file, &at_key);
        match key.as_str() {
            k if k.starts_with("x-") => {
                out.insert(key, value);
            }
            "version" => warnings.push(format!(
                "{}: the attribute `version` is obsolete, it will be ignored, please remove it \
                 to avoid potential confusion",
                file.display()
            )),
            // Compose does not print top-level models, and berth keeps
            // only their keys, to check the services' references.
            "models" => {
                if !matches!(value, Node::Map(_) | Node::Null) {
                    return Err(at.must_be("a mapping", &value));
                }
                out.insert(key, value);
            }
            "secrets" | "configs" => {
                out.insert(key, resolve_file_objects(value, base));
            }
            // Read before canonicalizing, by `load_document`.
            "include" => {}
            "services" => {
                let services = match value {
                    Node::Map(services) => services,
                    Node::Null => IndexMap::new(),
                    other => return Err(at.must_be("a mapping", &other)),
                };
                let mut canonical = IndexMap::new();
                for (name, service) in services {
                    let service_key = join("services", &name);
                    let service = match service {
                        Node::Tagged(tag, inner) => Node::Tagged(
                            tag,
                            Box::new(service::canonicalize(
                                *inner,
                                At::new(file, &service_key),
                                base,
                            )?),
                        ),
                        other => service::canonicalize(other, At::new(file, &service_key), base)?,
                    };
                    canonical.insert(name, service);
                }
                out.insert(key, Node::Map(canonical));
            }
            "networks" | "volumes" => {
                let entries = match value {
                    Node::Map(entries) => entries,
                    Node::Null => IndexMap::new(),
                    other => return Err(at.must_be("a mapping", &other)),
                };
                let entries = entries
                    .into_iter()
                    .map(|(name, node)| match node {
                        Node::Map(options) => {
                            let options = canonical_resource(&key, &name, options, warnings);
                            (name, Node::Map(options))
                        }
                        other => (name, other),
                    })
                    .collect();
                out.insert(key, Node::Map(entries));
            }
            _ => {
                out.insert(key, value);
            }
        }
    }
    Ok(out)
}

/// Makes the `file` of each top-level secret or config absolute against
/// the directory of the file that declares it.
fn resolve_file_objects(value: Node, base: &PathBase<'_>) -> Node {
    let Node::Map(mut entries) = value else {
        return value;
    };
    for entry in entries.values_mut() {
        if let Node::Map(options) = entry {
            if let Some(Node::Str(file)) = options.get_mut("file") {
                *file = absolute(file, base);
            }
        }
    }
    Node::Map(entries)
}

/// Drops a top-level network's or volume's extensions, which do not reach
/// the model, and rewrites the deprecated `external: {name: NAME}` into
/// `external: true` and `name: NAME`, with Compose's warning.
fn canonical_resource(
    section: &str,
    name: &str,
    options: IndexMap<String, Node>,
    warnings: &mut Vec<String>,
) -> IndexMap<String, Node> {
    let mut out: IndexMap<String, Node> = options
        .into_iter()
        .filter(|(k, _)| !k.starts_with("x-"))
        .collect();
    let old_name = match out.get("external") {
        Some(Node::Map(external)) => external.get("name").cloned(),
        _ => None,
    };
    if let Some(old_name) = old_name {
        warnings.push(format!(
            "{section}.{name}: external.name is deprecated. Please set name and external: true"
        ));
        out.insert("external".to_owned(), Node::Bool(true));
        out.entry("name".to_owned()).or_insert(old_name);
    }
    out
}
