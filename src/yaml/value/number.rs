//! JSON numbers exactly as Go's `encoding/json` prints a float64, which is what kubectl sends.

use serde_json::Number;

/// The number `encoding/json` prints for a Go float64, as serde_json reads it
/// back: `1e3` is sent as `1000` and `2^63` as `9223372036854776000`, so those
/// become JSON integers with exactly Go's digits. NaN and infinities have no
/// JSON form.
pub fn json_number_from_float(float: f64) -> Option<Number> {
    let text = go_json_float(float)?;
    serde_json::from_str(&text).ok()
}

/// Go's `encoding/json` text for a finite float64: shortest round-trip digits,
/// `%f` style unless the magnitude is below 1e-6 or at least 1e21, and
/// exponents without a leading zero (`1e-7`, `1e+21`).
pub fn go_json_float(float: f64) -> Option<String> {
    if !float.is_finite() {
        return None;
    }
    let (negative, digits, exponent) = shortest_digits(float);
    let mut out = String::from(if negative { "-" } else { "" });
    let magnitude = float.abs();
    if magnitude != 0.0 && !(1e-6..1e21).contains(&magnitude) {
        crate::yaml::scalar::push_scientific(&mut out, &digits, exponent, 1);
        return Some(out);
    }
    // Digits "d1d2..." mean d1.d2... x 10^exponent.
    let integer_digits = exponent + 1;
    if integer_digits <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat(integer_digits.unsigned_abs() as usize));
        out.push_str(&digits);
    } else {
        let integer_digits = integer_digits as usize;
        if digits.len() <= integer_digits {
            out.push_str(&digits);
            out.push_str(&"0".repeat(integer_digits - digits.len()));
        } else {
            out.push_str(&digits[..integer_digits]);
            out.push('.');
            out.push_str(&digits[integer_digits..]);
        }
    }
    Some(out)
}

/// Sign, shortest round-trip decimal digits and decimal exponent of `float`.
fn shortest_digits(float: f64) -> (bool, String, i32) {
    let scientific = format!("{:e}", float.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (
        float.is_sign_negative(),
        digits,
        exponent.parse().unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_floats_print_as_go_does() {
        assert_eq!(
            json_number_from_float(1000.0).map(|n| n.to_string()),
            Some("1000".into())
        );
        assert_eq!(
            json_number_from_float(-3.0).map(|n| n.to_string()),
            Some("-3".into())
        );
        assert_eq!(
            json_number_from_float(1e19).map(|n| n.to_string()),
            Some("10000000000000000000".into())
        );
        assert_eq!(
            json_number_from_float(0.5).map(|n| n.to_string()),
            Some("0.5".into())
        );
        assert_eq!(json_number_from_float(f64::NAN), None);
        let go_text = |float: f64| go_json_float(float).unwrap_or_default();
        assert_eq!(go_text(9_223_372_036_854_775_808.0), "9223372036854776000");
        assert_eq!(go_text(1e21), "1e+21");
        assert_eq!(go_text(1e20), "100000000000000000000");
        assert_eq!(go_text(6.02e23), "6.02e+23");
        assert_eq!(go_text(1e-7), "1e-7");
        assert_eq!(go_text(0.000001), "0.000001");
        assert_eq!(go_text(12345678.9), "12345678.9");
        assert_eq!(go_text(-0.0), "-0");
        assert_eq!(go_text(1.2345678901234568e29), "1.2345678901234568e+29");
    }
}
