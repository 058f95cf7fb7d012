//! `pull_policy`: when Docker Compose 2.40.3 pulls a service's image.
//! compose-go's `GetPullPolicy` maps `daily`, `weekly` and
//! `every_<duration>` to one "refresh" policy with an interval, and any
//! value it does not know to `missing`.

use std::fmt;

/// A service's pull policy, with the refresh interval resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullPolicy {
    /// Pull only when the image is not on the engine (`missing`,
    /// `if_not_present`, unset or unknown).
    Missing,
    /// Pull on every `up`.
    Always,
    /// Never pull; the image must be on the engine.
    Never,
    /// Never pull; build the image on every `up`.
    Build,
    /// Pull when the image is missing or was last tagged more than this
    /// many nanoseconds before the engine's clock (`daily`, `weekly`,
    /// `every_<duration>`).
    Refresh { interval_nanos: i128 },
}

const NANOS_PER_SECOND: i128 = 1_000_000_000;
const NANOS_PER_HOUR: i128 = 3600 * NANOS_PER_SECOND;

impl PullPolicy {
    /// Parses a `pull_policy` value; `None` is Compose's default,
    /// `missing`. Only an `every_` interval that does not parse is an
    /// error, as in compose-go.
    pub fn parse(value: Option<&str>) -> Result<PullPolicy, String> {
        let Some(value) = value else {
            return Ok(PullPolicy::Missing);
        };
        let policy = match value {
            "always" => PullPolicy::Always,
            "never" => PullPolicy::Never,
            "build" => PullPolicy::Build,
            "daily" => PullPolicy::Refresh {
                interval_nanos: 24 * NANOS_PER_HOUR,
            },
            "weekly" => PullPolicy::Refresh {
                interval_nanos: 7 * 24 * NANOS_PER_HOUR,
            },
            _ => match value.strip_prefix("every_") {
                Some(interval) => PullPolicy::Refresh {
                    interval_nanos: parse_interval(interval)?,
                },
                None => PullPolicy::Missing,
            },
        };
        Ok(policy)
    }
}

impl fmt::Display for PullPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PullPolicy::Missing => f.write_str("missing"),
            PullPolicy::Always => f.write_str("always"),
            PullPolicy::Never => f.write_str("never"),
            PullPolicy::Build => f.write_str("build"),
            PullPolicy::Refresh { interval_nanos } => {
                write!(f, "refresh every {}", format_interval(*interval_nanos))
            }
        }
    }
}

/// Parses an interval the way the `str2duration` package that compose-go
/// uses does: Go's duration units plus `d` (24 hours) and `w` (7 days),
/// as in `1w2d`, `12h` or `1.5h`.
fn parse_interval(text: &str) -> Result<i128, String> {
    let invalid = || {
        format!(
            "invalid pull_policy interval \"{text}\" (expected a duration such as 12h, 1d or 2w after every_)"
        )
    };
    if text.is_empty() {
        return Err(invalid());
    }
    let mut rest = text;
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_end);
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_end);
        let unit_nanos: i128 = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => NANOS_PER_SECOND,
            "m" => 60 * NANOS_PER_SECOND,
            "h" => NANOS_PER_HOUR,
            "d" => 24 * NANOS_PER_HOUR,
            "w" => 7 * 24 * NANOS_PER_HOUR,
            _ => return Err(invalid()),
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() {
            return Err(invalid());
        }
        // Nine fraction digits reach nanoseconds of the smallest unit
        // that matters here; the rest cannot change the result by a second.
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| invalid())?
        };
        let mut part = whole.checked_mul(unit_nanos).ok_or_else(invalid)?;
        let mut scale = unit_nanos;
        for digit in fraction.chars().take(18) {
            scale /= 10;
            let digit = i128::from(digit.to_digit(10).ok_or_else(invalid)?);
            part += digit * scale;
        }
        total = total.checked_add(part).ok_or_else(invalid)?;
        rest = next;
    }
    Ok(total)
}

/// Formats an interval in whole hours, minutes or seconds, the largest
/// that divides it, for messages.
pub(crate) fn format_interval(nanos: i128) -> String {
    let seconds = nanos / NANOS_PER_SECOND;
    if seconds > 0 && seconds % 3600 == 0 {
        format!("{}h", seconds / 3600)
    } else if seconds > 0 && seconds % 60 == 0 {
        format!("{}m", seconds / 60)
    } else if seconds > 0 {
        format!("{seconds}s")
    } else {
        format!("{nanos}ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_known_values() {
        assert_eq!(PullPolicy::parse(None), Ok(PullPolicy::Missing));
        assert_eq!(PullPolicy::parse(Some("missing")), Ok(PullPolicy::Missing));
        assert_eq!(
            PullPolicy::parse(Some("if_not_present")),
            Ok(PullPolicy::Missing)
        );
        assert_eq!(PullPolicy::parse(Some("always")), Ok(PullPolicy::Always));
        assert_eq!(PullPolicy::parse(Some("never")), Ok(PullPolicy::Never));
        assert_eq!(PullPolicy::parse(Some("build")), Ok(PullPolicy::Build));
    }

    #[test]
    fn parse_unknown_value_as_missing() {
        assert_eq!(PullPolicy::parse(Some("refresh")), Ok(PullPolicy::Missing));
        assert_eq!(
            PullPolicy::parse(Some("sometimes")),
            Ok(PullPolicy::Missing)
        );
    }

    #[test]
    fn parse_refresh_intervals() {
        let hours = |h: i128| PullPolicy::Refresh {
            interval_nanos: h * NANOS_PER_HOUR,
        };
        assert_eq!(PullPolicy::parse(Some("daily")), Ok(hours(24)));
        assert_eq!(PullPolicy::parse(Some("weekly")), Ok(hours(168)));
        assert_eq!(PullPolicy::parse(Some("every_12h")), Ok(hours(12)));
        assert_eq!(PullPolicy::parse(Some("every_1w2d")), Ok(hours(216)));
    }

    #[test]
    fn parse_fractional_interval() {
        let expected = PullPolicy::Refresh {
            interval_nanos: 90 * 60 * NANOS_PER_SECOND,
        };
        assert_eq!(PullPolicy::parse(Some("every_1.5h")), Ok(expected));
    }

    #[test]
    fn parse_rejects_bad_interval() {
        for value in ["every_", "every_5", "every_5y", "every_h", "every_.h"] {
            let error = PullPolicy::parse(Some(value)).unwrap_err();
            assert!(error.contains("invalid pull_policy interval"), "{error}");
        }
    }

    #[test]
    fn format_interval_picks_largest_unit() {
        assert_eq!(format_interval(24 * NANOS_PER_HOUR), "24h");
        assert_eq!(format_interval(90 * NANOS_PER_SECOND), "90s");
        assert_eq!(format_interval(120 * NANOS_PER_SECOND), "2m");
    }
}
