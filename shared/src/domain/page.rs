//! Page selection for list endpoints.

use super::errors::ValidationErrors;
use super::limits;

/// Page selection for list endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    limit: u32,
    offset: u32,
}

impl Default for Page {
    fn default() -> Self {
        Self {
            limit: limits::LIMIT_DEFAULT,
            offset: 0,
        }
    }
}

impl Page {
    /// Parses `limit` and `offset` query parameters.
    pub fn parse(limit: Option<&str>, offset: Option<&str>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let limit = errors.check(
            "limit",
            parse_bounded(limit, limits::LIMIT_DEFAULT, 1, limits::LIMIT_MAX),
        );
        let offset = errors.check("offset", parse_bounded(offset, 0, 0, limits::OFFSET_MAX));
        errors.finish(|| Self {
            limit: limit.unwrap_or_default(),
            offset: offset.unwrap_or_default(),
        })
    }

    /// Items to return, 1..=[`limits::LIMIT_MAX`].
    pub(crate) fn limit(&self) -> u32 {
        self.limit
    }

    /// Items to skip, 0..=[`limits::OFFSET_MAX`].
    pub(crate) fn offset(&self) -> u32 {
        self.offset
    }

    /// Items that must be read to serve this page: the skipped ones and the page.
    pub(crate) fn depth(&self) -> usize {
        (self.offset + self.limit) as usize
    }
}

fn parse_bounded(raw: Option<&str>, default: u32, min: u32, max: u32) -> Result<u32, String> {
    let Some(raw) = raw else { return Ok(default) };
    let value: i64 = raw
        .trim()
        .parse()
        .map_err(|_| format!("must be an integer from {min} to {max}"))?;
    if value < i64::from(min) || value > i64::from(max) {
        return Err(format!("must be an integer from {min} to {max}"));
    }
    Ok(value as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_default_to_twenty_from_the_start() {
        assert_eq!(Page::parse(None, None).unwrap(), Page::default());
        assert_eq!(Page::default().limit, 20);
    }

    #[test]
    fn pages_reject_negative_non_numeric_and_absurd_values() {
        for (limit, offset) in [
            (Some("-1"), None),
            (Some("0"), None),
            (Some("abc"), None),
            (Some("101"), None),
            (None, Some("-5")),
            (None, Some("1e9")),
            (None, Some("99999999999999999999")),
        ] {
            assert!(Page::parse(limit, offset).is_err(), "{limit:?} {offset:?}");
        }
        let page = Page::parse(Some("5"), Some("10")).unwrap();
        assert_eq!((page.limit, page.offset, page.depth()), (5, 10, 15));
    }
}
