//! Certificate serial numbers, written the way OpenSSL and easy-rsa write them.

use std::fmt;

use serde::{Serialize, Serializer};

/// A certificate serial number: a positive integer, kept as big-endian bytes
/// without leading zero bytes so that `4D93…` from `index.txt`, `4d:93:…` from
/// `openssl x509 -serial` and the DER integer all compare equal.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Serial(Vec<u8>);

impl Serial {
    /// A fresh random 16-byte serial. The top bit is cleared so the DER integer is
    /// positive without a padding byte, and the first byte is never zero so the
    /// serial keeps all 16 bytes (RFC 5280 allows up to 20).
    pub fn random() -> Serial {
        let mut bytes: [u8; 16] = rand::random();
        bytes[0] = (bytes[0] & 0x7f) | 0x01;
        Serial(bytes.to_vec())
    }

    /// The serial with these big-endian bytes (leading zero bytes are dropped).
    pub fn from_bytes(bytes: &[u8]) -> Serial {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        Serial(bytes[start..].to_vec())
    }

    /// Parses hex as people paste it: `4D93…`, `4d:93:…`, `0x4d93…`, any case.
    pub fn parse_hex(text: &str) -> Option<Serial> {
        let trimmed = text.trim();
        let trimmed = trimmed
            .strip_prefix("0x")
            .or_else(|| trimmed.strip_prefix("0X"))
            .unwrap_or(trimmed);
        let digits: String = trimmed.chars().filter(|c| *c != ':').collect();
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        // An odd number of digits means a leading zero nibble was left out.
        let padded = if digits.len() % 2 == 1 {
            format!("0{digits}")
        } else {
            digits
        };
        let bytes = (0..padded.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&padded[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .ok()?;
        Some(Serial::from_bytes(&bytes))
    }

    /// Big-endian bytes, without leading zeros (empty for zero).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Upper-case hex with an even number of digits, as in `index.txt` and in
    /// easy-rsa's `certs_by_serial/SERIAL.pem` file names.
    pub fn hex(&self) -> String {
        if self.0.is_empty() {
            return "00".to_string();
        }
        self.0.iter().map(|b| format!("{b:02X}")).collect()
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Serial({})", self.hex())
    }
}

impl Serialize for Serial {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_in_openssl_form() {
        let s = Serial::parse_hex("4d:93:1f:00").unwrap();
        assert_eq!(s.hex(), "4D931F00");
        assert_eq!(Serial::parse_hex("0x4D931F00"), Some(s.clone()));
        assert_eq!(Serial::parse_hex("004D931F00"), Some(s));
    }

    #[test]
    fn odd_digit_counts_and_zero_are_padded() {
        assert_eq!(Serial::parse_hex("abc").unwrap().hex(), "0ABC");
        assert_eq!(Serial::parse_hex("00").unwrap().hex(), "00");
    }

    #[test]
    fn rejects_what_is_not_hex() {
        assert_eq!(Serial::parse_hex(""), None);
        assert_eq!(Serial::parse_hex("xyz"), None);
        assert_eq!(Serial::parse_hex("12 34"), None);
    }

    #[test]
    fn random_serials_are_sixteen_positive_bytes() {
        for _ in 0..100 {
            let s = Serial::random();
            assert_eq!(s.as_bytes().len(), 16);
            assert_eq!(s.as_bytes()[0] & 0x80, 0);
        }
        assert_ne!(Serial::random(), Serial::random());
    }
}
