//! Log sequence numbers: the binary triple stored in backup headers and the decimal
//! `numeric(25,0)` form that `RESTORE HEADERONLY` prints.

use std::fmt;

/// A SQL Server LSN: (VLF sequence number, log-block offset, slot).
///
/// Ordering is the tuple order, which is also the order of the decimal form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn {
    pub vlf: u32,
    pub block: u32,
    pub slot: u16,
}

/// Byte length of a binary LSN in a backup header.
pub const LSN_LEN: usize = 10;

impl Lsn {
    pub const ZERO: Lsn = Lsn { vlf: 0, block: 0, slot: 0 };

    pub fn new(vlf: u32, block: u32, slot: u16) -> Self {
        Lsn { vlf, block, slot }
    }

    /// Decodes the 10-byte little-endian form (u32 VLF, u32 block, u16 slot).
    pub fn from_le_bytes(bytes: [u8; LSN_LEN]) -> Self {
        let [a, b, c, d, e, f, g, h, i, j] = bytes;
        Lsn {
            vlf: u32::from_le_bytes([a, b, c, d]),
            block: u32::from_le_bytes([e, f, g, h]),
            slot: u16::from_le_bytes([i, j]),
        }
    }

    pub fn to_le_bytes(self) -> [u8; LSN_LEN] {
        let mut out = [0u8; LSN_LEN];
        let (vlf, rest) = out.split_at_mut(4);
        let (block, slot) = rest.split_at_mut(4);
        vlf.copy_from_slice(&self.vlf.to_le_bytes());
        block.copy_from_slice(&self.block.to_le_bytes());
        slot.copy_from_slice(&self.slot.to_le_bytes());
        out
    }

    /// The `numeric(25,0)` value: `vlf * 10^15 + block * 10^5 + slot`.
    pub fn to_numeric(self) -> u128 {
        u128::from(self.vlf) * 1_000_000_000_000_000 + u128::from(self.block) * 100_000 + u128::from(self.slot)
    }

    pub fn is_zero(self) -> bool {
        self == Lsn::ZERO
    }
}

impl fmt::Display for Lsn {
    /// Prints the decimal form used by `RESTORE HEADERONLY` and msdb (`25000000006200170`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_numeric())
    }
}

/// Why a decimal LSN could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not an LSN: expected the decimal form RESTORE HEADERONLY prints, such as 25000000006200170")]
pub struct LsnParseError {
    text: String,
}

impl std::str::FromStr for Lsn {
    type Err = LsnParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = || LsnParseError { text: text.to_string() };
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let value: u128 = text.parse().map_err(|_| err())?;
        let slot = u16::try_from(value % 100_000).map_err(|_| err())?;
        let block = u32::try_from((value / 100_000) % 10_000_000_000).map_err(|_| err())?;
        let vlf = u32::try_from(value / 1_000_000_000_000_000).map_err(|_| err())?;
        let lsn = Lsn { vlf, block, slot };
        if lsn.to_numeric() == value {
            Ok(lsn)
        } else {
            Err(err())
        }
    }
}

serde_as_text!(Lsn, "an LSN");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_form_matches_restore_headeronly() {
        assert_eq!(Lsn::new(25, 62, 170).to_string(), "25000000006200170");
        assert_eq!(Lsn::ZERO.to_string(), "0");
        assert_eq!(Lsn::new(94, 432, 1).to_string(), "94000000043200001");
    }

    #[test]
    fn parses_and_round_trips() {
        let lsn: Lsn = "25000000006200170".parse().unwrap();
        assert_eq!(lsn, Lsn::new(25, 62, 170));
        assert_eq!("0".parse::<Lsn>().unwrap(), Lsn::ZERO);
        let max = Lsn::new(u32::MAX, 9_999_999_999u64 as u32, 65_535);
        assert_eq!(max.to_string().parse::<Lsn>().unwrap(), max);
    }

    #[test]
    fn rejects_text_that_is_not_an_lsn() {
        for bad in ["", "-1", "12a", "25:62:170", "99999999999999999999999999999999999999999"] {
            assert!(bad.parse::<Lsn>().is_err(), "{bad} parsed");
        }
        // The block part has 10 digits but is a u32: 5000000000 does not fit.
        assert!("500000000000000".parse::<Lsn>().is_err());
    }

    #[test]
    fn binary_round_trip_and_order() {
        let lsn = Lsn::new(0x19, 0x3e, 0xaa);
        assert_eq!(Lsn::from_le_bytes(lsn.to_le_bytes()), lsn);
        assert!(Lsn::new(25, 62, 170) < Lsn::new(25, 153, 1));
        assert!(Lsn::new(24, 999, 9) < Lsn::new(25, 0, 0));
        assert_eq!(Lsn::from_le_bytes([0x19, 0, 0, 0, 0x3e, 0, 0, 0, 0xaa, 0]), Lsn::new(25, 62, 170));
    }
}
