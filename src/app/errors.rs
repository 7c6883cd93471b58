//! What a use case answers when it does not succeed: one error type for both interfaces
//! (pages render it, the API answers problem details).

/// Messages to show next to fields; `_form` is the whole form. A field has one message, or,
/// for a list typed in one field (IDs, codes), one per kind of mistake, each naming the values
/// it is about.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(
    Vec<(String, &'static str)>,
    Vec<(String, &'static str, String)>,
);

/// How many values a message names at most.
const NAMED: usize = 5;

impl FieldErrors {
    /// Records an error for a field (the first one per field is shown).
    pub fn add(&mut self, field: impl Into<String>, key: &'static str) {
        let field = field.into();
        if self.get(&field).is_none() {
            self.0.push((field, key));
        }
    }

    /// Records an error about `value` in a field that lists values: each kind of mistake
    /// (`key`) is a message of its own, naming its values (the first few, each once).
    pub fn add_named(&mut self, field: impl Into<String>, key: &'static str, value: &str) {
        let field = field.into();
        if !self.0.iter().any(|(f, k)| *f == field && *k == key) {
            self.0.push((field.clone(), key));
        }
        let named = self.1.iter().filter(|(f, k, _)| *f == field && *k == key);
        if named.clone().count() <= NAMED && !named.clone().any(|(_, _, v)| v == value) {
            self.1.push((field, key, value.to_string()));
        }
    }

    /// A field's messages: each key with the values it names joined by `sep` (empty when it
    /// names none; more than [`NAMED`]: the first ones and `…`).
    pub fn messages(&self, field: &str, sep: &str) -> Vec<(&'static str, String)> {
        self.0
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, key)| {
                let mut v: Vec<&str> = self
                    .1
                    .iter()
                    .filter(|(f, k, _)| f == field && k == key)
                    .map(|(_, _, v)| v.as_str())
                    .collect();
                if v.len() > NAMED {
                    v.truncate(NAMED);
                    v.push("…");
                }
                (*key, v.join(sep))
            })
            .collect()
    }

    /// The locale key of a field's (first) error.
    pub fn get(&self, field: &str) -> Option<&'static str> {
        self.0.iter().find(|(f, _)| f == field).map(|(_, k)| *k)
    }

    /// The locale key of the error of field `{a}.{b}` (for per-item fields).
    pub fn get_at(&self, a: &str, b: &str) -> Option<&'static str> {
        self.0
            .iter()
            .find(|(f, _)| {
                f.len() == a.len() + 1 + b.len()
                    && f.starts_with(a)
                    && f.ends_with(b)
                    && f.as_bytes()[a.len()] == b'.'
            })
            .map(|(_, k)| *k)
    }

    /// How many fields have an error (the whole form's own error not counted).
    pub fn field_count(&self) -> usize {
        let mut fields: Vec<&str> = self
            .0
            .iter()
            .map(|(f, _)| f.as_str())
            .filter(|f| *f != "_form")
            .collect();
        fields.sort_unstable();
        fields.dedup();
        fields.len()
    }

    /// Every (field, locale key), in the order recorded.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &'static str)> {
        self.0.iter().map(|(f, k)| (f.as_str(), *k))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Takes the value or records the error.
    pub fn take<T>(&mut self, field: impl Into<String>, r: Result<T, &'static str>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(k) => {
                self.add(field, k);
                None
            }
        }
    }

    /// A new password typed twice (fields `password` and `password_confirm`): a mismatch is
    /// told next to the second field, any other problem next to the first.
    pub fn take_new_password(
        &mut self,
        password: &str,
        confirm: &str,
    ) -> Option<crate::domain::password::NewPassword> {
        use crate::domain::password::{NewPassword, PasswordProblem};
        match NewPassword::parse(password, confirm) {
            Ok(p) => Some(p),
            Err(PasswordProblem::Mismatch) => {
                self.add("password_confirm", PasswordProblem::Mismatch.key());
                None
            }
            Err(p) => {
                self.add("password", p.key());
                None
            }
        }
    }
}

/// Why a use case did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The thing does not exist or is outside the actor's scope (never tells which).
    #[error("not found")]
    NotFound,
    /// The actor's role may not do this.
    #[error("forbidden")]
    Forbidden,
    /// The input is wrong; the messages say where.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// The thing is not in a state that allows it (decided already, not a draft, ...); the
    /// locale key says which.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// Larger than a limit allows.
    #[error("too large")]
    TooLarge,
    /// The database did not answer in time.
    #[error("database unavailable")]
    Unavailable,
    /// The disk is full.
    #[error("storage full")]
    StorageFull,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// One field's error.
    pub fn field(field: &str, key: &'static str) -> Error {
        let mut errors = FieldErrors::default();
        errors.add(field, key);
        Error::Invalid(errors)
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if crate::db::is_unavailable(&e) {
            Error::Unavailable
        } else if crate::db::is_storage_full(&e) {
            Error::StorageFull
        } else {
            Error::Internal(e.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_mistake_in_a_list_is_a_message_naming_its_values_once() {
        let mut e = FieldErrors::default();
        e.add_named("ids", "error.user_id_duplicate", "X1");
        e.add_named("ids", "error.user_id_duplicate", "X2");
        e.add_named("ids", "error.user_id_duplicate", "X1");
        e.add_named("ids", "error.user_id_invalid", "Y");
        assert_eq!(e.get("ids"), Some("error.user_id_duplicate"));
        assert_eq!(
            e.messages("ids", "、"),
            [
                ("error.user_id_duplicate", "X1、X2".to_string()),
                ("error.user_id_invalid", "Y".to_string())
            ]
        );
        assert_eq!(e.field_count(), 1, "one field, two messages");
        for i in 0..10 {
            e.add_named("many", "error.user_id_duplicate", &format!("V{i}"));
        }
        assert_eq!(
            e.messages("many", ","),
            [("error.user_id_duplicate", "V0,V1,V2,V3,V4,…".to_string())]
        );
        e.add("plain", "error.required");
        e.add("plain", "error.too_long");
        assert_eq!(
            e.messages("plain", ","),
            [("error.required", String::new())]
        );
        assert_eq!(e.field_count(), 3);
    }
}
