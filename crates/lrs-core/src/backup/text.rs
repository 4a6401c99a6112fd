//! Types that travel as text: serialised with `Display`, read back with `FromStr`, and typed as
//! `string` in the generated TypeScript bindings (LSNs, GUIDs, times, versions).

/// Implements `Serialize`, `Deserialize` (and, with the `ts` feature, `ts_rs::TS` as `string`) for a
/// type that has `Display` and `FromStr`. `$expected` completes "'…' is not …" in the error.
macro_rules! serde_as_text {
    ($ty:ty, $expected:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(deserializer)?;
                text.parse().map_err(|_| serde::de::Error::custom(format!("'{text}' is not {}", $expected)))
            }
        }

        #[cfg(feature = "ts")]
        impl ts_rs::TS for $ty {
            type WithoutGenerics = Self;
            type OptionInnerType = Self;
            fn name(_: &ts_rs::Config) -> String {
                "string".to_owned()
            }
            fn inline(_: &ts_rs::Config) -> String {
                "string".to_owned()
            }
        }
    };
}
