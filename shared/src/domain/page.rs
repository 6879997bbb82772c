//! Page selection for list endpoints.

use super::errors::ValidationErrors;
use super::ids::CommentId;
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

/// Which comments of an article a list shows: at most `limit` (default and
/// most [`limits::COMMENTS_MAX`]), newest first, older than `before` when
/// given. A list the size of the spec's examples comes whole in one page;
/// a long one costs no more to read than a full page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommentsPage {
    before: Option<CommentId>,
    limit: u32,
}

impl CommentsPage {
    /// Parses `before` and `limit` query parameters.
    pub fn parse(before: Option<&str>, limit: Option<&str>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let before = errors.check(
            "before",
            before
                .map(|raw| {
                    CommentId::parse(raw.trim()).ok_or_else(|| "must be a comment id".to_owned())
                })
                .transpose(),
        );
        let limit = errors.check(
            "limit",
            parse_bounded(limit, limits::COMMENTS_MAX, 1, limits::COMMENTS_MAX),
        );
        errors.finish(|| Self {
            before: before.flatten(),
            limit: limit.unwrap_or(limits::COMMENTS_MAX),
        })
    }

    /// Only comments older than this one.
    pub(crate) fn before(&self) -> Option<CommentId> {
        self.before
    }

    /// Comments to return, 1..=[`limits::COMMENTS_MAX`].
    pub(crate) fn limit(&self) -> u32 {
        self.limit
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
    fn comment_pages_default_to_the_newest_hundred_and_reject_what_names_no_comment() {
        let page = CommentsPage::parse(None, None).unwrap();
        assert_eq!((page.before(), page.limit()), (None, 100));
        let page = CommentsPage::parse(Some("42"), Some("5")).unwrap();
        assert_eq!(
            (page.before().map(CommentId::get), page.limit()),
            (Some(42), 5)
        );
        for (before, limit) in [
            (Some("0"), None),
            (Some("x"), None),
            (None, Some("101")),
            (None, Some("0")),
        ] {
            assert!(
                CommentsPage::parse(before, limit).is_err(),
                "{before:?} {limit:?}"
            );
        }
    }

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
