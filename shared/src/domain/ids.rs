//! Identifiers: users, articles (and their slugs), comments.

use std::fmt;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::instant::Timestamp;

/// Whether `raw` is `len` lowercase base-36 characters, as [`random_id`] makes them.
fn is_id(raw: &str, len: usize) -> bool {
    raw.len() == len
        && raw
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
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
#[serde(try_from = "String")]
pub struct UserId(String);

parsed_from_string!(UserId, |raw| UserId::parse(raw)
    .ok_or_else(|| "is not a user id".to_owned()));

impl UserId {
    /// Length of a user id.
    const LEN: usize = 16;

    /// A fresh random id (16 base-36 characters, about 82 bits).
    pub fn generate() -> Self {
        Self(random_id(Self::LEN))
    }

    /// Parses an id (a token's `sub`, a stored attribute): `None` unless it
    /// is one [`UserId::generate`] could have made.
    pub fn parse(raw: &str) -> Option<Self> {
        is_id(raw, Self::LEN).then(|| Self(raw.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user's session epoch. A token carries its user's epoch from when it was
/// issued (`sv`); ending sessions (a password change, a sign-out everywhere)
/// moves the user's epoch on, so every token issued before stops working at
/// once, however long it has left to run (but the kept session's, see
/// [`crate::domain::User::admits`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionEpoch(u32);

impl SessionEpoch {
    /// A new user's epoch.
    pub const FIRST: Self = Self(0);

    /// The epoch after this one.
    pub fn next(self) -> Self {
        Self(self.0.wrapping_add(1))
    }

    /// The epoch as a number (stored on the user item).
    pub(crate) fn get(self) -> u32 {
        self.0
    }
}

/// One session: what a login (or a registration) starts. Every token of it
/// carries its id (`sid`), tokens it is given later (after a password
/// change) included.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct SessionId(String);

parsed_from_string!(SessionId, |raw| SessionId::parse(raw)
    .ok_or_else(|| "is not a session id".to_owned()));

impl SessionId {
    /// Length of a session id.
    const LEN: usize = 16;

    /// A fresh random id (about 82 bits): a login's session.
    pub fn generate() -> Self {
        Self(random_id(Self::LEN))
    }

    /// The session a registration starts. Ids need only be unique among
    /// one user's sessions, and a user registers once; a fixed id keeps the
    /// registration's token the same when an idempotent replay signs it again.
    pub fn registration() -> Self {
        Self("0".repeat(Self::LEN))
    }

    /// Parses an id: `None` unless it is one [`SessionId::generate`] could have made.
    pub fn parse(raw: &str) -> Option<Self> {
        is_id(raw, Self::LEN).then(|| Self(raw.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The session a token belongs to: its id, and its user's epoch when issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// `sid`.
    pub id: SessionId,
    /// `sv`.
    pub epoch: SessionEpoch,
}

impl Session {
    /// A new user's session: the one their registration starts.
    pub fn first() -> Self {
        Self {
            id: SessionId::registration(),
            epoch: SessionEpoch::FIRST,
        }
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An article's stable id: 12 base-36 characters, the tail of every slug it ever has.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct ArticleId(String);

parsed_from_string!(ArticleId, |raw| ArticleId::parse(raw)
    .ok_or_else(|| "is not an article id".to_owned()));

impl ArticleId {
    /// Length of an article id.
    pub(crate) const LEN: usize = 12;

    /// A fresh random id (about 62 bits). Creation is conditional: a clash
    /// writes nothing and is answered 503, so the client's retry gets a new id.
    pub fn generate() -> Self {
        Self(random_id(Self::LEN))
    }

    /// Parses an id (the tail of a slug or of an index sort key): `None`
    /// unless it is one [`ArticleId::generate`] could have made.
    pub fn parse(raw: &str) -> Option<Self> {
        is_id(raw, Self::LEN).then(|| Self(raw.to_owned()))
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
#[serde(try_from = "String")]
pub struct Slug(String);

parsed_from_string!(Slug, |raw| Slug::parse(raw)
    .map(|(slug, _)| slug)
    .ok_or_else(|| "is not a slug".to_owned()));

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
        let id = ArticleId::parse(raw.rsplit('-').next()?)?;
        (raw.len() <= Self::TITLE_PART_MAX + 1 + ArticleId::LEN).then(|| (Self(raw.to_owned()), id))
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A comment's id: a positive integer (the spec wants integers), unique
/// within its article, drawn from the comment's creation time (see
/// [`CommentId::at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u64")]
pub struct CommentId(u64);

impl TryFrom<u64> for CommentId {
    type Error = String;
    /// A stored id: zero is no comment id.
    fn try_from(value: u64) -> Result<Self, String> {
        (value > 0)
            .then_some(Self(value))
            .ok_or_else(|| "is not a comment id".to_owned())
    }
}

/// Milliseconds from the Unix epoch to 2024-01-01T00:00:00Z, where the
/// clock in comment ids starts.
const COMMENT_EPOCH_MS: i64 = 1_704_067_200_000;

/// Random low bits of a comment id: two comments on one article in the same
/// millisecond clash with a chance of 1 in 4,096.
const COMMENT_RANDOM_BITS: u32 = 12;

/// Comment ids stay below 2^53, so JavaScript clients read them exactly.
const COMMENT_ID_LIMIT: u64 = 1 << 53;

impl CommentId {
    /// The id of a comment written at `at`: milliseconds since 2024 above
    /// 12 random bits. Ids sort by time and need no counter, so concurrent
    /// comments share no item to contend on; they stay below 2^53 until 2093.
    /// The write is conditional on the id being free: a clash writes nothing
    /// and is answered 503, and the client's retry draws again.
    pub(crate) fn at(at: &Timestamp) -> Self {
        let millis = (at.unix_millis() - COMMENT_EPOCH_MS).max(0) as u64;
        let random = rand::rng().random_range(0..1u64 << COMMENT_RANDOM_BITS);
        // Plus one: the epoch's first millisecond would otherwise allow 0.
        let id = ((millis << COMMENT_RANDOM_BITS) | random) + 1;
        Self(id.min(COMMENT_ID_LIMIT - 1))
    }

    /// Parses a path parameter: digits naming a positive integer.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        raw.parse().ok().filter(|id| *id > 0).map(Self)
    }

    /// The id as a number.
    pub(crate) fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for CommentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn comment_ids_are_positive_below_two_to_the_53_and_sort_by_time(
            a in 0i64..2_000_000_000_000, gap in 1i64..1_000_000
        ) {
            let at = |ms: i64| Timestamp::from_unix_millis(COMMENT_EPOCH_MS + ms);
            let (first, later) = (CommentId::at(&at(a)), CommentId::at(&at(a + gap)));
            proptest::prop_assert!(first.get() > 0 && later.get() < COMMENT_ID_LIMIT);
            proptest::prop_assert!(first < later, "{first} then {later}");
        }
    }

    #[test]
    fn a_comment_id_drawn_before_2024_is_still_a_comment_id() {
        let id = CommentId::at(&Timestamp::from_unix_millis(0));
        assert!(CommentId::try_from(id.get()).is_ok());
    }

    #[test]
    fn comment_ids_are_positive_integers() {
        assert_eq!(CommentId::parse("42").map(CommentId::get), Some(42));
        for bad in ["", "0", "-1", "+1", "1.0", "x", "99999999999999999999999"] {
            assert!(CommentId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn slugs_derive_from_the_title_and_end_with_the_article_id() {
        let id = ArticleId::parse("abcdefghijk0").unwrap();
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
        let title = "Lambda functions start cold and then stay warm ".repeat(5);
        let slug = Slug::new(&title, &id);
        let words = slug.as_str().strip_suffix(&format!("-{id}")).unwrap();
        let full = slug::slugify(&title);
        assert!(words.len() <= Slug::TITLE_PART_MAX, "{words}");
        assert!(full.starts_with(words));
        assert_eq!(
            full.as_bytes()[words.len()],
            b'-',
            "cut inside a word: {words}"
        );
        // The next whole word would not have fitted.
        let rest = &full[words.len() + 1..];
        let next_end = words.len() + 1 + rest.find('-').unwrap_or(rest.len());
        assert!(next_end > Slug::TITLE_PART_MAX, "{words}");
        assert!(Slug::parse(slug.as_str()).is_some());
    }

    #[test]
    fn deserialising_an_id_validates_it() {
        let id: UserId = serde_json::from_str("\"0123456789abcdef\"").unwrap();
        assert_eq!(id.as_str(), "0123456789abcdef");
        for bad in [
            "\"\"",
            "\"short\"",
            "\"0123456789ABCDEF\"",
            "\"0123456789abcdef0\"",
        ] {
            assert!(serde_json::from_str::<UserId>(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<ArticleId>("\"abcdefghijk0\"").is_ok());
        assert!(serde_json::from_str::<ArticleId>("\"abcdefghijk\"").is_err());
        assert!(serde_json::from_str::<Slug>("\"x-abcdefghijk0\"").is_ok());
        assert!(serde_json::from_str::<Slug>("\"no-id\"").is_err());
        assert!(serde_json::from_str::<CommentId>("0").is_err());
        assert_eq!(serde_json::from_str::<CommentId>("7").unwrap().get(), 7);
    }
}
