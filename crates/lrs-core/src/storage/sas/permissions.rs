//! The permission letters of a blob service SAS (`sp`), kept in the canonical order the service
//! requires, with a plain-language name and what each one means for LRS.

use std::fmt;

use super::SasError;

/// The letters in the order the service requires (the order the official SDKs write them).
const ORDER: &str = "racwdxyltfmeiop";

/// A set of blob service SAS permissions.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Permissions(u16);

impl Permissions {
    /// Exactly what LRS needs and accepts: Read and List.
    pub const READ_LIST: Permissions = Permissions(0b1000_0001);

    /// Parses permission letters in any order; an unknown letter is an error.
    pub fn parse(letters: &str) -> Result<Permissions, SasError> {
        let mut bits = 0u16;
        for letter in letters.chars() {
            let index = ORDER.find(letter).ok_or(SasError::UnknownPermission(letter))?;
            bits |= 1 << index;
        }
        Ok(Permissions(bits))
    }

    pub fn contains(self, letter: char) -> bool {
        ORDER.find(letter).is_some_and(|i| self.0 & (1 << i) != 0)
    }

    /// The letters in canonical order, as they go into `sp` and the string-to-sign.
    pub fn letters(self) -> String {
        ORDER.chars().enumerate().filter(|(i, _)| self.0 & (1 << i) != 0).map(|(_, c)| c).collect()
    }
}

impl fmt::Display for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.letters())
    }
}

impl fmt::Debug for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Permissions({})", self.letters())
    }
}

/// The name of a permission letter of a blob service or account SAS, for messages.
pub fn name(letter: char) -> &'static str {
    match letter {
        'r' => "Read",
        'a' => "Add",
        'c' => "Create",
        'w' => "Write",
        'd' => "Delete",
        'x' => "Delete version",
        'y' => "Permanent delete",
        'l' => "List",
        't' => "Tags",
        'f' => "Find by tags",
        'm' => "Move",
        'e' => "Execute",
        'i' => "Set immutability policy",
        'o' => "Change ownership",
        'p' => "Change permissions",
        'u' => "Update",
        _ => "unknown permission",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_order_whatever_the_input_order() {
        assert_eq!(Permissions::parse("lr").unwrap().letters(), "rl");
        assert_eq!(Permissions::READ_LIST.letters(), "rl");
        assert_eq!(Permissions::parse("wcar").unwrap().letters(), "racw");
        assert_eq!(Permissions::parse("ldwcar").unwrap().letters(), "racwdl");
        assert!(Permissions::parse("rl").unwrap().contains('l'));
        assert!(!Permissions::READ_LIST.contains('w'));
        assert_eq!(Permissions::parse("rz"), Err(SasError::UnknownPermission('z')));
    }
}
