//! User-entered texts: names, addresses, passwords, article and profile texts, tags.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::limits;

fn blank() -> String {
    "can't be blank".into()
}

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

/// A display username: 1..=40 of `[A-Za-z0-9_.-]`; unique case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct Username(String);

parsed_from_string!(Username, |raw| Username::parse(Some(raw)));

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

    /// The form uniqueness is decided on.
    pub(crate) fn canonical(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    /// The username as the user typed it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, trimmed; unique case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct Email(String);

parsed_from_string!(Email, |raw| Email::parse(Some(raw)));

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

    /// The form uniqueness and login are decided on.
    pub(crate) fn canonical(&self) -> String {
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
    pub(crate) fn expose(&self) -> &str {
        use secrecy::ExposeSecret;
        self.0.expose_secret()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A PHC-format password hash (algorithm, parameters and salt included):
/// what is stored in place of a password, and never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct PasswordHashString(String);

parsed_from_string!(PasswordHashString, |raw| PasswordHashString::parse(raw)
    .ok_or_else(|| "is not a PHC string".to_owned()));

impl PasswordHashString {
    /// A PHC string (`$algorithm$...`), as a hasher writes it.
    pub fn parse(raw: &str) -> Option<Self> {
        let well_formed = raw.starts_with('$')
            && raw.len() > 1
            && !raw.chars().any(|c| c.is_whitespace() || c.is_control());
        well_formed.then(|| Self(raw.to_owned()))
    }

    /// The PHC string, for storage and verification.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHashString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHashString(<redacted>)")
    }
}

/// Declares a required text: trimmed, not blank, at most `max` of `measure`
/// (characters or bytes). `parse` (which deserialising calls) is the only way to make one.
macro_rules! required_text {
    ($(#[$meta:meta])* $name:ident, $max:expr, $measure:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(String);

        parsed_from_string!($name, |raw| $name::parse(Some(raw)));

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
#[serde(try_from = "String")]
pub struct Bio(String);

parsed_from_string!(Bio, |raw| Bio::parse(Some(raw))?.ok_or_else(blank));

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
#[serde(try_from = "String")]
pub struct ImageUrl(String);

parsed_from_string!(ImageUrl, |raw| ImageUrl::parse(Some(raw))?
    .ok_or_else(blank));

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
#[serde(try_from = "String")]
pub struct Tag(String);

parsed_from_string!(Tag, Tag::parse);

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
    fn deserialising_a_text_validates_it_as_parse_does() {
        let name: Username = serde_json::from_str("\"jake\"").unwrap();
        assert_eq!(name.as_str(), "jake");
        assert!(serde_json::from_str::<Username>("\"bad name\"").is_err());
        assert!(serde_json::from_str::<Email>("\"jake\"").is_err());
        assert!(serde_json::from_str::<Title>("\"  \"").is_err());
        assert!(serde_json::from_str::<Bio>("\"\"").is_err());
        assert!(serde_json::from_str::<ImageUrl>("\"javascript:alert(1)\"").is_err());
        assert!(serde_json::from_str::<Tag>(&format!("\"{}\"", "t".repeat(41))).is_err());
        assert_eq!(
            serde_json::from_str::<Tag>("\"rust\"").unwrap().as_str(),
            "rust"
        );
    }
}
