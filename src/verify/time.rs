//! Times as Unix seconds: RFC 3339 (trusted roots' `validFor`) and ASN.1 UTCTime /
//! GeneralizedTime (certificates, RFC 3161 timestamps), UTC only.

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u32, |acc, &b| {
        acc.checked_mul(10)?.checked_add(u32::from(b - b'0'))
    })
}

fn seconds(year: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo)
        || d == 0
        || d > days_in[(mo - 1) as usize]
        || h > 23
        || mi > 59
        || s > 60
    {
        return None;
    }
    Some(
        days_from_civil(year, mo, d) * 86_400
            + i64::from(h) * 3600
            + i64::from(mi) * 60
            + i64::from(s.min(59)),
    )
}

/// `2021-01-12T11:53:27Z`, `…27.000Z` or `…27+02:00`: Unix seconds (fraction dropped).
pub(crate) fn rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let base = seconds(
        i64::from(digits(&b[0..4])?),
        digits(&b[5..7])?,
        digits(&b[8..10])?,
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    )?;
    let mut rest = &b[19..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    match rest {
        b"Z" | b"z" => Some(base),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let off = i64::from(digits(&[*h1, *h2])?) * 3600 + i64::from(digits(&[*m1, *m2])?) * 60;
            Some(if *sign == b'+' {
                base - off
            } else {
                base + off
            })
        }
        _ => None,
    }
}

/// ASN.1 UTCTime (`YYMMDDHHMMSSZ`, RFC 5280: 50–99 are 19xx) contents.
pub(crate) fn utc_time(b: &[u8]) -> Option<i64> {
    if b.len() != 13 || b[12] != b'Z' {
        return None;
    }
    let yy = i64::from(digits(&b[0..2])?);
    let year = if yy >= 50 { 1900 + yy } else { 2000 + yy };
    seconds(
        year,
        digits(&b[2..4])?,
        digits(&b[4..6])?,
        digits(&b[6..8])?,
        digits(&b[8..10])?,
        digits(&b[10..12])?,
    )
}

/// ASN.1 GeneralizedTime (`YYYYMMDDHHMMSS[.fff]Z`) contents.
pub(crate) fn generalized_time(b: &[u8]) -> Option<i64> {
    if b.len() < 15 || *b.last()? != b'Z' {
        return None;
    }
    let t = seconds(
        i64::from(digits(&b[0..4])?),
        digits(&b[4..6])?,
        digits(&b[6..8])?,
        digits(&b[8..10])?,
        digits(&b[10..12])?,
        digits(&b[12..14])?,
    )?;
    match &b[14..b.len() - 1] {
        [] => Some(t),
        [b'.', frac @ ..] if !frac.is_empty() && frac.iter().all(u8::is_ascii_digit) => Some(t),
        _ => None,
    }
}

/// Unix seconds as `2024-03-19T17:26:26Z`, for reports and messages.
pub fn format(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        assert_eq!(rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339("2021-01-12T11:53:27.000Z"), Some(1_610_452_407));
        assert_eq!(
            rfc3339("2024-08-26T12:03:30.241272895Z"),
            Some(1_724_673_810)
        );
        assert_eq!(rfc3339("2021-01-12T13:53:27+02:00"), Some(1_610_452_407));
        assert_eq!(rfc3339("2021-02-30T00:00:00Z"), None);
        assert_eq!(rfc3339("2021-01-12 11:53:27"), None);
        assert_eq!(utc_time(b"240319172626Z"), Some(1_710_869_186));
        assert_eq!(utc_time(b"991231235959Z"), Some(946_684_799));
        assert_eq!(generalized_time(b"20240319172626Z"), Some(1_710_869_186));
        assert_eq!(
            generalized_time(b"20240319172626.123Z"),
            Some(1_710_869_186)
        );
        assert_eq!(generalized_time(b"20240319172626"), None);
        assert_eq!(format(1_710_869_186), "2024-03-19T17:26:26Z");
        assert_eq!(format(0), "1970-01-01T00:00:00Z");
    }
}
