//! Field limits, documented in `docs/data-model.md` ("Input limits").

/// Usernames: 1..=40 characters of `[A-Za-z0-9_.-]`.
pub(crate) const USERNAME_MAX: usize = 40;
/// RFC 5321 caps a forward path at 254 characters.
pub(crate) const EMAIL_MAX: usize = 254;
/// Minimum password length (OWASP ASVS 2.1.1 asks for at least 8).
pub(crate) const PASSWORD_MIN: usize = 8;
/// Long passwords only cost hashing time; 128 is generous for passphrases.
pub(crate) const PASSWORD_MAX: usize = 128;
/// Profile bio.
pub(crate) const BIO_MAX: usize = 1_000;
/// Profile image URL.
pub(crate) const IMAGE_MAX: usize = 2_048;
/// Article title.
pub(crate) const TITLE_MAX: usize = 200;
/// Article description.
pub(crate) const DESCRIPTION_MAX: usize = 1_000;
/// Article body, in bytes: keeps an article item well under DynamoDB's 400 KB.
pub(crate) const ARTICLE_BODY_MAX: usize = 100_000;
/// Comment body, in bytes.
pub(crate) const COMMENT_BODY_MAX: usize = 10_000;
/// Tags per article: each costs two writes in the create transaction.
pub(crate) const TAGS_MAX: usize = 10;
/// Characters per tag.
pub(crate) const TAG_MAX: usize = 40;
/// Default page size.
pub(crate) const LIMIT_DEFAULT: u32 = 20;
/// Largest page size: bounds the keys of a page's single batch read.
pub(crate) const LIMIT_MAX: u32 = 100;
/// Deepest offset: offset pagination reads the skipped items, so it is capped.
pub(crate) const OFFSET_MAX: u32 = 10_000;
/// Comments in one page of an article's list (default and most): bounds
/// what one listing reads, whatever the article holds.
pub(crate) const COMMENTS_MAX: u32 = 100;
/// Largest request body accepted, in bytes.
pub(crate) const REQUEST_BODY_MAX: usize = 256 * 1024;
