//! Domain types. Every value here was parsed from untrusted input once, at the
//! handler boundary; past that point an invalid username, email, slug or tag
//! cannot exist.

use std::collections::BTreeMap;
use std::fmt;

use rand::Rng;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Iso8601;
use time::macros::format_description;

/// Field limits, documented in `docs/data-model.md` ("Input limits").
pub mod limits {
    /// Usernames: 1..=40 characters of `[A-Za-z0-9_.-]`.
    pub const USERNAME_MAX: usize = 40;
    /// RFC 5321 caps a forward path at 254 characters.
    pub const EMAIL_MAX: usize = 254;
    /// Minimum password length (OWASP ASVS 2.1.1 asks for at least 8).
    pub const PASSWORD_MIN: usize = 8;
    /// Long passwords only cost hashing time; 128 is generous for passphrases.
    pub const PASSWORD_MAX: usize = 128;
    /// Profile bio.
    pub const BIO_MAX: usize = 1_000;
    /// Profile image URL.
    pub const IMAGE_MAX: usize = 2_048;
    /// Article title.
    pub const TITLE_MAX: usize = 200;
    /// Article description.
    pub const DESCRIPTION_MAX: usize = 1_000;
    /// Article body, in bytes: keeps an article item well under DynamoDB's 400 KB.
    pub const ARTICLE_BODY_MAX: usize = 100_000;
    /// Comment body, in bytes.
    pub const COMMENT_BODY_MAX: usize = 10_000;
    /// Tags per article: each costs two writes in the create transaction.
    pub const TAGS_MAX: usize = 10;
    /// Characters per tag.
    pub const TAG_MAX: usize = 40;
    /// Default page size.
    pub const LIMIT_DEFAULT: u32 = 20;
    /// Largest page size: bounds the keys of a page's single batch read.
    pub const LIMIT_MAX: u32 = 100;
    /// Deepest offset: offset pagination reads the skipped items, so it is capped.
    pub const OFFSET_MAX: u32 = 10_000;
    /// Largest request body accepted, in bytes.
    pub const REQUEST_BODY_MAX: usize = 256 * 1024;
}

/// Validation failures keyed by field, rendered as RealWorld's `{"errors": {...}}`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ValidationErrors(BTreeMap<String, Vec<String>>);

impl ValidationErrors {
    /// One failure on one field.
    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }

    /// Records a failure on `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_default().push(message.into());
    }

    /// Keeps the value of `result`, or records its error under `field`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.add(field, message)).ok()
    }

    /// Whether no failure was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing failed, else the collected failures.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Self> {
        if self.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }

    /// The failures, by field.
    pub fn fields(&self) -> &BTreeMap<String, Vec<String>> {
        &self.0
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (field, messages) in &self.0 {
            write!(f, "{field}: {}; ", messages.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

fn required(raw: Option<&str>) -> Result<&str, String> {
    match raw.map(str::trim) {
        None => Err("can't be blank".into()),
        Some("") => Err("can't be blank".into()),
        Some(value) => Ok(value),
    }
}

fn at_most(value: &str, max: usize) -> Result<&str, String> {
    if value.chars().count() > max {
        Err(format!("is too long (maximum is {max} characters)"))
    } else {
        Ok(value)
    }
}

fn at_most_bytes(value: &str, max: usize) -> Result<&str, String> {
    if value.len() > max {
        Err(format!("is too long (maximum is {max} bytes)"))
    } else {
        Ok(value)
    }
}

/// Generates a random lowercase base-36 identifier of `len` characters.
fn random_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A user's stable identifier (the JWT `sub`); usernames may change, this never does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    /// A fresh random id (16 base-36 characters, about 82 bits).
    pub fn generate() -> Self {
        Self(random_id(16))
    }

    /// Wraps an id read back from storage or a verified token.
    pub(crate) fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A display username: 1..=40 of `[A-Za-z0-9_.-]`; unique case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    /// Parses user input.
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        let value = at_most(required(raw)?, limits::USERNAME_MAX)?;
        if value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            Ok(Self(value.to_owned()))
        } else {
            Err("may only contain letters, digits, '_', '-' and '.'".into())
        }
    }

    #[cfg(test)]
    /// Wraps a username read back from storage.
    pub(crate) fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    /// The form uniqueness is decided on.
    pub fn canonical(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    /// The username as the user typed it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, trimmed; unique case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Parses user input: one `@`, a non-empty local part, a dotted domain, no spaces.
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        let value = at_most(required(raw)?, limits::EMAIL_MAX)?;
        let valid = match value.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !value.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err("is invalid".into())
        }
    }

    #[cfg(test)]
    /// Wraps an address read back from storage.
    pub(crate) fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    /// The form uniqueness and login are decided on.
    pub fn canonical(&self) -> String {
        self.0.to_lowercase()
    }

    /// The address as the user typed it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A plaintext password that passed the length policy; never logged or stored.
pub struct Password(secrecy::SecretString);

impl Password {
    /// Parses user input; surrounding spaces are significant and kept.
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        let value = raw.ok_or_else(|| "can't be blank".to_string())?;
        let length = value.chars().count();
        if value.trim().is_empty() {
            Err("can't be blank".into())
        } else if length < limits::PASSWORD_MIN {
            Err(format!(
                "is too short (minimum is {} characters)",
                limits::PASSWORD_MIN
            ))
        } else if length > limits::PASSWORD_MAX {
            Err(format!(
                "is too long (maximum is {} characters)",
                limits::PASSWORD_MAX
            ))
        } else {
            Ok(Self(value.to_owned().into()))
        }
    }

    /// The secret itself, for hashing or verifying.
    pub fn expose(&self) -> &str {
        use secrecy::ExposeSecret;
        self.0.expose_secret()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Declares a required text: trimmed, not blank, at most `max` of `measure`
/// (characters or bytes). `parse` is the only way to make one.
macro_rules! required_text {
    ($(#[$meta:meta])* $name:ident, $max:expr, $measure:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses user input: trimmed, not blank, within the limit.
            pub fn parse(raw: Option<&str>) -> Result<Self, String> {
                Ok(Self($measure(required(raw)?, $max)?.to_owned()))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

required_text!(
    /// An article's title, up to 200 characters; its slug is derived from it.
    Title,
    limits::TITLE_MAX,
    at_most
);
required_text!(
    /// An article's one-line description, up to 1,000 characters.
    Description,
    limits::DESCRIPTION_MAX,
    at_most
);
required_text!(
    /// An article's Markdown body, up to 100,000 bytes (stored apart from the article).
    ArticleText,
    limits::ARTICLE_BODY_MAX,
    at_most_bytes
);
required_text!(
    /// A comment's text, up to 10,000 bytes.
    CommentText,
    limits::COMMENT_BODY_MAX,
    at_most_bytes
);

/// An optional profile text: `null` or an empty string clears it.
fn optional_text(raw: Option<&str>, max: usize) -> Result<Option<String>, String> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => at_most(value, max).map(|v| Some(v.to_owned())),
    }
}

/// A profile bio, up to 1,000 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Bio(String);

impl Bio {
    /// Parses user input: `None` (clear the bio) for `null`, empty or blank.
    pub fn parse(raw: Option<&str>) -> Result<Option<Self>, String> {
        Ok(optional_text(raw, limits::BIO_MAX)?.map(Self))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A profile image: an absolute http(s) URL of up to 2,048 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ImageUrl(String);

impl ImageUrl {
    /// Parses user input: `None` (clear the image) for `null`, empty or blank.
    pub fn parse(raw: Option<&str>) -> Result<Option<Self>, String> {
        let Some(url) = optional_text(raw, limits::IMAGE_MAX)? else {
            return Ok(None);
        };
        if !(url.starts_with("https://") || url.starts_with("http://"))
            || url.chars().any(char::is_whitespace)
        {
            return Err("must be an http(s) URL".into());
        }
        Ok(Some(Self(url)))
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tag: trimmed, lowercased, 1..=40 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Tag(String);

impl Tag {
    /// Parses user input; case is folded so `Rust` and `rust` are one tag.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = raw.trim();
        if value.is_empty() {
            return Err("can't contain blank tags".into());
        }
        if value.chars().count() > limits::TAG_MAX {
            return Err(format!(
                "tags are at most {} characters long",
                limits::TAG_MAX
            ));
        }
        if value.chars().any(char::is_control) {
            return Err("tags can't contain control characters".into());
        }
        Ok(Self(value.to_lowercase()))
    }

    #[cfg(test)]
    /// Wraps a tag read back from storage.
    pub(crate) fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    /// The tag as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parses a tag list: each tag normalised, duplicates dropped, sorted, at most ten.
pub fn parse_tag_list(raw: Option<&[String]>) -> Result<Vec<Tag>, String> {
    let mut tags = raw
        .unwrap_or_default()
        .iter()
        .map(|t| Tag::parse(t))
        .collect::<Result<Vec<_>, _>>()?;
    tags.sort();
    tags.dedup();
    if tags.len() > limits::TAGS_MAX {
        return Err(format!("can have at most {} tags", limits::TAGS_MAX));
    }
    Ok(tags)
}

/// An article's stable id: 12 base-36 characters, the tail of every slug it ever has.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ArticleId(String);

impl ArticleId {
    /// Length of an article id.
    pub const LEN: usize = 12;

    /// A fresh random id (about 62 bits; creation is conditional, so a clash retries).
    pub fn generate() -> Self {
        Self(random_id(Self::LEN))
    }

    /// Wraps an id read back from storage.
    pub(crate) fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ArticleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A slug: the title made URL-safe, then `-`, then the article id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    /// Longest title part kept in a slug.
    const TITLE_PART_MAX: usize = 80;

    /// The slug for `title` on article `id`: lowercase ASCII words joined by `-`.
    pub fn new(title: &str, id: &ArticleId) -> Self {
        let mut words = slug::slugify(title);
        if words.len() > Self::TITLE_PART_MAX {
            let cut = words[..Self::TITLE_PART_MAX]
                .rfind('-')
                .unwrap_or(Self::TITLE_PART_MAX);
            words.truncate(cut);
        }
        if words.is_empty() {
            Self(id.as_str().to_owned())
        } else {
            Self(format!("{words}-{}", id.as_str()))
        }
    }

    /// Parses a slug from a path: `None` when it cannot name any article.
    pub fn parse(raw: &str) -> Option<(Self, ArticleId)> {
        let id = raw.rsplit('-').next()?;
        let well_formed = id.len() == ArticleId::LEN
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
            && raw.len() <= Self::TITLE_PART_MAX + 1 + ArticleId::LEN;
        well_formed.then(|| (Self(raw.to_owned()), ArticleId(id.to_owned())))
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A comment's id: a positive integer, unique within its article (the spec
/// wants integers), handed out by a per-article counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CommentId(u64);

impl CommentId {
    /// Parses a path parameter: digits naming a positive integer.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        raw.parse().ok().filter(|id| *id > 0).map(Self)
    }

    /// The id the per-article counter handed out as `value` (storage only).
    pub(crate) fn from_counter(value: u64) -> Self {
        Self(value)
    }

    /// The id as a number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for CommentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Page selection for list endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Items to return, 1..=100.
    pub limit: u32,
    /// Items to skip, 0..=10000.
    pub offset: u32,
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

    /// Items that must be read to serve this page: the skipped ones and the page.
    pub fn depth(&self) -> usize {
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
    pub fn unix_seconds(&self) -> i64 {
        self.0.unix_timestamp()
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(&self) -> i64 {
        (self.0.unix_timestamp_nanos() / 1_000_000) as i64
    }

    /// The instant `duration` earlier (tests of expiry look back from now).
    pub fn before(&self, duration: std::time::Duration) -> Self {
        Self(self.0 - duration)
    }

    /// Renders the instant.
    pub fn render(&self) -> String {
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
    fn usernames_allow_letters_digits_and_a_few_separators() {
        assert_eq!(
            Username::parse(Some(" celeb_u1.x-y ")).unwrap().as_str(),
            "celeb_u1.x-y"
        );
        assert!(Username::parse(Some("bad name")).is_err());
        assert!(Username::parse(Some("   ")).is_err());
        assert!(Username::parse(None).is_err());
        assert!(Username::parse(Some(&"a".repeat(41))).is_err());
    }

    #[test]
    fn usernames_are_unique_case_insensitively() {
        assert_eq!(Username::parse(Some("Jake")).unwrap().canonical(), "jake");
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(Email::parse(Some("jake@jake.jake")).is_ok());
        for bad in [
            "jake", "@x.io", "jake@", "jake@io", "a b@x.io", "a@b@x.io", "a@.io",
        ] {
            assert!(Email::parse(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(
            Email::parse(Some("Jake@Jake.IO")).unwrap().canonical(),
            "jake@jake.io"
        );
    }

    #[test]
    fn passwords_are_bounded_and_never_printed() {
        assert!(Password::parse(Some("short")).is_err());
        assert!(Password::parse(Some("        ")).is_err());
        assert!(Password::parse(Some(&"x".repeat(129))).is_err());
        let password = Password::parse(Some("correct horse")).unwrap();
        assert_eq!(format!("{password:?}"), "Password(<redacted>)");
    }

    #[test]
    fn images_must_be_http_urls_and_empty_clears_them() {
        assert_eq!(ImageUrl::parse(Some("")).unwrap(), None);
        assert_eq!(ImageUrl::parse(None).unwrap(), None);
        assert!(ImageUrl::parse(Some("javascript:alert(1)")).is_err());
        assert!(
            ImageUrl::parse(Some("https://x.io/a.png"))
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn texts_are_trimmed_required_and_bounded() {
        assert_eq!(Title::parse(Some("  Hi ")).unwrap().as_str(), "Hi");
        assert_eq!(Title::parse(Some(" ")).unwrap_err(), "can't be blank");
        assert!(Title::parse(Some(&"x".repeat(201))).is_err());
        assert!(Description::parse(None).is_err());
        assert!(ArticleText::parse(Some(&"é".repeat(50_001))).is_err());
        assert!(CommentText::parse(Some("ok")).is_ok());
        assert_eq!(Bio::parse(Some("  ")).unwrap(), None);
        assert!(Bio::parse(Some(&"b".repeat(1001))).is_err());
    }

    #[test]
    fn comment_ids_are_positive_integers() {
        assert_eq!(CommentId::parse("42").map(CommentId::get), Some(42));
        for bad in ["", "0", "-1", "+1", "1.0", "x", "99999999999999999999999"] {
            assert!(CommentId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn tag_lists_are_trimmed_lowercased_deduplicated_and_sorted() {
        let raw = vec![
            " Training ".to_string(),
            "dragons".into(),
            "training".into(),
        ];
        let tags = parse_tag_list(Some(&raw)).unwrap();
        let tags: Vec<_> = tags.iter().map(Tag::as_str).collect();
        assert_eq!(tags, ["dragons", "training"]);
    }

    #[test]
    fn tag_lists_reject_blank_tags_and_too_many_tags() {
        assert!(parse_tag_list(Some(&[" ".to_string()])).is_err());
        let many: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
        assert!(parse_tag_list(Some(&many)).is_err());
        assert!(parse_tag_list(None).unwrap().is_empty());
    }

    #[test]
    fn slugs_derive_from_the_title_and_end_with_the_article_id() {
        let id = ArticleId::from_trusted("abcdefghijk0".into());
        let slug = Slug::new("How to train your Dragon?!", &id);
        assert_eq!(slug.as_str(), "how-to-train-your-dragon-abcdefghijk0");
        assert_eq!(Slug::parse(slug.as_str()).unwrap().1, id);
        assert_eq!(Slug::new("!?!", &id).as_str(), "abcdefghijk0");
        assert_eq!(
            Slug::new("Ça marche", &id).as_str(),
            "ca-marche-abcdefghijk0"
        );
    }

    #[test]
    fn slugs_that_cannot_name_an_article_do_not_parse() {
        assert!(Slug::parse("how-to-train").is_none());
        assert!(Slug::parse("x-ABCDEFGHIJK0").is_none());
        assert!(Slug::parse(&format!("{}-abcdefghijk0", "a".repeat(200))).is_none());
    }

    #[test]
    fn long_titles_are_cut_at_a_word_boundary() {
        let id = ArticleId::generate();
        let slug = Slug::new(&"word ".repeat(40), &id);
        assert!(slug.as_str().len() <= 80 + 13);
        assert!(Slug::parse(slug.as_str()).is_some());
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

    #[test]
    fn timestamps_render_in_utc_with_milliseconds_and_round_trip() {
        let now = Timestamp::now();
        let text = now.render();
        assert_eq!(text.len(), 24, "{text}");
        assert!(text.ends_with('Z'));
        assert_eq!(Timestamp::parse(&text), Some(now));
    }

    #[test]
    fn validation_errors_collect_every_field() {
        let mut errors = ValidationErrors::default();
        assert_eq!(errors.check("a", Ok::<_, String>(1)), Some(1));
        errors.check::<()>("b", Err("is bad".into()));
        errors.add("b", "is worse");
        assert_eq!(errors.fields()["b"], ["is bad", "is worse"]);
        assert!(errors.finish(|| ()).is_err());
    }
}
