//! Numbers as the diagram writes them, without core's float formatting (Grisu/Dragon and their
//! tables cost about 12 KB of wasm; see docs/performance.md): SVG coordinates to two decimals,
//! durations in whole milliseconds or tenths of a second.

/// A coordinate or length for an SVG attribute: rounded to hundredths, trailing zeros dropped
/// (`400`, `92.5`, `19.8`, `-3.25`). Non-finite values give `0`.
pub fn n(value: f64) -> String {
    if !value.is_finite() {
        return "0".to_owned();
    }
    let hundredths = (value * 100.0).round();
    let negative = hundredths < 0.0;
    let hundredths = hundredths.abs() as u64;
    let (whole, frac) = (hundredths / 100, hundredths % 100);
    let mut out = String::new();
    if negative && hundredths != 0 {
        out.push('-');
    }
    out.push_str(&whole.to_string());
    if frac != 0 {
        out.push('.');
        out.push(char::from(b'0' + (frac / 10) as u8));
        if frac % 10 != 0 {
            out.push(char::from(b'0' + (frac % 10) as u8));
        }
    }
    out
}

/// Whole milliseconds, rounded half away from zero (durations are whole ms in practice).
pub fn whole_ms(ms: f64) -> String {
    format!("{} ms", ms.max(0.0).round() as u64)
}

/// Seconds with one decimal (`12.3 s`).
pub fn tenths_of_seconds(ms: f64) -> String {
    let tenths = (ms.max(0.0) / 100.0).round() as u64;
    format!("{}.{} s", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_are_short_and_match_display_for_round_values() {
        for v in [0.0, 1.0, 400.0, 92.5, 19.75, -8.0, -3.25, 1000.0, 0.5] {
            assert_eq!(n(v), v.to_string(), "{v}");
        }
        assert_eq!(n(6.6 * 3.0), "19.8");
        assert_eq!(n(-0.001), "0");
        assert_eq!(n(f64::NAN), "0");
        assert_eq!(n(2.0 / 3.0), "0.67");
    }

    #[test]
    fn durations_match_the_old_float_formats() {
        for ms in [
            0.0,
            1.0,
            38.4,
            999.0,
            12_345.0,
            1_000.0,
            65_432.0,
            3_600_000.0,
        ] {
            assert_eq!(whole_ms(ms), format!("{ms:.0} ms"), "{ms}");
            assert_eq!(
                tenths_of_seconds(ms),
                format!("{:.1} s", ms / 1000.0),
                "{ms}"
            );
        }
    }
}
