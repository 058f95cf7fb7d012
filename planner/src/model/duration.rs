//! Durations as Compose prints them: Go's `time.Duration` string form.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration in nanoseconds that serializes the way Go formats
/// `time.Duration` (`1m30s`, `1.5s`, `500ms`), since that text is hashed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema)]
#[schemars(with = "String")]
pub struct GoDuration(pub i64);

impl GoDuration {
    /// Whole seconds, truncated, as the Engine API's `StopTimeout` takes them.
    pub fn whole_seconds(self) -> i64 {
        self.0 / 1_000_000_000
    }

    /// Parses Go duration syntax: a sequence of decimal numbers with units
    /// `ns`, `us`, `µs`, `ms`, `s`, `m`, `h`, as in `1h2m3.5s`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (negative, mut rest) = match text.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        if rest == "0" {
            return Ok(GoDuration(0));
        }
        if rest.is_empty() {
            return Err(format!("invalid duration \"{text}\""));
        }
        let mut total: i128 = 0;
        while !rest.is_empty() {
            let digits_end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            let number = &rest[..digits_end];
            if number.is_empty() || number == "." {
                return Err(format!("invalid duration \"{text}\""));
            }
            rest = &rest[digits_end..];
            let unit_end = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let unit = &rest[..unit_end];
            rest = &rest[unit_end..];
            let scale: i128 = match unit {
                "ns" => 1,
                "us" | "µs" | "μs" => 1_000,
                "ms" => 1_000_000,
                "s" => 1_000_000_000,
                "m" => 60_000_000_000,
                "h" => 3_600_000_000_000,
                "" => return Err(format!("missing unit in duration \"{text}\"")),
                other => return Err(format!("unknown unit \"{other}\" in duration \"{text}\"")),
            };
            let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
            let whole: i128 = if whole.is_empty() {
                0
            } else {
                whole
                    .parse()
                    .map_err(|_| format!("invalid duration \"{text}\""))?
            };
            if !fraction.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("invalid duration \"{text}\""));
            }
            let mut value = whole
                .checked_mul(scale)
                .ok_or_else(|| format!("invalid duration \"{text}\""))?;
            let mut divisor: i128 = 1;
            // Digits past the 13th add nothing even in hours (3.6e12 ns),
            // and stopping keeps `divisor` from overflowing.
            for digit in fraction.chars().take(13) {
                divisor *= 10;
                value += i128::from(digit.to_digit(10).unwrap_or(0)) * scale / divisor;
            }
            total += value;
            if total > i128::from(i64::MAX) {
                return Err(format!("invalid duration \"{text}\""));
            }
        }
        let total = total as i64;
        Ok(GoDuration(if negative { -total } else { total }))
    }
}

impl fmt::Display for GoDuration {
    /// Formats like Go's `Duration.String`: `0s`, `1.5µs`, `250ms`, `1h2m3s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.0;
        if nanos == 0 {
            return f.write_str("0s");
        }
        let sign = if nanos < 0 { "-" } else { "" };
        let abs = nanos.unsigned_abs();
        if abs < 1_000_000_000 {
            // Sub-second values use the largest unit that keeps a whole part.
            let (unit, scale) = if abs < 1_000 {
                ("ns", 1)
            } else if abs < 1_000_000 {
                ("µs", 1_000)
            } else {
                ("ms", 1_000_000)
            };
            return write!(f, "{sign}{}{unit}", decimal(abs, scale));
        }
        let hours = abs / 3_600_000_000_000;
        let minutes = (abs / 60_000_000_000) % 60;
        let seconds = abs % 60_000_000_000;
        f.write_str(sign)?;
        if hours > 0 {
            write!(f, "{hours}h")?;
        }
        if hours > 0 || minutes > 0 {
            write!(f, "{minutes}m")?;
        }
        write!(f, "{}s", decimal(seconds, 1_000_000_000))
    }
}

/// Writes `value / scale` with the fraction's trailing zeros trimmed.
fn decimal(value: u64, scale: u64) -> String {
    let whole = value / scale;
    let fraction = value % scale;
    if fraction == 0 {
        return whole.to_string();
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{fraction:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        GoDuration::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::GoDuration;

    #[test]
    fn formats_like_go() {
        let cases = [
            ("90s", "1m30s"),
            ("1500ms", "1.5s"),
            ("1h2m3s", "1h2m3s"),
            ("2m", "2m0s"),
            ("45s", "45s"),
            ("500ms", "500ms"),
            ("0", "0s"),
            ("1.5us", "1.5µs"),
            ("3h", "3h0m0s"),
        ];
        for (input, expected) in cases {
            let parsed = GoDuration::parse(input).unwrap();
            assert_eq!(parsed.to_string(), expected, "input {input}");
        }
    }

    #[test]
    fn rejects_out_of_range_and_malformed_numbers() {
        for input in [
            "99999999999999999999999999999999999h",
            "9223372036854775808ns",
            "2..s",
            "1.2.3s",
        ] {
            let error = GoDuration::parse(input).unwrap_err();
            assert_eq!(error, format!("invalid duration \"{input}\""));
        }
    }

    #[test]
    fn ignores_fraction_digits_beyond_nanoseconds() {
        let long = format!("1.5{}h", "0".repeat(100));
        assert_eq!(GoDuration::parse(&long), Ok(GoDuration(5_400_000_000_000)));
        let tiny = format!("0.{}1s", "0".repeat(60));
        assert_eq!(GoDuration::parse(&tiny), Ok(GoDuration(0)));
    }

    #[test]
    fn rejects_unknown_unit() {
        let error = GoDuration::parse("10x").unwrap_err();
        assert_eq!(error, "unknown unit \"x\" in duration \"10x\"");
    }
}
