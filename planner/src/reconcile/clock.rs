//! Timestamps of the engine (RFC 3339, as Go's `time.Time` marshals them)
//! as nanoseconds since the Unix epoch, for refresh pull policies.

/// Parses `2026-12-04T19:10:00.123456789Z` or one with a `+hh:mm` offset.
/// Returns `None` for anything else, and for Go's zero time (year 1),
/// which the engine reports for an image it never tagged.
pub(crate) fn parse_rfc3339_nanos(text: &str) -> Option<i128> {
    let (date, rest) = text.split_once('T')?;
    let mut date_parts = date.splitn(3, '-');
    let year: i64 = date_parts.next()?.parse().ok()?;
    let month: u32 = date_parts.next()?.parse().ok()?;
    let day: u32 = date_parts.next()?.parse().ok()?;
    if year <= 1 || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }

    let zone_start = rest.find(['Z', 'z', '+', '-'])?;
    let (time, zone) = rest.split_at(zone_start);
    let (clock, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut clock_parts = clock.splitn(3, ':');
    let hour: i64 = clock_parts.next()?.parse().ok()?;
    let minute: i64 = clock_parts.next()?.parse().ok()?;
    let second: i64 = clock_parts.next()?.parse().ok()?;
    if !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }

    let mut nanos: i128 = 0;
    for (index, digit) in fraction.chars().take(9).enumerate() {
        let scale = 10_i128.pow(8 - u32::try_from(index).ok()?);
        nanos += i128::from(digit.to_digit(10)?) * scale;
    }

    let offset_seconds: i64 = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (hours, minutes) = zone[1..].split_once(':')?;
            sign * (hours.parse::<i64>().ok()? * 3600 + minutes.parse::<i64>().ok()? * 60)
        }
    };

    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(i128::from(seconds) * 1_000_000_000 + nanos)
}

/// Counts the days from 1970-01-01 to a date of the proleptic Gregorian
/// calendar (Howard Hinnant's `days_from_civil` algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day = i64::from(day);
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i128 = 1_000_000_000;

    #[test]
    fn parse_utc_timestamp() {
        assert_eq!(parse_rfc3339_nanos("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_nanos("2026-12-04T19:10:00Z"),
            Some(1_796_411_400 * SECOND)
        );
    }

    #[test]
    fn parse_fraction_and_offset() {
        assert_eq!(
            parse_rfc3339_nanos("1970-01-01T01:00:00.5+01:00"),
            Some(SECOND / 2)
        );
        assert_eq!(
            parse_rfc3339_nanos("1970-01-01T00:00:00.000000001-00:30"),
            Some(1800 * SECOND + 1)
        );
    }

    #[test]
    fn parse_rejects_zero_time_and_garbage() {
        assert_eq!(parse_rfc3339_nanos("0001-01-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339_nanos("yesterday"), None);
        assert_eq!(parse_rfc3339_nanos("2026-13-01T00:00:00Z"), None);
    }
}
