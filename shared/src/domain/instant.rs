//! Instants, as stored and rendered.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Iso8601;
use time::macros::format_description;

/// A UTC instant rendered as ISO 8601 with milliseconds (`2026-11-21T10:00:00.123Z`);
/// its text sorts in time order, which the sort keys rely on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// The current instant, truncated to milliseconds.
    pub fn now() -> Self {
        let now = OffsetDateTime::now_utc();
        let millis = now.millisecond();
        Self(
            now.replace_millisecond(millis)
                .expect("millisecond in range"),
        )
    }

    /// Whole seconds since the Unix epoch (what DynamoDB's TTL reads).
    pub(crate) fn unix_seconds(&self) -> i64 {
        self.0.unix_timestamp()
    }

    /// Milliseconds since the Unix epoch.
    pub(crate) fn unix_millis(&self) -> i64 {
        (self.0.unix_timestamp_nanos() / 1_000_000) as i64
    }

    /// The instant `millis` milliseconds after the Unix epoch.
    #[cfg(test)]
    pub(crate) fn from_unix_millis(millis: i64) -> Self {
        Self(
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
                .expect("in range"),
        )
    }

    /// The instant `duration` earlier (tests of expiry look back from now).
    pub fn before(&self, duration: std::time::Duration) -> Self {
        Self(self.0 - duration)
    }

    /// Renders the instant.
    pub(crate) fn render(&self) -> String {
        let format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        self.0.format(&format).expect("UTC instants always format")
    }

    /// Parses a rendered instant.
    pub fn parse(raw: &str) -> Option<Self> {
        OffsetDateTime::parse(raw, &Iso8601::DEFAULT).ok().map(Self)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.render())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).ok_or_else(|| serde::de::Error::custom("invalid timestamp"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_render_in_utc_with_milliseconds_and_round_trip() {
        let now = Timestamp::now();
        let text = now.render();
        assert_eq!(text.len(), 24, "{text}");
        assert!(text.ends_with('Z'));
        assert_eq!(Timestamp::parse(&text), Some(now));
    }
}
