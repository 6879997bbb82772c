//! Validation failures, collected per field.

use std::collections::BTreeMap;
use std::fmt;

/// Validation failures keyed by field, rendered as RealWorld's `{"errors": {...}}`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ValidationErrors(BTreeMap<String, Vec<String>>);

impl ValidationErrors {
    /// One failure on one field.
    pub(crate) fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }

    /// Records a failure on `field`.
    pub(crate) fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_default().push(message.into());
    }

    /// Keeps the value of `result`, or records its error under `field`.
    pub(crate) fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.add(field, message)).ok()
    }

    /// Whether no failure was recorded.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing failed, else the collected failures.
    pub(crate) fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Self> {
        if self.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }

    /// The failures, by field.
    pub(crate) fn fields(&self) -> &BTreeMap<String, Vec<String>> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
