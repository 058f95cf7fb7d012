//! The `.env` and `env_file` syntax: `KEY=value` lines with `export`,
//! comments, single quotes (literal), double quotes (escapes, several
//! lines) and variable substitution in unquoted and double-quoted values.

use std::collections::BTreeSet;
use std::path::Path;

use super::error::LoadError;
use super::interpolate::substitute;

/// One parsed line: the name and its value, `None` for a bare `KEY` whose
/// value `lookup` does not know.
pub(crate) type EnvEntry = (String, Option<String>);

/// Parses an env file. `lookup` resolves variables used in values and
/// bare names. It is consulted before the file's own earlier entries,
/// because variables set by the caller win over the file.
pub(crate) fn parse(
    text: &str,
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<EnvEntry>, LoadError> {
    let mut entries: Vec<EnvEntry> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut index = 0;
    while let Some(raw) = lines.get(index) {
        let line_number = index + 1;
        index += 1;
        let syntax = |message: String| LoadError::EnvFileSyntax {
            path: path.to_path_buf(),
            line: line_number,
            message,
        };
        let line = raw.trim_start().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = match line.strip_prefix("export") {
            Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
            _ => line,
        };
        let Some(separator) = line.find(['=', ':']) else {
            let key = line.trim_end();
            check_key(key).map_err(syntax)?;
            entries.push((key.to_owned(), lookup(key)));
            continue;
        };
        let key = line[..separator].trim();
        check_key(key).map_err(syntax)?;
        let value = line[separator + 1..].trim_start_matches([' ', '\t']);

        let own = entries.clone();
        let resolve = |name: &str| {
            lookup(name).or_else(|| {
                own.iter()
                    .rev()
                    .find(|(k, _)| k == name)
                    .and_then(|(_, v)| v.clone())
            })
        };
        let mut ignored = BTreeSet::new();
        let expand = |text: &str, ignored: &mut BTreeSet<String>| {
            substitute(text, &resolve, ignored)
                .map_err(|_| syntax(format!("invalid interpolation in value {text:?}")))
        };

        let parsed = if let Some(body) = value.strip_prefix('\'') {
            let (content, consumed) = quoted(body, '\'', &lines, &mut index)
                .ok_or_else(|| syntax("unterminated single-quoted value".into()))?;
            let _ = consumed;
            content
        } else if let Some(body) = value.strip_prefix('"') {
            let (content, _) = quoted(body, '"', &lines, &mut index)
                .ok_or_else(|| syntax("unterminated double-quoted value".into()))?;
            expand(&unescape(&content), &mut ignored)?
        } else {
            expand(strip_comment(value), &mut ignored)?
        };
        entries.push((key.to_owned(), Some(parsed)));
    }
    Ok(entries)
}

fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("missing variable name before `=`".to_owned());
    }
    if key
        .chars()
        .any(|c| c.is_whitespace() || c == '\'' || c == '"')
    {
        return Err(format!("invalid variable name {key:?}"));
    }
    Ok(())
}

/// Cuts a ` # comment` off an unquoted value and trims trailing blanks.
fn strip_comment(value: &str) -> &str {
    let mut end = value.len();
    let bytes = value.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && i > 0 && bytes.get(i - 1).is_some_and(|p| *p == b' ' || *p == b'\t') {
            end = i;
            break;
        }
    }
    value[..end].trim_end()
}

/// Reads a quoted value that may continue on the following lines. Returns
/// the raw content between the quotes (escapes untouched).
fn quoted(first: &str, quote: char, lines: &[&str], index: &mut usize) -> Option<(String, usize)> {
    let mut content = String::new();
    let mut current = first.to_owned();
    let mut consumed = 0;
    loop {
        let mut escaped = false;
        for (i, c) in current.char_indices() {
            if escaped {
                escaped = false;
                continue;
            }
            if c == '\\' && quote == '"' {
                escaped = true;
                continue;
            }
            if c == quote {
                content.push_str(&current[..i]);
                return Some((content, consumed));
            }
        }
        content.push_str(&current);
        content.push('\n');
        current = (*lines.get(*index)?).to_owned();
        *index += 1;
        consumed += 1;
    }
}

/// Resolves backslash escapes of a double-quoted value. `\$` becomes `$$`
/// so the substitution that follows leaves a literal dollar.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('$') => out.push_str("$$"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Vec<EnvEntry> {
        let lookup = |name: &str| (name == "SHELL_VAR").then(|| "shell".to_owned());
        match parse(text, Path::new("/p/.env"), &lookup) {
            Ok(entries) => entries,
            Err(e) => panic!("{e}"),
        }
    }

    fn value(entries: &[EnvEntry], key: &str) -> Option<String> {
        entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.clone())
    }

    #[test]
    fn syntax_table() {
        let entries = parse_ok(
            "# comment\n\
             PLAIN=value\n\
             export EXPORTED=yes\n\
             SPACED = spaced value \n\
             COMMENTED=value # trailing\n\
             HASH=a#b\n\
             SINGLE='single $SHELL_VAR'\n\
             DOUBLE=\"line\\nnext\\t$SHELL_VAR\"\n\
             MULTI=\"first\n\
             second\"\n\
             REF=${PLAIN}-x\n\
             EMPTY=\n\
             BARE_KNOWN\n\
             SHELL_VAR\n\
             YAMLISH: colon\n",
        );
        assert_eq!(value(&entries, "PLAIN").as_deref(), Some("value"));
        assert_eq!(value(&entries, "EXPORTED").as_deref(), Some("yes"));
        assert_eq!(value(&entries, "SPACED").as_deref(), Some("spaced value"));
        assert_eq!(value(&entries, "COMMENTED").as_deref(), Some("value"));
        assert_eq!(value(&entries, "HASH").as_deref(), Some("a#b"));
        assert_eq!(
            value(&entries, "SINGLE").as_deref(),
            Some("single $SHELL_VAR")
        );
        assert_eq!(
            value(&entries, "DOUBLE").as_deref(),
            Some("line\nnext\tshell")
        );
        assert_eq!(value(&entries, "MULTI").as_deref(), Some("first\nsecond"));
        assert_eq!(value(&entries, "REF").as_deref(), Some("value-x"));
        assert_eq!(value(&entries, "EMPTY").as_deref(), Some(""));
        assert_eq!(value(&entries, "BARE_KNOWN"), None);
        assert_eq!(value(&entries, "SHELL_VAR").as_deref(), Some("shell"));
        assert_eq!(value(&entries, "YAMLISH").as_deref(), Some("colon"));
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        let error = parse("A=\"open\n", Path::new("/p/.env"), &|_| None);
        let Err(error) = error else {
            panic!("accepted")
        };
        assert_eq!(
            error.to_string(),
            "failed to read env file /p/.env: line 1: unterminated double-quoted value"
        );
    }
}
